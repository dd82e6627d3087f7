package sim_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// TestRefundCaps refunds an order in parts up to its amount.
func TestRefundCaps(t *testing.T) {
	e := newEnv(t, nil)
	pid, oid := e.payOK(1000)
	steps := []struct {
		amount     int64
		wantCode   string
		wantStatus paytree.TransStatus
		wantTotal  string
	}{
		{300, paytree.CodeOK, paytree.StatusPartiallyRefunded, "300"},
		{800, paytree.E3002, 0, ""}, // 300 + 800 > 1000
		{700, paytree.CodeOK, paytree.StatusRefunded, "1000"},
		{1, paytree.E3002, 0, ""}, // REFUNDED: nothing left
	}
	for _, st := range steps {
		rid, a := e.refund(oid, st.amount)
		ok(t, a, rid)
		require.Equal(t, st.wantCode, a.code(), "refund %d: %v", st.amount, a.fields)
		if st.wantCode == paytree.CodeOK {
			assert.Equal(t, oid, a.get(paytree.FOrderID))
			assert.Equal(t, st.wantStatus.Wire(), a.get(paytree.FTransStatus))
			assert.Equal(t, st.wantTotal, a.get(paytree.FRefundedTotal))
			assert.Equal(t, a.get(paytree.FRefundAmount), itoa(st.amount))
			assert.NotEmpty(t, a.get(paytree.FTransTime))
		}
	}
	o, _ := e.order(pid)
	assert.Equal(t, int64(1000), o.RefundedTotal)
	assert.Equal(t, int(paytree.StatusRefunded), o.TransStatus)
	assert.Equal(t, int64(0), o.MoneyHeld())

	// A REFUNDED order cannot be reversed.
	vid, v := e.reverseByOrder(oid)
	ok(t, v, vid)
	assert.Equal(t, paytree.E3003, v.code())
}

// TestRefundRefusals covers E3001, E3002, E3004 and E3006.
func TestRefundRefusals(t *testing.T) {
	e := newEnv(t, nil)
	_, paid := e.payOK(500)
	_, reversed := e.payOK(500)
	vid, v := e.reverseByOrder(reversed)
	ok(t, v, vid)
	require.Equal(t, paytree.CodeOK, v.code())
	wid, w := e.pay("PAYPAY", classCode(1), 500)
	ok(t, w, wid)
	waiting := w.get(paytree.FOrderID)
	cid, c := e.pay("PAYPAY", classCode(6), 500)
	ok(t, c, cid)
	cancelled := c.get(paytree.FOrderID)
	did, d := e.deposit("LINE", 500)
	ok(t, d, did)
	deposit := d.get(paytree.FOrderID)

	tests := []struct {
		name, orderID string
		amount        int64
		want          string
	}{
		{"unknown order", "PT2025011510000000000000000000XX", 100, paytree.E3001},
		{"more than the amount", paid, 501, paytree.E3002},
		{"reversed", reversed, 100, paytree.E3004},
		{"waiting", waiting, 100, paytree.E3002},
		{"deposit", deposit, 100, paytree.E3006},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rid, a := e.refund(tc.orderID, tc.amount)
			ok(t, a, rid)
			assert.Equal(t, tc.want, a.code(), "%v", a.fields)
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		e.clock.Advance(sim.DefaultApproveAfter)
		rid, a := e.refund(cancelled, 100)
		ok(t, a, rid)
		assert.Equal(t, paytree.E3002, a.code())
	})
	t.Run("another terminal's order", func(t *testing.T) {
		e.terminal = otherTerminalID
		defer func() { e.terminal = testTerminalID }()
		rid, a := e.refund(paid, 100)
		ok(t, a, rid)
		assert.Equal(t, paytree.E3001, a.code())
	})
	l := e.sim.Ledger()
	for _, o := range l.Orders {
		assert.Equal(t, int64(0), o.RefundedTotal, "no refund took effect on %s", o.OrderID)
	}
}

// TestRefundClass1 processes the refund and loses its first answer; a
// resend with the same requestId gets the stored answer.
func TestRefundClass1(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.Classes.Refund = 1 })
	pid, oid := e.payOK(1000)
	rid := e.id()
	f := e.refundFields(rid, oid, 400)
	a := e.post(paths.Refund, f)
	require.Error(t, a.err, "the first answer is lost")
	o, _ := e.order(pid)
	assert.Equal(t, int64(400), o.RefundedTotal, "processed")

	c := e.confirmOK(rid, false)
	assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
	assert.Equal(t, "400", c.get(paytree.FRefundAmount))
	assert.Equal(t, "400", c.get(paytree.FRefundedTotal))
	assert.Equal(t, paytree.StatusPartiallyRefunded.Wire(), c.get(paytree.FTransStatus))

	e.clock.Advance(90 * time.Second) // a later requestTime does not matter
	f[paytree.FRequestTime] = paytree.FormatTime(e.clock.Now())
	a = e.post(paths.Refund, f)
	ok(t, a, rid)
	assert.Equal(t, paytree.CodeOK, a.code())
	assert.Equal(t, "400", a.get(paytree.FRefundedTotal))
	assert.Equal(t, paytree.StatusPartiallyRefunded.Wire(), a.get(paytree.FTransStatus))
	o, _ = e.order(pid)
	assert.Equal(t, int64(400), o.RefundedTotal, "the resend refunded nothing more")
	r, _ := e.request(rid)
	assert.Equal(t, 2, r.Count)
	assert.Equal(t, oid, r.OrderID)
	assert.Equal(t, int64(400), r.Amount)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
