package command

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func TestReverseCancelsTheOrder(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	txn, order := e.paid("1500")
	r := e.run("reverse", "--order-id", order)
	require.Equal(t, ExitOK, r.code, "a reverse that reversed is done as asked")
	assert.Contains(t, r.stdout, "REVERSED: order "+order+" is cancelled, 1,500 yen returned")
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StateReversed, r.results[0].State)
	o, _ := e.sim.Ledger().OrderByRequestID(txn)
	assert.Equal(t, int(paytree.StatusReversed), o.TransStatus)
	assert.Equal(t, int64(0), o.MoneyHeld())

	// Reversing it again moves nothing and is not an error (contract 4).
	r = e.run("reverse", "--order-id", order, "-o", "json")
	assert.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, `"amount": 0`)
}

func TestReverseRefusedAfterRefund(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	txn, order := e.paid("1500")
	require.Equal(t, ExitOK, e.run("refund", "--order-id", order, "--amount", "100").code)
	r := e.run("reverse", "--order-id", order)
	assert.Equal(t, ExitRefused, r.code)
	assert.Contains(t, r.stdout, "REVERSE REFUSED: the order is unchanged")
	assert.Contains(t, r.stdout, paytree.E3003)
	o, _ := e.sim.Ledger().OrderByRequestID(txn)
	assert.Equal(t, int64(1400), o.MoneyHeld())
}

func TestReverseUsage(t *testing.T) {
	r := runBare(t, "reverse", "--home", t.TempDir())
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, `required flag(s) "order-id"`)
}
