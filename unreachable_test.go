package wbpay_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// newRelay puts a cuttable network between the engine and the gateway.
func newRelay(t *testing.T, gatewayURL string) *testgw.Relay {
	u, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	r, err := testgw.NewRelay(u.Host)
	require.NoError(t, err)
	t.Cleanup(r.Down)
	return r
}

// TestRecoveryWaitsForUnreachableGateway: the power fails in the middle of a
// pay the gateway has processed, and the network is still down when the
// engine restarts. Recovery must neither escalate nor reverse blindly: it
// keeps the pay unfinished, refuses new requests with L0004 saying why, and
// once the gateway is reachable again finds the pay PAID.
func TestRecoveryWaitsForUnreachableGateway(t *testing.T) {
	h := newHarness(t, harnessOpt{faults: []sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpPay, Count: 1}}})
	net := newRelay(t, h.gw.URL())
	require.NoError(t, h.eng.Close())
	writeConf(t, h.home, testgw.Merge(baseConf("https://"+net.Addr), nil))
	h.open(0)

	// The gateway takes the pay and holds its answer; the power fails.
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1200, UserCode: classCode(0)}))
	var id string
	require.Eventually(t, func() bool {
		l := h.sim.Ledger()
		if len(l.Orders) == 1 {
			id = l.Orders[0].RequestID
		}
		return id != ""
	}, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, h.eng.Close())
	atStart := h.txn2(id).State
	require.False(t, atStart.Terminal())
	net.Down()

	h.events = nil
	h.open(0)
	var rep wbpay.Recovery
	require.Eventually(t, func() bool {
		reps := h.eng.Recovered()
		if len(reps) == 1 && reps[0].GatewayUnreachable {
			rep = reps[0]
			return true
		}
		return false
	}, 20*time.Second, 5*time.Millisecond, "recovery should report the pay as waiting for the gateway")
	require.NotNil(t, rep.Err)
	assert.Equal(t, paytree.N0001, rep.Err.Code)
	assert.Contains(t, rep.Err.Message, id)
	// Requests are refused meanwhile, and once the pass is over, L0004 says
	// what recovery waits for.
	var err error
	require.Eventually(t, func() bool {
		err = h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})
		return err != nil && strings.Contains(err.Error(), "unreachable")
	}, 20*time.Second, 5*time.Millisecond, "L0004 naming the unreachable gateway")
	assert.Equal(t, paytree.L0004, code(err))
	_, down := h.eng.GatewayUnreachableSince()
	assert.True(t, down)
	// Retries while the network is down journal nothing: the probe finds it
	// down first.
	before := h.txn(id)
	time.Sleep(200 * time.Millisecond) // several minutes of the harness's fake time
	assert.Equal(t, before.UpdatedAt, h.txn(id).UpdatedAt, "nothing journaled while the gateway is unreachable")
	assert.False(t, h.txn(id).State.Terminal())
	assert.Len(t, h.sim.Ledger().Requests, 1, "only the pay reached the gateway")

	require.NoError(t, net.Up())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, h.eng.WaitRecovered(ctx))
	_, down = h.eng.GatewayUnreachableSince()
	assert.False(t, down)
	reps := h.eng.Recovered()
	require.Len(t, reps, 1, "one report per transaction, the latest attempt")
	assert.False(t, reps[0].GatewayUnreachable)
	assert.Nil(t, reps[0].Err)
	assert.Equal(t, atStart, reps[0].From, "the state at start-up, not at the last attempt")
	require.NotNil(t, reps[0].Result)
	assert.Equal(t, fsm.StatePaid, reps[0].Result.State, "the gateway had processed it")
	heldBy(1200)(t, h.sim.Ledger(), &wbpay.Result{TransactionID: id})
	got := h.waitEvents(1)
	assert.Equal(t, "complete:PAID", describe(got))
	assert.True(t, got[0].Complete.Recovered)

	res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})
	require.NoError(t, err, "requests are accepted again")
	assert.Equal(t, fsm.StatePaid, res.State)
}

// TestRecoveryPatience: with WithRecoveryPatience, recovery stops waiting
// for an unreachable gateway after that long, leaving the transaction
// unfinished (not escalated) and the engine usable; the next Open, with
// the gateway back, finishes it.
func TestRecoveryPatience(t *testing.T) {
	h := newHarness(t, harnessOpt{faults: []sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpRefund, Count: 1}}})
	paid, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 3000, UserCode: classCode(0)})
	require.NoError(t, err)
	net := newRelay(t, h.gw.URL())
	require.NoError(t, h.eng.Close())
	writeConf(t, h.home, testgw.Merge(baseConf("https://"+net.Addr), nil))
	h.open(0)

	// A refund the gateway processes; its answer is held; the power fails.
	require.NoError(t, h.eng.Refund(&wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 1000}))
	var id string
	require.Eventually(t, func() bool {
		for _, r := range h.sim.Ledger().Requests {
			if r.Operation == "refund" {
				id = r.RequestID
			}
		}
		return id != ""
	}, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, h.eng.Close())
	net.Down()

	h.extra = []wbpay.Option{wbpay.WithRecoveryPatience(3 * time.Minute)}
	h.open(0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, h.eng.WaitRecovered(ctx), "recovery gives up waiting after its patience")
	reps := h.eng.Recovered()
	require.Len(t, reps, 1)
	assert.True(t, reps[0].GatewayUnreachable)
	assert.Equal(t, paytree.N0001, reps[0].Err.Code)
	st := h.txn(id).State
	assert.False(t, st.Terminal(), "kept unfinished, not escalated: %s", st)
	_, err = h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: classCode(0)})
	require.NoError(t, err, "the engine takes requests again (this one cannot reach the gateway either)")
	require.NoError(t, h.eng.Close())

	require.NoError(t, net.Up())
	h.extra = nil
	h.open(0)
	require.NoError(t, h.eng.WaitRecovered(ctx))
	reps = h.eng.Recovered()
	require.Len(t, reps, 1)
	require.NotNil(t, reps[0].Result)
	assert.Equal(t, fsm.StateRefunded, reps[0].Result.State)
	assert.Equal(t, id, reps[0].TransactionID)
	heldBy(2000)(t, h.sim.Ledger(), paid)
}

// TestRecoveryOfWaitingPayWaitsForGateway: a pay waiting for the customer's
// approval when the POS went away is polled by recovery; with the network
// down it is kept as it is (not polled into its deadline and reversed), and
// once the network is back the approval is found.
func TestRecoveryOfWaitingPayWaitsForGateway(t *testing.T) {
	h := newHarness(t, harnessOpt{conf: map[string]string{"PayConfirmPollingMode": "no", "PayConfirmPollingTimeout": "600"}})
	net := newRelay(t, h.gw.URL())
	require.NoError(t, h.eng.Close())
	writeConf(t, h.home, testgw.Merge(baseConf("https://"+net.Addr), map[string]string{"PayConfirmPollingMode": "no", "PayConfirmPollingTimeout": "600"}))
	h.open(0)
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 700, UserCode: classCode(1)}))
	first := h.waitEvents(1)
	require.Equal(t, "complete:WAITING", describe(first))
	id := first[0].Complete.TransactionID
	require.NoError(t, h.eng.Close())
	net.Down()

	h.events = nil
	h.open(0)
	require.Eventually(t, func() bool {
		reps := h.eng.Recovered()
		return len(reps) == 1 && reps[0].GatewayUnreachable
	}, 20*time.Second, 5*time.Millisecond)
	assert.False(t, h.txn(id).State.Terminal())

	require.NoError(t, net.Up())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, h.eng.WaitRecovered(ctx))
	reps := h.eng.Recovered()
	require.Len(t, reps, 1)
	assert.Equal(t, fsm.StatePaid, reps[0].Result.State, "the customer had approved")
	heldBy(700)(t, h.sim.Ledger(), &wbpay.Result{TransactionID: id})
}
