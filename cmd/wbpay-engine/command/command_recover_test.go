package command

import (
	"encoding/json"
	"net"
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

// waitFor polls cond every millisecond for at most 20 s of real time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// crashedPay leaves a pay unfinished in the journal: the gateway processes
// it and holds the answer, and the engine is closed (as by a crash) before
// the answer arrives. It returns the transaction id.
func (e *cliEnv) crashedPay(amount int64) string {
	e.t.Helper()
	e.sim.SetFaults([]sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpPay, Count: 1}})
	defer e.sim.SetFaults(nil)
	before := len(e.sim.Ledger().Requests)
	eng := e.open()
	require.NoError(e.t, eng.Pay(&wbpay.PayRequest{PayType: paytree.PayPay, Amount: amount, UserCode: "281234567890123456"}))
	waitFor(e.t, "the gateway to receive the pay", func() bool { return len(e.sim.Ledger().Requests) > before })
	require.NoError(e.t, eng.Close())
	unfinished, err := e.unfinished()
	require.NoError(e.t, err)
	require.Len(e.t, unfinished, 1)
	return unfinished[0]
}

// unfinished lists the ids of unfinished transactions, read-only.
func (e *cliEnv) unfinished() ([]string, error) {
	g := &globals{home: e.home}
	j, err := g.openJournal()
	if err != nil {
		return nil, err
	}
	defer j.Close()
	txns, err := j.Unfinished()
	var ids []string
	for _, t := range txns {
		ids = append(ids, t.ID)
	}
	return ids, err
}

func TestRecoverNothingToDo(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("recover")
	assert.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, "Nothing to recover")

	r = e.run("recover", "-o", "json")
	assert.Equal(t, ExitOK, r.code)
	assert.JSONEq(t, "[]", r.stdout)
}

func TestRecoverFinishesACrashedPay(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	id := e.crashedPay(2500)

	r := e.run("recover", "-o", "json")
	require.Equal(t, ExitOK, r.code)
	var out []recoveryJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Len(t, out, 1)
	rec := out[0]
	assert.Equal(t, id, rec.TransactionID)
	assert.Equal(t, "pay", rec.Operation)
	assert.Contains(t, []string{"sending", "unknown"}, rec.From, "where the crash left it")
	assert.Equal(t, "paid", rec.To)
	assert.False(t, rec.NeedsPerson)
	require.NotEmpty(t, rec.Events)
	assert.True(t, rec.Events[len(rec.Events)-1].Recovered)
	o, ok := e.sim.Ledger().OrderByRequestID(id)
	require.True(t, ok)
	assert.Equal(t, int64(2500), o.MoneyHeld(), "journal paid ⇔ the gateway holds the money")

	left, err := e.unfinished()
	require.NoError(t, err)
	assert.Empty(t, left)
	r = e.run("recover")
	assert.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, "Nothing to recover", "recovery ran once")
}

func TestRecoverEscalatesWhatCannotBeSettled(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	id := e.crashedPay(900)
	e.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost}}) // no answer reaches the engine any more

	r := e.run("recover")
	assert.Equal(t, ExitEscalate, r.code)
	assert.Contains(t, r.stdout, "pay "+id+": ")
	assert.Contains(t, r.stdout, "-> escalated")
	assert.Contains(t, r.stdout, "NEEDS A PERSON")
	assert.Contains(t, r.stdout, "NEED A PERSON: call CPS")
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StateEscalated, r.results[0].State)

	// history lists it under its own heading first.
	e.sim.SetFaults(nil)
	h := e.run("history")
	require.Equal(t, ExitOK, h.code)
	assert.Regexp(t, `^NEED A PERSON \(escalated`, h.stdout)
}

func TestRecoverLibraryErrors(t *testing.T) {
	r := runBare(t, "recover", "--home", t.TempDir())
	assert.Equal(t, ExitLibrary, r.code)
	assert.Contains(t, r.stderr, "no configuration file")
}

func TestRequestVerbsRecoverFirst(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	id := e.crashedPay(1100)
	r := e.run("pay", "--amount", "100", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stderr, "recovered 1 unfinished transaction(s) first")
	assert.Contains(t, r.stderr, id)
	left, err := e.unfinished()
	require.NoError(t, err)
	assert.Empty(t, left)
}

// TestRecoverWaitsForTheGateway: with the gateway unreachable, recover
// escalates nothing, lists the pay as waiting for the gateway and exits 4
// (outcome unknown) once --gateway-wait has passed; with the network back it finishes it.
func TestRecoverWaitsForTheGateway(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	id := e.crashedPay(1300)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String() // nothing listens there once closed: connection refused
	require.NoError(t, ln.Close())
	conf := testgw.LiveConf(e.srv.URL)
	conf["ServerURL"] = "https://" + closed
	e.writeConf(conf)

	r := e.run("recover", "--gateway-wait", "3m", "-o", "json")
	assert.Equal(t, ExitEscalate, r.code, "stderr: %s", r.stderr)
	var out []recoveryJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out, 1)
	assert.Equal(t, id, out[0].TransactionID)
	assert.True(t, out[0].GatewayUnreachable)
	assert.False(t, out[0].NeedsPerson, "an unreachable gateway is not a case for CPS")
	assert.NotEqual(t, "escalated", out[0].To)
	require.NotNil(t, out[0].Error)
	assert.Equal(t, paytree.N0001, out[0].Error.Code)

	r = e.runWith(runOpts{tty: true}, "recover", "--gateway-wait", "1m")
	assert.Equal(t, ExitEscalate, r.code)
	assert.Contains(t, r.stderr, "the gateway cannot be reached", "said while it waits, on a terminal")
	assert.Contains(t, r.stdout, "1 transaction(s) WAIT FOR THE GATEWAY")
	assert.NotContains(t, r.stdout, "NEED A PERSON")
	left, err := e.unfinished()
	require.NoError(t, err)
	assert.Equal(t, []string{id}, left, "kept unfinished")

	e.writeConf(testgw.LiveConf(e.srv.URL))
	r = e.run("recover")
	assert.Equal(t, ExitOK, r.code, "stdout: %s", r.stdout)
	assert.Contains(t, r.stdout, "-> paid")
	o, ok := e.sim.Ledger().OrderByRequestID(id)
	require.True(t, ok)
	assert.Equal(t, int64(1300), o.MoneyHeld())
}
