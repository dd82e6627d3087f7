package command

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// waitingPay leaves a pay waiting for the customer in the journal: the
// engine is closed after the WAITING answer. It returns the transaction id.
func (e *cliEnv) waitingPay() string {
	e.t.Helper()
	eng := e.open()
	waiting := make(chan string, 1)
	eng.OnComplete(func(c wbpay.Completion) {
		if c.TransStatus == paytree.StatusWaiting {
			waiting <- c.TransactionID
		}
	})
	require.NoError(e.t, eng.Pay(&wbpay.PayRequest{PayType: paytree.PayPay, Amount: 600, UserCode: "281234567890123456"}))
	var id string
	select {
	case id = <-waiting:
	case <-time.After(20 * time.Second):
		e.t.Fatal("the pay never answered WAITING")
	}
	require.NoError(e.t, eng.Close())
	return id
}

func TestConfirmNothingWaiting(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("confirm")
	assert.Equal(t, ExitLibrary, r.code)
	assert.Contains(t, r.stderr, "L0008")
}

func TestConfirmFinishesAWaitingPay(t *testing.T) {
	e := newHTTPS(t, map[string]string{"PayConfirmPollingWait": "1", "PayConfirmPollingInterval": "1"},
		func(c *sim.Config) { c.Classes.Pay = 1; c.ApproveAfter = 10 * time.Second })
	id := e.waitingPay()
	r := e.run("confirm", "-o", "json")
	require.Equal(t, ExitOK, r.code)
	require.Len(t, r.results, 1)
	assert.Equal(t, id, r.results[0].TransactionID)
	assert.Equal(t, fsm.StatePaid, r.results[0].State)
	assert.Contains(t, r.stdout, `"from": "waiting"`)
	o, _ := e.sim.Ledger().OrderByRequestID(id)
	assert.Equal(t, int64(600), o.MoneyHeld())
}

func TestConfirmCancelReverses(t *testing.T) {
	e := newHTTPS(t, nil, func(c *sim.Config) { c.Classes.Pay = 7 })
	id := e.waitingPay()
	r := e.run("confirm", "--cancel")
	assert.Equal(t, ExitRefused, r.code)
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StateReversed, r.results[0].State)
	assert.Contains(t, r.stdout, "pay "+id+": waiting -> reversed")
	o, _ := e.sim.Ledger().OrderByRequestID(id)
	assert.Equal(t, int64(0), o.MoneyHeld())
}

func TestConfirmPromptOnTerminal(t *testing.T) {
	e := newHTTPS(t, map[string]string{"PayConfirmPollingTimeout": "600"}, func(c *sim.Config) { c.Classes.Pay = 7 })
	e.waitingPay()
	r := e.runWith(runOpts{stdin: "c\n", tty: true}, "confirm")
	assert.Equal(t, ExitRefused, r.code)
	assert.Contains(t, r.stderr, "The customer must approve on their phone")
	assert.Contains(t, r.stderr, "cancelling")
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StateReversed, r.results[0].State)
}
