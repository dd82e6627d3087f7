package sim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
)

// TestConfirmTargets confirms each kind of target and checks the fields.
func TestConfirmTargets(t *testing.T) {
	e := newEnv(t, nil)
	pid, oid := e.payOK(1000)
	fid, f := e.refund(oid, 250)
	ok(t, f, fid)
	refusedRefund, rr := e.refund(oid, 5000)
	ok(t, rr, refusedRefund)
	require.Equal(t, paytree.E3002, rr.code())
	did, d := e.deposit("LINE", 3000)
	ok(t, d, did)
	vid, v := e.reverseByRequest(did)
	ok(t, v, vid)
	refusedPay, rp := e.pay("PAYPAY", classCode(5), 10)
	ok(t, rp, refusedPay)

	t.Run("pay", func(t *testing.T) {
		c := e.confirmOK(pid, false)
		assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
		assert.Equal(t, oid, c.get(paytree.FOrderID))
		assert.Equal(t, paytree.StatusPartiallyRefunded.Wire(), c.get(paytree.FTransStatus), "the current status")
		assert.Equal(t, "1000", c.get(paytree.FAmount))
		assert.Equal(t, "PAYPAY", c.get(paytree.FPayType))
		assert.NotEmpty(t, c.get(paytree.FTransTime))
	})
	t.Run("refund", func(t *testing.T) {
		c := e.confirmOK(fid, false)
		assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
		assert.Equal(t, oid, c.get(paytree.FOrderID))
		assert.Equal(t, "250", c.get(paytree.FRefundAmount))
		assert.Equal(t, "250", c.get(paytree.FRefundedTotal))
		assert.Equal(t, paytree.StatusPartiallyRefunded.Wire(), c.get(paytree.FTransStatus))
		assert.Equal(t, f.get(paytree.FTransTime), c.get(paytree.FTransTime))
	})
	t.Run("refused refund", func(t *testing.T) {
		c := e.confirmOK(refusedRefund, false)
		assert.Equal(t, paytree.E3002, c.get(paytree.FTargetResultCode))
		assert.Equal(t, oid, c.get(paytree.FOrderID), "an order exists")
		assert.Equal(t, paytree.StatusPartiallyRefunded.Wire(), c.get(paytree.FTransStatus))
	})
	t.Run("deposit", func(t *testing.T) {
		c := e.confirmOK(did, false)
		assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
		assert.Equal(t, d.get(paytree.FOrderID), c.get(paytree.FOrderID))
		assert.Equal(t, paytree.StatusReversed.Wire(), c.get(paytree.FTransStatus), "reversed since")
		assert.Equal(t, "3000", c.get(paytree.FAmount))
	})
	t.Run("reverse", func(t *testing.T) {
		c := e.confirmOK(vid, false)
		assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
		assert.Equal(t, d.get(paytree.FOrderID), c.get(paytree.FOrderID))
		assert.Equal(t, "7", c.get(paytree.FTransStatus))
		assert.Equal(t, "3000", c.get(paytree.FAmount))
	})
	t.Run("refused pay", func(t *testing.T) {
		c := e.confirmOK(refusedPay, false)
		assert.Equal(t, paytree.E2003, c.get(paytree.FTargetResultCode))
		assert.Empty(t, c.get(paytree.FOrderID), "no order")
		assert.Empty(t, c.get(paytree.FTransStatus))
	})
	t.Run("unknown", func(t *testing.T) {
		cid, c := e.confirm("never-sent", false)
		ok(t, c, cid)
		assert.Equal(t, paytree.E3001, c.code())
	})
	t.Run("a confirm", func(t *testing.T) {
		cid, c := e.confirm(pid, false)
		ok(t, c, cid)
		xid, x := e.confirm(cid, false)
		ok(t, x, xid)
		assert.Equal(t, paytree.E3001, x.code())
	})
	t.Run("orderId mismatch", func(t *testing.T) {
		cid := e.id()
		c := e.post(paths.Confirm, e.with(cid, map[string]string{paytree.FTargetRequestID: pid, paytree.FOrderID: "PT000OTHER"}))
		ok(t, c, cid)
		assert.Equal(t, paytree.E3001, c.code())
		cid = e.id()
		c = e.post(paths.Confirm, e.with(cid, map[string]string{paytree.FTargetRequestID: pid, paytree.FOrderID: oid}))
		ok(t, c, cid)
		assert.Equal(t, paytree.CodeOK, c.code())
	})
	t.Run("another terminal", func(t *testing.T) {
		e.terminal = otherTerminalID
		defer func() { e.terminal = testTerminalID }()
		cid, c := e.confirm(pid, false)
		ok(t, c, cid)
		assert.Equal(t, paytree.E3001, c.code())
	})
	t.Run("replayed confirm repeats its first answer", func(t *testing.T) {
		cid := e.id()
		req := e.with(cid, map[string]string{paytree.FTargetRequestID: pid})
		first := ok(t, e.post(paths.Confirm, req), cid)
		_, more := e.refund(oid, 750)
		require.Equal(t, paytree.CodeOK, more.code())
		again := ok(t, e.post(paths.Confirm, req), cid)
		assert.Equal(t, first.get(paytree.FTransStatus), again.get(paytree.FTransStatus), "first answer, not the current status")
		fresh := e.confirmOK(pid, false)
		assert.Equal(t, paytree.StatusRefunded.Wire(), fresh.get(paytree.FTransStatus))
	})
}

// TestConfirmPaths: a V1 pay is confirmed on ConfirmV1, every other target
// on Confirm; the wrong path is E1001.
func TestConfirmPaths(t *testing.T) {
	e := newEnv(t, nil)
	v1, a := e.payV1("361234", 100)
	ok(t, a, v1)
	v3, _ := e.payOK(100)
	_, oid := e.payOK(100)
	fid, f := e.refund(oid, 10)
	ok(t, f, fid)
	refusedV1, r := e.payV1("00", 100)
	ok(t, r, refusedV1)
	tests := []struct {
		name, target string
		onV1         bool
		want         string
	}{
		{"V1 pay on V1", v1, true, paytree.CodeOK},
		{"V1 pay on V3", v1, false, paytree.E1001},
		{"V3 pay on V3", v3, false, paytree.CodeOK},
		{"V3 pay on V1", v3, true, paytree.E1001},
		{"refund on V1", fid, true, paytree.E1001},
		{"refused V1 pay on V1", refusedV1, true, paytree.CodeOK},
		{"refused V1 pay on V3", refusedV1, false, paytree.E1001},
		{"unknown on V1", "nope", true, paytree.E3001},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cid, c := e.confirm(tc.target, tc.onV1)
			ok(t, c, cid)
			assert.Equal(t, tc.want, c.code(), "%v", c.fields)
			if tc.want == paytree.E1001 {
				assert.Contains(t, c.get(paytree.FErrorMessage), "path")
			}
		})
	}
}
