package wbpay_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func requireCode(t *testing.T, err error, code string) *wbpay.Error {
	t.Helper()
	var we *wbpay.Error
	require.True(t, errors.As(err, &we), "error %v is a *wbpay.Error", err)
	assert.Equal(t, code, we.Code, "error: %v", err)
	return we
}

// TestIdempotencyKeyReplays: a retry with the same key gets the first
// transaction back and sends nothing, also after a restart and while the
// first still waits for the customer; another request under the key is
// refused with L0010 before anything is sent.
func TestIdempotencyKeyReplays(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	ctx := context.Background()
	req := func(amount int64) *wbpay.PayRequest {
		return &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: amount, UserCode: "281234567890123456", ReceiptNo: "R-1", IdempotencyKey: "R-1"}
	}
	first, err := h.eng.PaySync(ctx, req(1000))
	require.NoError(t, err)
	require.Equal(t, fsm.StatePaid, first.State)
	assert.False(t, first.Replayed)
	orders := len(h.sim.Ledger().Orders)

	again, err := h.eng.PaySync(ctx, req(1000))
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.TransactionID, again.TransactionID)
	assert.Equal(t, fsm.StatePaid, again.State)
	assert.Equal(t, first.OrderID, again.OrderID)
	assert.Empty(t, again.Events, "a replay raises no event again")

	tk, err := h.eng.Submit(req(1000))
	require.NoError(t, err)
	assert.Equal(t, wbpay.Ticket{TransactionID: first.TransactionID, Replayed: true}, tk)

	_, err = h.eng.PaySync(ctx, req(2000))
	we := requireCode(t, err, paytree.L0010)
	assert.Contains(t, we.Message, first.TransactionID, "the refusal names the transaction the key started")
	_, err = h.eng.Submit(&wbpay.RefundRequest{OrderID: first.OrderID, RefundAmount: 100, IdempotencyKey: "R-1"})
	requireCode(t, err, paytree.L0010)
	assert.Len(t, h.sim.Ledger().Orders, orders, "no replay or refusal reached the gateway")

	require.NoError(t, h.eng.Close())
	h.open(0)
	after, err := h.eng.PaySync(ctx, req(1000))
	require.NoError(t, err)
	assert.True(t, after.Replayed, "the key is kept in the journal across a restart")
	assert.Equal(t, first.TransactionID, after.TransactionID)
	assert.Len(t, h.sim.Ledger().Orders, orders)

	// A refund retried with its key refunds once.
	rf := &wbpay.RefundRequest{OrderID: first.OrderID, RefundAmount: 300, IdempotencyKey: "refund-R-1"}
	r1, err := h.eng.RefundSync(ctx, rf)
	require.NoError(t, err)
	require.Equal(t, fsm.StateRefunded, r1.State)
	r2, err := h.eng.RefundSync(ctx, rf)
	require.NoError(t, err)
	assert.True(t, r2.Replayed)
	for _, o := range h.sim.Ledger().Orders {
		if o.OrderID == first.OrderID {
			assert.EqualValues(t, 300, o.RefundedTotal, "refunded once")
		}
	}
}

// TestIdempotencyKeyWhileWaiting: a retry while the first pay waits for the
// customer's passcode gets that pay back instead of L0004.
func TestIdempotencyKeyWhileWaiting(t *testing.T) {
	h := newHarness(t, harnessOpt{conf: map[string]string{"PayConfirmPollingMode": "no"}})
	req := &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 700, UserCode: "99" + strings.Repeat("0", 15) + "1", IdempotencyKey: "wait-1"}
	tk, err := h.eng.Submit(req)
	require.NoError(t, err)
	h.waitEvents(1) // the WAITING CompleteEvent
	again, err := h.eng.Submit(req)
	require.NoError(t, err)
	assert.Equal(t, wbpay.Ticket{TransactionID: tk.TransactionID, Replayed: true}, again)
	_, err = h.eng.Submit(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 700, UserCode: "281234567890123456"})
	requireCode(t, err, paytree.L0004) // an unkeyed pay is still refused while one runs

	// A waiting retry gets the first pay's end, once it has one.
	done := make(chan *wbpay.Result, 1)
	go func() {
		res, err := h.eng.PaySync(context.Background(), req)
		assert.NoError(t, err)
		done <- res
	}()
	require.NoError(t, h.eng.PayConfirm(false))
	res := <-done
	require.NotNil(t, res)
	assert.True(t, res.Replayed)
	assert.Equal(t, tk.TransactionID, res.TransactionID)
	assert.True(t, res.State.Terminal(), "the replay waited for the end: %s", res.State)
}

func TestIdempotencyKeyRules(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	for _, key := range []string{strings.Repeat("k", 65), "has space", "日本", "a/b"} {
		_, err := h.eng.Submit(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1, UserCode: "281234567890123456", IdempotencyKey: key})
		we := requireCode(t, err, paytree.L0003)
		assert.Contains(t, we.Message, "IdempotencyKey", "key %q", key)
	}
	assert.Empty(t, h.sim.Ledger().Orders)
}
