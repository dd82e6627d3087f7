package wbpay_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// onNthSend runs fn just before the n-th send of a request whose crash
// point prefix is point (e.g. "refund/refund"), n counted from 1.
func onNthSend(t *testing.T, point string, n int32, fn func()) {
	var seen atomic.Int32
	t.Cleanup(crashpoint.Set(func(name string) error {
		if name == point+"/send-before" && seen.Add(1) == n {
			fn()
		}
		return nil
	}))
}

// order returns the ledger's order id.
func ledgerOrder(t *testing.T, s *sim.Sim, orderID string) sim.Order {
	t.Helper()
	for _, o := range s.Ledger().Orders {
		if o.OrderID == orderID {
			return o
		}
	}
	t.Fatalf("order %s is not in the ledger", orderID)
	return sim.Order{}
}

// TestNotProcessedResendIsNotFailure (issue 9.1): a refund or reverse whose
// first send was processed but whose answer was lost, whose confirm's
// answer was lost too, and whose resend is answered "not processed" (E9002
// busy, or HTTP 500 before processing) must not end failed ("nothing
// moved"): the money did move. The sequence goes on and finds it done.
func TestNotProcessedResendIsNotFailure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		op    paytree.Operation
		fault sim.FaultKind
	}{
		{"refund e9002", paytree.OpRefund, sim.FaultE9002},
		{"refund 500 before", paytree.OpRefund, sim.Fault500Before},
		{"reverse e9002", paytree.OpReverse, sim.FaultE9002},
		{"reverse 500 before", paytree.OpReverse, sim.Fault500Before},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{})
			ctx := context.Background()
			paid, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 2000, UserCode: classCode(0)})
			require.NoError(t, err)
			require.Equal(t, fsm.StatePaid, paid.State)

			h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Op: tc.op, Count: 1}, {Kind: sim.FaultLost, Op: paytree.OpConfirm, Count: 1}})
			onNthSend(t, tc.op.String()+"/"+tc.op.String(), 2, func() {
				h.sim.SetFaults([]sim.Fault{{Kind: tc.fault, Op: tc.op, Count: 1}})
			})
			var res *wbpay.Result
			if tc.op == paytree.OpRefund {
				res, err = h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 400})
			} else {
				res, err = h.eng.ReverseSync(ctx, &wbpay.ReverseRequest{OrderID: paid.OrderID})
			}
			require.NoError(t, err)
			o := ledgerOrder(t, h.sim, paid.OrderID)
			if tc.op == paytree.OpRefund {
				assert.EqualValues(t, 400, o.RefundedTotal, "the gateway refunded once")
				assert.Equal(t, fsm.StateRefunded, res.State, "the journal agrees: refunded, not failed")
			} else {
				assert.Equal(t, int(paytree.StatusReversed), o.TransStatus, "the gateway reversed the order")
				assert.Equal(t, fsm.StateReversed, res.State, "the journal agrees: reversed, not failed")
			}
			for _, ev := range res.Events {
				if ev.Failure != nil {
					assert.NotEqual(t, paytree.Retry, ev.Failure.Err.Action, "no Retry advice while money moved: %v", ev.Failure.Err)
				}
			}
		})
	}
}

// TestNotProcessedResendDuringRecovery: the same during recovery: the
// engine stops after the refund's answer was lost, and at the next start
// the confirm's answer is lost and the resend answered E9002.
func TestNotProcessedResendDuringRecovery(t *testing.T) {
	h := newHarness(t, harnessOpt{manualClock: true})
	ctx := context.Background()
	stopLapse := testgw.TimeLapse(h.clock, 50*time.Millisecond)
	paid, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 2000, UserCode: classCode(0)})
	require.NoError(t, err)
	stopLapse()

	h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpRefund, Count: 1}})
	tk, err := h.eng.Submit(&wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 400})
	require.NoError(t, err)
	// The refund was processed, its answer lost; the driver now waits
	// RequestConfirmInterval before confirming: stop the engine there.
	require.Eventually(t, func() bool { return h.txn(tk.TransactionID).State == fsm.StateUnknown }, 20*time.Second, time.Millisecond)
	require.NoError(t, h.clock.BlockUntilContext(ctx, 1))
	require.NoError(t, h.eng.Close())
	require.EqualValues(t, 400, ledgerOrder(t, h.sim, paid.OrderID).RefundedTotal)

	h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpConfirm, Count: 1}})
	onNthSend(t, "refund/refund", 1, func() { h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultE9002, Op: paytree.OpRefund, Count: 1}}) })
	t.Cleanup(testgw.TimeLapse(h.clock, 50*time.Millisecond))
	h.events = nil
	h.open(0)
	require.NoError(t, h.eng.WaitRecovered(ctx))
	reps := h.eng.Recovered()
	require.Len(t, reps, 1)
	require.NotNil(t, reps[0].Result)
	assert.Equal(t, fsm.StateRefunded, reps[0].Result.State, "recovery found the refund done: %+v", reps[0])
	assert.EqualValues(t, 400, ledgerOrder(t, h.sim, paid.OrderID).RefundedTotal, "refunded once")
}

// TestLiveOutageIsNotEscalation (issue 9.3): the gateway goes down right
// after it processed a request; the live sequence's confirms and resends
// cannot connect. That is no answer: ErrorEvent N0007, nothing escalated,
// and the engine finishes the transaction itself once the gateway is back.
func TestLiveOutageIsNotEscalation(t *testing.T) {
	for _, op := range []paytree.Operation{paytree.OpPay, paytree.OpDeposit, paytree.OpRefund, paytree.OpReverse} {
		t.Run(op.String(), func(t *testing.T) {
			h := newHarness(t, harnessOpt{})
			net := newRelay(t, h.gw.URL())
			require.NoError(t, h.eng.Close())
			writeConf(t, h.home, testgw.Merge(baseConf("https://"+net.Addr), nil))
			h.open(0)
			ctx := context.Background()
			var orderID string
			if op != paytree.OpPay {
				paid, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1500, UserCode: classCode(0)})
				require.NoError(t, err)
				orderID = paid.OrderID
				h.waitEvents(1)
				h.mu.Lock()
				h.events = nil
				h.mu.Unlock()
			}
			// The request is processed, its answer lost, and the network
			// goes down before the confirm.
			h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Op: op, Count: 1}})
			onNthSend(t, op.String()+"/confirm", 1, net.Down)
			var tk wbpay.Ticket
			var err error
			switch op {
			case paytree.OpPay:
				tk, err = h.eng.Submit(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1500, UserCode: classCode(0)})
			case paytree.OpDeposit:
				tk, err = h.eng.Submit(&wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 1500, UserCode: "36123"})
			case paytree.OpRefund:
				tk, err = h.eng.Submit(&wbpay.RefundRequest{OrderID: orderID, RefundAmount: 500})
			default:
				tk, err = h.eng.Submit(&wbpay.ReverseRequest{OrderID: orderID})
			}
			require.NoError(t, err)
			evs := h.waitEvents(1)
			require.NotNil(t, evs[0].Failure, "first event: %s", describe(evs))
			assert.Equal(t, paytree.N0007, evs[0].Failure.Err.Code)
			assert.Equal(t, paytree.TypeNetwork, evs[0].Failure.Err.Type)
			if op == paytree.OpPay || op == paytree.OpDeposit {
				assert.Equal(t, paytree.Retry, evs[0].Failure.Err.Action)
			} else {
				assert.Equal(t, paytree.VendorCall, evs[0].Failure.Err.Action)
			}
			st := h.txn(tk.TransactionID).State
			assert.False(t, st.Terminal(), "parked, not escalated: %s", st)
			// Meanwhile new requests are refused, naming the wait.
			err = h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})
			assert.Equal(t, paytree.L0004, code(err))
			assert.Contains(t, err.Error(), "unreachable")

			require.NoError(t, net.Up())
			evs = h.waitEvents(2)
			final := evs[1]
			var state fsm.State
			require.Eventually(t, func() bool {
				state = h.txn(tk.TransactionID).State
				return state.Terminal()
			}, 20*time.Second, 5*time.Millisecond)
			switch op {
			case paytree.OpPay:
				// The pay's outcome was unknown when the gateway vanished;
				// once back, the confirm finds it PAID.
				assert.Equal(t, fsm.StatePaid, state)
				require.NotNil(t, final.Complete, "final event: %s", describe(evs))
				assert.Equal(t, paytree.StatusPaid, final.Complete.TransStatus)
			case paytree.OpDeposit:
				assert.Equal(t, fsm.StateDeposited, state)
			case paytree.OpRefund:
				assert.Equal(t, fsm.StateRefunded, state)
				assert.EqualValues(t, 500, ledgerOrder(t, h.sim, orderID).RefundedTotal, "refunded once")
			default:
				assert.Equal(t, fsm.StateReversed, state)
			}
			assert.NotEqual(t, fsm.StateEscalated, state)
			// And the engine takes requests again.
			require.Eventually(t, func() bool {
				_, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})
				return err == nil
			}, 20*time.Second, 10*time.Millisecond)
		})
	}
}

// TestOneIntentOneRequest (issue 9.4, 9.5): while a refund of an order is
// escalated (the gateway had processed it, every answer lost), no new
// refund or reverse of the order is sent (L0012); a person records what CPS
// said with Resolve, which sends nothing and lifts the refusal.
func TestOneIntentOneRequest(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	ctx := context.Background()
	paid, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
	require.NoError(t, err)

	h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Probability: 1}})
	ref, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 500})
	require.NoError(t, err)
	require.Equal(t, fsm.StateEscalated, ref.State)
	h.sim.SetFaults(nil)
	require.EqualValues(t, 500, ledgerOrder(t, h.sim, paid.OrderID).RefundedTotal, "the gateway did refund")
	requests := len(h.sim.Ledger().Requests)

	_, err = h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 500})
	we := requireCode(t, err, paytree.L0012)
	assert.Contains(t, we.Message, ref.TransactionID, "names the escalated refund")
	assert.Equal(t, paytree.CPSCall, we.Action)
	_, err = h.eng.Submit(&wbpay.ReverseRequest{OrderID: paid.OrderID})
	requireCode(t, err, paytree.L0012)
	assert.Len(t, h.sim.Ledger().Requests, requests, "nothing was sent")

	// Resolve: only an escalated transaction, only a fitting outcome.
	_, err = h.eng.Resolve(paid.TransactionID, fsm.StatePaid, "tanaka", "x")
	requireCode(t, err, paytree.L0003)
	_, err = h.eng.Resolve(ref.TransactionID, fsm.StatePaid, "tanaka", "x")
	requireCode(t, err, paytree.L0003)
	_, err = h.eng.Resolve(ref.TransactionID, fsm.StateRefunded, "", "x")
	requireCode(t, err, paytree.L0003)
	res, err := h.eng.Resolve(ref.TransactionID, fsm.StateRefunded, "tanaka", "CPS ticket 4711: the refund went through")
	require.NoError(t, err)
	assert.Equal(t, fsm.StateResolved, res.State)
	assert.Len(t, h.sim.Ledger().Requests, requests, "resolve sends nothing")
	tx := h.txn(ref.TransactionID)
	assert.Equal(t, fsm.StateRefunded, journal.Outcome(tx))
	assert.Equal(t, "tanaka", tx.Request[journal.KeyResolvedBy])
	entries, err := h.eng.Audit().Entries(ref.TransactionID)
	require.NoError(t, err)
	last := entries[len(entries)-1]
	assert.Equal(t, fsm.EvResolve, last.Event)
	assert.Contains(t, last.Note, "tanaka")
	assert.Contains(t, last.Note, "CPS ticket 4711")
	_, err = h.eng.Audit().Verify()
	require.NoError(t, err, "the resolution is hash-chained like every entry")
	st := journal.StandingOf(h.txn(paid.TransactionID), mustOrder(t, h, paid.OrderID))
	assert.EqualValues(t, 500, st.Refunded, "the resolved refund counts")
	assert.True(t, st.Held)

	// The refusal is lifted: the rest can be refunded.
	rest, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 500})
	require.NoError(t, err)
	assert.Equal(t, fsm.StateRefunded, rest.State)
	assert.EqualValues(t, 1000, ledgerOrder(t, h.sim, paid.OrderID).RefundedTotal)
	st = journal.StandingOf(h.txn(paid.TransactionID), mustOrder(t, h, paid.OrderID))
	assert.False(t, st.Held, "wholly refunded")
}

func mustOrder(t *testing.T, h *harness, orderID string) []*journal.Txn {
	t.Helper()
	ts, err := h.eng.Audit().ByOrderID(orderID)
	require.NoError(t, err)
	return ts
}
