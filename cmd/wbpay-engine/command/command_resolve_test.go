package command

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// orderRefunded returns the simulator's refunded total of orderID.
func orderRefunded(t *testing.T, e *cliEnv, orderID string) int64 {
	t.Helper()
	for _, o := range e.sim.Ledger().Orders {
		if o.OrderID == orderID {
			return o.RefundedTotal
		}
	}
	t.Fatalf("order %s not in the ledger", orderID)
	return 0
}

// TestRepeatAfterCrashNotSentAgain (issue 9.4): a refund is cut short after
// the gateway processed it (its answer lost, and the journal failing before
// the engine could record that); the cashier repeats the command. The
// verb's own recovery finishes the first refund, and the repeat is not sent
// again unless --again says so.
func TestRepeatAfterCrashNotSentAgain(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	_, paid := e.payJSON("--amount", "1000", "--user-code", "281234567890123456")
	require.Equal(t, "paid", paid.State)

	eng := e.open()
	e.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpRefund, Count: 1}})
	restore := crashpoint.Set(func(name string) error {
		if name == crashpoint.Name("refund", string(fsm.EvLost), "journal-before") {
			return errors.New("power failed (injected)")
		}
		return nil
	})
	res, err := eng.RefundSync(context.Background(), &wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 500})
	restore()
	require.NoError(t, err)
	require.Equal(t, fsm.StateSending, res.State, "the refund is left unfinished")
	require.NoError(t, eng.Close())
	require.EqualValues(t, 500, orderRefunded(t, e, paid.OrderID))

	r := e.run("refund", "--order-id", paid.OrderID, "--amount", "500", "-o", "json")
	assert.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stderr, "NOT SENT AGAIN")
	assert.Contains(t, r.stderr, res.TransactionID)
	assert.EqualValues(t, 500, orderRefunded(t, e, paid.OrderID), "refunded once")
	assert.Contains(t, r.stdout, res.TransactionID, "prints the finished refund")

	again := e.run("refund", "--order-id", paid.OrderID, "--amount", "500", "--again")
	assert.Equal(t, ExitOK, again.code)
	assert.EqualValues(t, 1000, orderRefunded(t, e, paid.OrderID), "--again sends a new one")
}

// TestResolveCommand: resolve records CPS's answer on an escalated refund,
// shows it in show and history, and sends nothing.
func TestResolveCommand(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	_, paid := e.payJSON("--amount", "1000", "--user-code", "281234567890123456")
	e.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Probability: 1}})
	r := e.run("refund", "--order-id", paid.OrderID, "--amount", "400", "-o", "json")
	require.Equal(t, ExitEscalate, r.code)
	e.sim.SetFaults(nil)
	hist := e.run("history", "--op", "refund", "-o", "json")
	require.Equal(t, ExitOK, hist.code)
	refundID := jsonField(t, hist.stdout, "transactionId")
	requests := len(e.sim.Ledger().Requests)

	blocked := e.run("refund", "--order-id", paid.OrderID, "--amount", "100")
	assert.Equal(t, ExitLibrary, blocked.code)
	assert.Contains(t, blocked.stderr, "L0012")

	bad := e.run("resolve", refundID, "--outcome", "paid", "--note", "x", "--operator", "sato")
	assert.Equal(t, ExitLibrary, bad.code)
	assert.Contains(t, bad.stderr, "does not fit")
	ok := e.run("resolve", refundID, "--outcome", "refunded", "--note", "CPS ticket 99: refunded", "--operator", "sato")
	require.Equal(t, ExitOK, ok.code)
	assert.Contains(t, ok.stdout, "RESOLVED")
	assert.Len(t, e.sim.Ledger().Requests, requests, "resolve sends nothing")

	show := e.run("show", refundID)
	assert.Contains(t, show.stdout, "resolved")
	assert.Contains(t, show.stdout, "as refunded by sato")
	assert.Contains(t, show.stdout, "CPS ticket 99")
	h := e.run("history")
	assert.Contains(t, h.stdout, "resolved as refunded")
	assert.Contains(t, h.stdout, "paid, refunded 400")
	assert.NotContains(t, h.stdout, "NEED A PERSON", "nothing is escalated any more")

	e.run("refund", "--order-id", paid.OrderID, "--amount", "600")
	held := e.run("history", "--state", "paid")
	assert.Contains(t, held.stdout, "No transactions.", "a wholly refunded pay holds no money")
}

// jsonField returns field of the first object of a JSON array.
func jsonField(t *testing.T, out, field string) string {
	t.Helper()
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &list), "stdout: %s", out)
	require.NotEmpty(t, list)
	v, _ := list[0][field].(string)
	require.NotEmpty(t, v, "field %s in %s", field, out)
	return v
}
