package command

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

// waitingConf answers WAITING to every pay; the application must call
// PayConfirm (PayConfirmPollingMode = no).
func waitingConf(class string) map[string]string {
	return map[string]string{"TestClassPay": class, "PayConfirmPollingMode": "no",
		"PayConfirmPollingWait": "1", "PayConfirmPollingInterval": "1", "PayConfirmPollingTimeout": "30"}
}

func hasWaiting(r *wbpay.Result) bool {
	for _, ev := range r.Events {
		if ev.Complete != nil && ev.Complete.TransStatus == paytree.StatusWaiting {
			return true
		}
	}
	return false
}

func TestWaitingPayWithoutTerminalPolls(t *testing.T) {
	e := newTestMode(t, waitingConf("1"))
	r := e.run("pay", "--amount", "800", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(t, ExitOK, r.code)
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StatePaid, r.results[0].State)
	assert.True(t, hasWaiting(r.results[0]), "WAITING came first")
	assert.NotContains(t, r.stderr, "The customer must approve", "no prompt without a terminal")
}

func TestWaitingPayPromptEnterThenPolls(t *testing.T) {
	e := newTestMode(t, waitingConf("1"))
	r := e.runWith(runOpts{stdin: "\n", tty: true}, "pay", "--amount", "800", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(t, ExitOK, r.code)
	assert.Equal(t, fsm.StatePaid, r.results[0].State)
	assert.Contains(t, r.stderr, "The customer must approve on their phone. Enter = ask the gateway now, c + Enter = cancel")
	assert.Contains(t, r.stderr, "asking the gateway")
	assert.Contains(t, r.stderr, "time left")
	// At the end of input the cashier is told what happens next (the
	// progress line of the WAITING state may or may not be sampled).
	assert.Contains(t, r.stderr, "(no more input) waiting for the customer to approve on their phone: asking the gateway every 1s")
}

func TestWaitingPayPromptCancelReverses(t *testing.T) {
	e := newTestMode(t, waitingConf("7")) // never approved
	r := e.runWith(runOpts{stdin: "c\n", tty: true}, "pay", "--amount", "800", "--user-code", "281234567890123456", "--pay-type", "PAYPAY", "-o", "json")
	assert.Equal(t, ExitRefused, r.code)
	require.Len(t, r.results, 1)
	res := r.results[0]
	assert.Equal(t, fsm.StateReversed, res.State)
	require.NotNil(t, res.Err())
	assert.Equal(t, paytree.E2004, res.Err().Code)
	assert.Contains(t, r.stderr, "cancelling")
}

func TestWaitingPayEnginePollsInPollingMode(t *testing.T) {
	conf := waitingConf("1")
	conf["PayConfirmPollingMode"] = "yes"
	e := newTestMode(t, conf)
	r := e.runWith(runOpts{tty: true}, "pay", "--amount", "800", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(t, ExitOK, r.code)
	assert.True(t, hasWaiting(r.results[0]))
	assert.Contains(t, r.stderr, "the engine asks the gateway every 1s")
	assert.NotContains(t, r.stderr, "Enter = ask the gateway now", "nothing to prompt: the engine polls")
}

func TestWaitingPayTimesOutAndIsReversed(t *testing.T) {
	conf := waitingConf("7")
	conf["PayConfirmPollingTimeout"] = "5"
	e := newTestMode(t, conf)
	r := e.run("pay", "--amount", "800", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	assert.Equal(t, ExitRefused, r.code)
	assert.Equal(t, fsm.StateReversed, r.results[0].State)
	assert.Contains(t, r.stdout, "E2005")
	assert.Contains(t, r.stdout, "NOT PAID")
}
