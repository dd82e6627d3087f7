package command

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// paid pays amount over the env's HTTPS simulator and returns the order id.
func (e *cliEnv) paid(amount string) (txnID, orderID string) {
	e.t.Helper()
	r, res := e.payJSON("--amount", amount, "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(e.t, ExitOK, r.code)
	return res.TransactionID, res.OrderID
}

func TestRefundPartialThenFull(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	txn, order := e.paid("1000")

	r := e.run("refund", "--order-id", order, "--amount", "300", "--reason", "returned goods")
	require.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, "REFUNDED: 300 yen of order "+order)
	assert.Contains(t, r.stdout, "PARTIALLY_REFUNDED")
	o, _ := e.sim.Ledger().OrderByRequestID(txn)
	assert.Equal(t, int64(700), o.MoneyHeld())

	r = e.run("refund", "--order-id", order, "--amount", "700.5", "-o", "json")
	require.Equal(t, ExitOK, r.code)
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StateRefunded, r.results[0].State)
	assert.Equal(t, int64(700), r.results[0].Amount)
	assert.Contains(t, r.stdout, `"refundedTotal": 1000`)
	o, _ = e.sim.Ledger().OrderByRequestID(txn)
	assert.Equal(t, int64(0), o.MoneyHeld())
}

func TestRefundRefused(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	_, order := e.paid("1000")
	for _, tc := range []struct {
		name, order, amount, code string
	}{
		{"more than paid", order, "1001", paytree.E3002},
		{"unknown order", "PT000000000000000000000000000000", "1", paytree.E3001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run("refund", "--order-id", tc.order, "--amount", tc.amount)
			assert.Equal(t, ExitRefused, r.code)
			assert.Contains(t, r.stdout, "REFUND REFUSED: nothing was refunded")
			assert.Contains(t, r.stdout, tc.code)
			assert.Contains(t, r.stdout, "what to do:")
		})
	}
}

func TestRefundLostAnswerIsResentNotReissued(t *testing.T) {
	e := newHTTPS(t, nil, func(c *sim.Config) { c.Classes.Refund = 1 })
	_, order := e.paid("1000")
	r := e.run("refund", "--order-id", order, "--amount", "400")
	require.Equal(t, ExitOK, r.code)
	require.Len(t, r.results, 1)
	refunds := 0
	for _, q := range e.sim.Ledger().Requests {
		if q.Operation == "refund" {
			refunds++
			assert.Equal(t, r.results[0].TransactionID, q.RequestID, "the one refund is the transaction's own request")
		}
	}
	assert.Equal(t, 1, refunds, "a lost refund answer is resent with the same requestId, never reissued")
}

func TestRefundUsageErrors(t *testing.T) {
	e := newTestMode(t, nil)
	for _, args := range [][]string{
		{"refund", "--amount", "1"},
		{"refund", "--order-id", "X"},
		{"refund", "--order-id", "", "--amount", "1"},
		{"refund", "--order-id", "X", "--amount", "0.5"},
	} {
		r := e.run(args...)
		assert.Equal(t, ExitUsage, r.code, "%v", args)
	}
}
