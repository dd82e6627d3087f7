package sim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
)

// TestIdempotentReplay: the same request gets the first answer again with a
// fresh responseTime and signature, and moves no money twice.
func TestIdempotentReplay(t *testing.T) {
	e := newEnv(t, nil)
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 1000)
	first := ok(t, e.post(paths.Pay, f), rid)
	require.Equal(t, paytree.CodeOK, first.code())

	e.clock.Advance(5 * time.Second)
	f[paytree.FRequestTime] = paytree.FormatTime(e.clock.Now()) // requestTime may differ
	again := ok(t, e.post(paths.Pay, f), rid)
	assert.NotEqual(t, first.get(paytree.FResponseTime), again.get(paytree.FResponseTime))
	assert.NotEqual(t, first.get(paytree.FSign), again.get(paytree.FSign))
	for _, k := range []string{paytree.FResponseTime, paytree.FSign} {
		delete(first.fields, k)
		delete(again.fields, k)
	}
	assert.Equal(t, first.fields, again.fields, "the first answer, unchanged")
	l := e.sim.Ledger()
	assert.Len(t, l.Orders, 1)
	r, _ := l.RequestByID(rid)
	assert.Equal(t, 2, r.Count)
	assert.Equal(t, paytree.CodeOK, r.ResultCode)
	assert.Equal(t, int64(1000), l.MoneyHeld())

	// An empty optional field is the same as an absent one.
	f[paytree.FRemark] = ""
	ok(t, e.post(paths.Pay, f), rid)
	r, _ = e.request(rid)
	assert.Equal(t, 3, r.Count)
}

// TestE3005: the same key with other content is refused and not recorded.
func TestE3005(t *testing.T) {
	e := newEnv(t, nil)
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 1000)
	ok(t, e.post(paths.Pay, f), rid)
	_, oid := e.payOK(100)
	tests := []struct {
		name string
		path string
		body paytree.Fields
	}{
		{"other amount", paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), 1001)},
		{"extra field", paths.Pay, func() paytree.Fields { g := f.Clone(); g[paytree.FRemark] = "x"; return g }()},
		{"other operation", paths.Refund, e.refundFields(rid, oid, 10)},
		{"same fields on V1 path", paths.PayV1, f},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := ok(t, e.post(tc.path, tc.body), rid)
			assert.Equal(t, paytree.E3005, a.code())
		})
	}
	r, _ := e.request(rid)
	assert.Equal(t, 1, r.Count, "refusals are not counted as receipts")
	assert.Equal(t, int64(1100), e.sim.Ledger().MoneyHeld())

	t.Run("another terminal may reuse the requestId", func(t *testing.T) {
		e.terminal = otherTerminalID
		defer func() { e.terminal = testTerminalID }()
		g := e.payFields(rid, "PAYPAY", classCode(0), 1001)
		a := ok(t, e.post(paths.Pay, g), rid)
		assert.Equal(t, paytree.CodeOK, a.code())
	})
}

// TestRefusalsAreRecorded: an E1001 or E2xxx answer is replayed too.
func TestRefusalsAreRecorded(t *testing.T) {
	e := newEnv(t, nil)
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(4), 1000)
	a := ok(t, e.post(paths.Pay, f), rid)
	require.Equal(t, paytree.E2002, a.code())
	b := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.E2002, b.code())
	assert.Equal(t, a.get(paytree.FErrorMessage), b.get(paytree.FErrorMessage))
	r, _ := e.request(rid)
	assert.Equal(t, 2, r.Count)
	assert.Equal(t, paytree.E2002, r.ResultCode)
	assert.Equal(t, int64(1000), r.Amount)
}
