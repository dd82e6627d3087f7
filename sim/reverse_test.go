package sim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// TestReverse reverses PAID orders by orderId and by targetRequestId.
func TestReverse(t *testing.T) {
	for _, by := range []string{"orderId", "targetRequestId"} {
		t.Run(by, func(t *testing.T) {
			e := newEnv(t, nil)
			pid, oid := e.payOK(2500)
			var vid string
			var v answer
			if by == "orderId" {
				vid, v = e.reverseByOrder(oid)
			} else {
				vid, v = e.reverseByRequest(pid)
			}
			ok(t, v, vid)
			assert.Equal(t, paytree.CodeOK, v.code())
			assert.Equal(t, oid, v.get(paytree.FOrderID))
			assert.Equal(t, "7", v.get(paytree.FTransStatus))
			assert.Equal(t, "2500", v.get(paytree.FAmount))
			assert.NotEmpty(t, v.get(paytree.FTransTime))
			o, _ := e.order(pid)
			assert.Equal(t, int(paytree.StatusReversed), o.TransStatus)
			assert.Equal(t, int64(0), o.MoneyHeld())
			r, _ := e.request(vid)
			assert.Equal(t, int64(2500), r.Amount)

			// Reversing again: nothing held, success with amount 0.
			wid, w := e.reverseByRequest(pid)
			ok(t, w, wid)
			assert.Equal(t, paytree.CodeOK, w.code())
			assert.Equal(t, "0", w.get(paytree.FAmount))

			c := e.confirmOK(pid, false)
			assert.Equal(t, paytree.StatusReversed.Wire(), c.get(paytree.FTransStatus))
		})
	}
}

// TestReverseWindow: past the window a PAID or DEPOSITED order is refused
// with E3003; within it the reverse succeeds.
func TestReverseWindow(t *testing.T) {
	for _, op := range []string{"pay", "deposit"} {
		t.Run(op, func(t *testing.T) {
			e := newEnv(t, nil)
			var late, early string
			mk := func() string {
				if op == "pay" {
					rid, _ := e.payOK(100)
					return rid
				}
				rid, a := e.deposit("LINE", 100)
				ok(t, a, rid)
				require.Equal(t, paytree.CodeOK, a.code())
				return rid
			}
			late = mk()
			e.clock.Advance(2 * time.Hour)
			early = mk()
			e.clock.Advance(23 * time.Hour) // late is 25 h old, early 23 h
			vid, v := e.reverseByRequest(late)
			ok(t, v, vid)
			assert.Equal(t, paytree.E3003, v.code(), "%v", v.fields)
			o, _ := e.order(late)
			assert.Positive(t, o.MoneyHeld(), "still held")

			vid, v = e.reverseByRequest(early)
			ok(t, v, vid)
			assert.Equal(t, paytree.CodeOK, v.code())
			assert.Equal(t, "100", v.get(paytree.FAmount))
		})
	}
	t.Run("configured window", func(t *testing.T) {
		e := newEnv(t, func(c *sim.Config) { c.ReverseWindow = time.Hour })
		pid, _ := e.payOK(100)
		e.clock.Advance(time.Hour)
		vid, v := e.reverseByRequest(pid)
		ok(t, v, vid)
		assert.Equal(t, paytree.CodeOK, v.code(), "exactly at the end of the window")
		pid, _ = e.payOK(100)
		e.clock.Advance(time.Hour + time.Second)
		vid, v = e.reverseByRequest(pid)
		ok(t, v, vid)
		assert.Equal(t, paytree.E3003, v.code())
	})
}

// TestReverseNothingHeld: FAILED/CANCELLED/EXPIRED/refused/REVERSED targets
// answer success with amount 0; WAITING is reversed with amount 0.
func TestReverseNothingHeld(t *testing.T) {
	e := newEnv(t, nil)
	cancelled, a := e.pay("PAYPAY", classCode(6), 100)
	ok(t, a, cancelled)
	expired, a := e.pay("PAYPAY", classCode(7), 100)
	ok(t, a, expired)
	refused, a := e.pay("PAYPAY", classCode(4), 100)
	ok(t, a, refused)
	e.clock.Advance(sim.DefaultApprovalTimeout)
	waiting, a := e.pay("PAYPAY", classCode(1), 100)
	ok(t, a, waiting)

	tests := []struct {
		name, target string
		wantStatus   paytree.TransStatus // of the order afterwards; 0 = no order
	}{
		{"cancelled", cancelled, paytree.StatusCancelled},
		{"expired", expired, paytree.StatusExpired},
		{"refused", refused, 0},
		{"waiting", waiting, paytree.StatusReversed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vid, v := e.reverseByRequest(tc.target)
			ok(t, v, vid)
			assert.Equal(t, paytree.CodeOK, v.code(), "%v", v.fields)
			assert.Equal(t, "0", v.get(paytree.FAmount))
			assert.Equal(t, "7", v.get(paytree.FTransStatus))
			o, held := e.order(tc.target)
			if tc.wantStatus == 0 {
				assert.False(t, held)
				assert.Empty(t, v.get(paytree.FOrderID))
				return
			}
			assert.Equal(t, o.OrderID, v.get(paytree.FOrderID))
			assert.Equal(t, int(tc.wantStatus), o.TransStatus)
		})
	}
	// The reversed WAITING pay is not approved later.
	e.clock.Advance(sim.DefaultApproveAfter)
	o, _ := e.order(waiting)
	assert.Equal(t, int(paytree.StatusReversed), o.TransStatus)
	assert.Equal(t, int64(0), e.sim.Ledger().MoneyHeld())
}

// TestTombstone: a reverse of a requestId never received succeeds with
// amount 0 and refuses the late pay or deposit with E3004.
func TestTombstone(t *testing.T) {
	for _, op := range []string{"pay", "deposit"} {
		t.Run(op, func(t *testing.T) {
			e := newEnv(t, nil)
			late := e.id()
			vid, v := e.reverseByRequest(late)
			ok(t, v, vid)
			assert.Equal(t, paytree.CodeOK, v.code())
			assert.Equal(t, "0", v.get(paytree.FAmount))
			assert.Empty(t, v.get(paytree.FOrderID))
			assert.Equal(t, "7", v.get(paytree.FTransStatus))

			// Never received yet: confirm says E3001.
			_, c := e.confirm(late, false)
			require.NoError(t, c.err)
			assert.Equal(t, paytree.E3001, c.code())

			var a answer
			if op == "pay" {
				a = e.post(paths.Pay, e.payFields(late, "PAYPAY", classCode(0), 900))
			} else {
				a = e.post(paths.Deposit, e.depositFields(late, "LINE", "BASIC", "36123", 900))
			}
			ok(t, a, late)
			assert.Equal(t, paytree.E3004, a.code(), "%v", a.fields)
			_, held := e.order(late)
			assert.False(t, held, "the late pay took no money")
			assert.Equal(t, int64(0), e.sim.Ledger().MoneyHeld())

			cc := e.confirmOK(late, false)
			assert.Equal(t, paytree.E3004, cc.get(paytree.FTargetResultCode))
			// The reverse itself confirms as done with amount 0.
			rc := e.confirmOK(vid, false)
			assert.Equal(t, "0", rc.get(paytree.FAmount))
			assert.Equal(t, "7", rc.get(paytree.FTransStatus))
		})
	}
}

// TestReverseRefusals: E3001 for unknown orders and non-pay targets, E1001
// for both or neither of orderId/targetRequestId.
func TestReverseRefusals(t *testing.T) {
	e := newEnv(t, nil)
	_, oid := e.payOK(100)
	rid, a := e.refund(oid, 10)
	ok(t, a, rid)
	tests := []struct {
		name   string
		fields map[string]string
		want   string
		field  string
	}{
		{"unknown order", map[string]string{paytree.FOrderID: "PT2025NOPE"}, paytree.E3001, ""},
		{"target is a refund", map[string]string{paytree.FTargetRequestID: rid}, paytree.E3001, ""},
		{"both", map[string]string{paytree.FTargetRequestID: rid, paytree.FOrderID: oid}, paytree.E1001, paytree.FOrderID},
		{"neither", map[string]string{}, paytree.E1001, paytree.FTargetRequestID},
		{"bad target", map[string]string{paytree.FTargetRequestID: "no spaces"}, paytree.E1001, paytree.FTargetRequestID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vid := e.id()
			v := e.post(paths.Reverse, e.with(vid, tc.fields))
			ok(t, v, vid)
			assert.Equal(t, tc.want, v.code(), "%v", v.fields)
			assert.Contains(t, v.get(paytree.FErrorMessage), tc.field)
		})
	}
	t.Run("itself", func(t *testing.T) {
		vid := e.id()
		v := e.post(paths.Reverse, e.with(vid, map[string]string{paytree.FTargetRequestID: vid}))
		ok(t, v, vid)
		assert.Equal(t, paytree.E1001, v.code())
	})
	o, _ := e.sim.Ledger().OrderByRequestID(e.sim.Ledger().Orders[0].RequestID)
	assert.Equal(t, int(paytree.StatusPartiallyRefunded), o.TransStatus)
}
