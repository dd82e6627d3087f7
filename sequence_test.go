package wbpay_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// classCode returns the userCode that selects pay class n in the simulator.
func classCode(n int) string { return "99" + strings.Repeat("0", 15) + string(rune('0'+n)) }

// wantEvent is one expected event: "complete:PAID" or "error:E2002/Customer".
type ledgerCheck func(t *testing.T, l sim.Ledger, res *wbpay.Result)

func heldBy(want int64) ledgerCheck {
	return func(t *testing.T, l sim.Ledger, res *wbpay.Result) {
		o, ok := l.OrderByRequestID(res.TransactionID)
		if want == 0 {
			if ok {
				assert.Equal(t, int64(0), o.MoneyHeld(), "the gateway must hold nothing for %s (order %+v)", res.TransactionID, o)
			}
			return
		}
		require.True(t, ok, "the gateway has no order for %s", res.TransactionID)
		assert.Equal(t, want, o.MoneyHeld(), "money held by the gateway")
	}
}

func TestPayClasses(t *testing.T) {
	cases := []struct {
		name      string
		class     int
		conf      map[string]string
		wantState fsm.State
		want      string
		ledger    ledgerCheck
	}{
		{"class 0 paid", 0, nil, fsm.StatePaid, "complete:PAID", heldBy(1000)},
		{"class 1 waiting then paid by polling", 1, nil, fsm.StatePaid, "complete:WAITING complete:PAID", heldBy(1000)},
		{"class 2 answer lost, reversed", 2, nil, fsm.StateReversed, "error:N0002/Retry", heldBy(0)},
		{"class 3 user code invalid", 3, nil, fsm.StateFailed, "error:E2001/Customer", heldBy(0)},
		{"class 4 insufficient balance", 4, nil, fsm.StateFailed, "error:E2002/Customer", heldBy(0)},
		{"class 5 service suspended", 5, nil, fsm.StateFailed, "error:E2003/CPSCall", heldBy(0)},
		{"class 6 customer cancels", 6, nil, fsm.StateFailed, "complete:WAITING error:E2004/Customer", heldBy(0)},
		{"class 7 approval times out, reversed", 7, map[string]string{"PayConfirmPollingTimeout": "30"}, fsm.StateReversed, "complete:WAITING error:E2005/Customer", heldBy(0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{conf: tc.conf})
			res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(tc.class), ReceiptNo: "R-1"})
			require.NoError(t, err)
			got := h.waitEvents(len(strings.Fields(tc.want)))
			assert.Equal(t, tc.want, describe(got), "events")
			assert.Equal(t, tc.wantState, res.State, "final state")
			assert.Equal(t, tc.wantState, h.txn(res.TransactionID).State, "journal state")
			tc.ledger(t, h.sim.Ledger(), res)
			if tc.class == 6 {
				// How the order ended, not the WAITING before it (issue 10.7).
				assert.Equal(t, int(paytree.StatusCancelled), h.txn(res.TransactionID).TransStatus, "journal transStatus")
			}
		})
	}
}

// TestFaults runs each simulator fault of contract section 10 on the first
// request of each operation and checks the events, the journal and the
// gateway's ledger.
func TestFaults(t *testing.T) {
	type opCase struct {
		op paytree.Operation
		// run performs the operation (after any setup) and returns its result.
		run func(t *testing.T, h *harness) *wbpay.Result
	}
	pay := func(t *testing.T, h *harness) *wbpay.Result {
		res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
		require.NoError(t, err)
		return res
	}
	deposit := func(t *testing.T, h *harness) *wbpay.Result {
		res, err := h.eng.DepositSync(context.Background(), &wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 500, UserCode: "3612345678"})
		require.NoError(t, err)
		return res
	}
	// setupPaid pays 1000 with no fault armed, then arms the fault for op.
	setupPaid := func(t *testing.T, h *harness, f sim.Fault) *wbpay.Result {
		h.sim.SetFaults(nil)
		p := pay(t, h)
		require.Equal(t, fsm.StatePaid, p.State)
		h.waitEvents(1)
		h.sim.SetFaults([]sim.Fault{f})
		h.mu.Lock()
		h.events = nil
		h.mu.Unlock()
		return p
	}
	type want struct {
		state  fsm.State
		events string
		held   int64 // money the gateway holds for the paid order afterwards
	}
	cases := []struct {
		fault sim.FaultKind
		pay   want // pay and deposit (deposit holds 500 where pay holds 1000)
		ref   want // refund of 400
		rev   want // reverse of the paid order
	}{
		{sim.FaultLost, want{fsm.StatePaid, "complete:PAID", 1000}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.FaultHold, want{fsm.StatePaid, "complete:PAID", 1000}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.Fault500Before, want{fsm.StateReversed, "error:N0003/Retry", 0}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.Fault500After, want{fsm.StatePaid, "complete:PAID", 1000}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.FaultBadSign, want{fsm.StatePaid, "complete:PAID", 1000}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.FaultE9001, want{fsm.StatePaid, "complete:PAID", 1000}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.FaultE9002, want{fsm.StateFailed, "error:E9002/Retry", 0}, want{fsm.StateFailed, "error:E9002/Retry", 1000}, want{fsm.StateFailed, "error:E9002/Retry", 1000}},
		{sim.FaultExtraField, want{fsm.StatePaid, "complete:PAID", 1000}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.FaultDelayAfter, want{fsm.StatePaid, "complete:PAID", 1000}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
		{sim.FaultDelayBefore, want{fsm.StateReversed, "error:N0002/Retry", 0}, want{fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 600}, want{fsm.StateReversed, "complete:REVERSED", 0}},
	}
	for _, tc := range cases {
		fault := func(op paytree.Operation) sim.Fault {
			f := sim.Fault{Kind: tc.fault, Op: op, Count: 1}
			if tc.fault == sim.FaultDelayAfter || tc.fault == sim.FaultDelayBefore {
				f.Delay = time.Hour // far past HttpTimeout
			}
			return f
		}
		for _, oc := range []opCase{
			{paytree.OpPay, func(t *testing.T, h *harness) *wbpay.Result {
				h.sim.SetFaults([]sim.Fault{fault(paytree.OpPay)})
				return pay(t, h)
			}},
			{paytree.OpDeposit, func(t *testing.T, h *harness) *wbpay.Result {
				h.sim.SetFaults([]sim.Fault{fault(paytree.OpDeposit)})
				return deposit(t, h)
			}},
			{paytree.OpRefund, func(t *testing.T, h *harness) *wbpay.Result {
				p := setupPaid(t, h, fault(paytree.OpRefund))
				res, err := h.eng.RefundSync(context.Background(), &wbpay.RefundRequest{OrderID: p.OrderID, RefundAmount: 400})
				require.NoError(t, err)
				res.OrderID = p.OrderID
				return res
			}},
			{paytree.OpReverse, func(t *testing.T, h *harness) *wbpay.Result {
				p := setupPaid(t, h, fault(paytree.OpReverse))
				res, err := h.eng.ReverseSync(context.Background(), &wbpay.ReverseRequest{OrderID: p.OrderID})
				require.NoError(t, err)
				res.OrderID = p.OrderID
				return res
			}},
		} {
			t.Run(string(tc.fault)+"/"+oc.op.String(), func(t *testing.T) {
				h := newHarness(t, harnessOpt{httpTimeout: time.Second})
				res := oc.run(t, h)
				w := tc.pay
				switch oc.op {
				case paytree.OpRefund:
					w = tc.ref
				case paytree.OpReverse:
					w = tc.rev
				case paytree.OpDeposit:
					w.events = strings.ReplaceAll(w.events, "PAID", "DEPOSITED")
					if w.state == fsm.StatePaid {
						w.state, w.held = fsm.StateDeposited, 500
					}
				}
				got := h.waitEvents(len(strings.Fields(w.events)))
				assert.Equal(t, w.events, describe(got), "events")
				assert.Equal(t, w.state, res.State, "final state")
				assert.Equal(t, w.state, h.txn(res.TransactionID).State, "journal state")
				l := h.sim.Ledger()
				switch oc.op {
				case paytree.OpPay, paytree.OpDeposit:
					heldBy(w.held)(t, l, res)
				default:
					held := int64(-1)
					for _, o := range l.Orders {
						if o.OrderID == res.OrderID {
							held = o.MoneyHeld()
						}
					}
					assert.Equal(t, w.held, held, "money the gateway holds for order %s", res.OrderID)
				}
			})
		}
	}
}

// TestOtherClasses: refund classes 0 and 1, reverse 0 and deposit 0 over
// loopback HTTPS, with the classes set on the simulator.
func TestOtherClasses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		classes sim.Classes
		run     func(t *testing.T, h *harness, orderID string) *wbpay.Result
		state   fsm.State
		events  string
		held    int64
	}{
		{"refund class 0", sim.Classes{Refund: 0}, refundOf(1000), fsm.StateRefunded, "complete:REFUNDED", 0},
		{"refund class 1", sim.Classes{Refund: 1}, refundOf(300), fsm.StateRefunded, "complete:PARTIALLY_REFUNDED", 700},
		{"reverse class 0", sim.Classes{}, func(t *testing.T, h *harness, o string) *wbpay.Result {
			res, err := h.eng.ReverseSync(context.Background(), &wbpay.ReverseRequest{OrderID: o})
			require.NoError(t, err)
			return res
		}, fsm.StateReversed, "complete:REVERSED", 0},
		{"deposit class 0", sim.Classes{}, func(t *testing.T, h *harness, _ string) *wbpay.Result {
			res, err := h.eng.DepositSync(context.Background(), &wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 700, UserCode: "36999"})
			require.NoError(t, err)
			return res
		}, fsm.StateDeposited, "complete:DEPOSITED", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{classes: tc.classes})
			p, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
			require.NoError(t, err)
			require.Equal(t, "complete:PAID", describe(h.waitEvents(1)))
			res := tc.run(t, h, p.OrderID)
			got := h.waitEvents(2)
			assert.Equal(t, tc.events, describe(got[1:]))
			assert.Equal(t, tc.state, res.State)
			assert.Equal(t, tc.state, h.txn(res.TransactionID).State)
			o, ok := h.sim.Ledger().OrderByRequestID(p.TransactionID)
			require.True(t, ok)
			assert.Equal(t, tc.held, o.MoneyHeld(), "money held for the pay")
		})
	}
}

func refundOf(amount int64) func(t *testing.T, h *harness, orderID string) *wbpay.Result {
	return func(t *testing.T, h *harness, o string) *wbpay.Result {
		res, err := h.eng.RefundSync(context.Background(), &wbpay.RefundRequest{OrderID: o, RefundAmount: amount, RefundReason: "返品 (袋破れ) a&b=c 100%"})
		require.NoError(t, err)
		return res
	}
}

// TestEscalation: when the gateway never answers the undo, the engine stops
// trying and says a person must act: the network error, then the
// post-process error (contract section 7), and the state escalated.
func TestEscalation(t *testing.T) {
	everyLost := func(ops ...paytree.Operation) []sim.Fault {
		var fs []sim.Fault
		for _, op := range ops {
			fs = append(fs, sim.Fault{Kind: sim.FaultLost, Op: op, Probability: 1})
		}
		return fs
	}
	cases := []struct {
		name   string
		faults []sim.Fault
		run    func(t *testing.T, h *harness) *wbpay.Result
		events string
	}{
		{"pay whose reverse is never answered", everyLost(paytree.OpPay, paytree.OpConfirm, paytree.OpReverse),
			func(t *testing.T, h *harness) *wbpay.Result {
				res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
				require.NoError(t, err)
				return res
			}, "error:N0002/CPSCall error:P0001/CPSCall"},
		{"deposit whose reverse is never answered", everyLost(paytree.OpDeposit, paytree.OpConfirm, paytree.OpReverse),
			func(t *testing.T, h *harness) *wbpay.Result {
				res, err := h.eng.DepositSync(context.Background(), &wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 500, UserCode: "36123"})
				require.NoError(t, err)
				return res
			}, "error:N0002/CPSCall error:P0002/CPSCall"},
		{"refund never answered", everyLost(paytree.OpRefund, paytree.OpConfirm),
			func(t *testing.T, h *harness) *wbpay.Result {
				h.sim.SetFaults(nil)
				p, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
				require.NoError(t, err)
				h.waitEvents(1)
				h.mu.Lock()
				h.events = nil
				h.mu.Unlock()
				h.sim.SetFaults(everyLost(paytree.OpRefund, paytree.OpConfirm))
				res, err := h.eng.RefundSync(context.Background(), &wbpay.RefundRequest{OrderID: p.OrderID, RefundAmount: 100})
				require.NoError(t, err)
				return res
			}, "error:N0002/CPSCall"},
		// Issue 9.6: the first event keeps the catalog's action of its
		// cause (E2005 Customer, N0005 VendorCall); only the Type 6 second
		// one says CPSCall.
		{"approval timeout whose reverse is never answered", everyLost(paytree.OpReverse, paytree.OpConfirm),
			func(t *testing.T, h *harness) *wbpay.Result {
				res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(7)})
				require.NoError(t, err)
				return res
			}, "complete:WAITING error:E2005/Customer error:P0001/CPSCall"},
		{"bad signature whose reverse is never answered", append(everyLost(paytree.OpReverse, paytree.OpConfirm), sim.Fault{Kind: sim.FaultBadSign, Op: paytree.OpPay, Count: 1}),
			func(t *testing.T, h *harness) *wbpay.Result {
				res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
				require.NoError(t, err)
				return res
			}, "error:N0005/VendorCall error:P0001/CPSCall"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{faults: tc.faults})
			res := tc.run(t, h)
			assert.Equal(t, tc.events, describe(h.waitEvents(len(strings.Fields(tc.events)))))
			assert.Equal(t, fsm.StateEscalated, res.State)
			tx := h.txn(res.TransactionID)
			assert.Equal(t, fsm.StateEscalated, tx.State)
			require.NotNil(t, tx.LastError)
			assert.Equal(t, "CPSCall", tx.LastError.Action)
			// Nothing was ever sent twice under different requestIds: the
			// transaction's own request and its one reverse requestId.
			entries, err := h.eng.Audit().Entries(res.TransactionID)
			require.NoError(t, err)
			ids := map[string]bool{}
			for _, e := range entries {
				if e.Kind != "confirm" && e.RequestID != "" {
					ids[e.RequestID] = true
				}
			}
			assert.LessOrEqual(t, len(ids), 2, "own requestId and at most one reverse requestId: %v", ids)
		})
	}
}
