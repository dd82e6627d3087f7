package fsm_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

var decideOps = []paytree.Operation{paytree.OpPay, paytree.OpDeposit, paytree.OpRefund, paytree.OpReverse, paytree.OpClose, paytree.OpConfirm}

// answers lists the verdicts the driver can meet about step for op: those
// its classifiers give for an answer, those without an answer (not sent,
// unreachable, stopped), and the engine's own (spent, timeout, restarted).
func answers(op paytree.Operation, step fsm.Step) []paytree.Verdict {
	noAnswer := []paytree.Verdict{paytree.VerdictNotSent, paytree.VerdictUnreachable, paytree.VerdictStopped}
	var v []paytree.Verdict
	switch step {
	case fsm.StepSend, fsm.StepResend:
		v = []paytree.Verdict{paytree.VerdictDone, paytree.VerdictFailed, paytree.VerdictNotProcessed, paytree.VerdictUnknown}
	case fsm.StepConfirm, fsm.StepPoll, fsm.StepApprove, fsm.StepDecline:
		v = []paytree.Verdict{paytree.VerdictDone, paytree.VerdictFailed, paytree.VerdictUnknown, paytree.VerdictNotFound}
	case fsm.StepReverse:
		v = []paytree.Verdict{paytree.VerdictDone, paytree.VerdictFailed, paytree.VerdictUnknown}
	case fsm.StepReverseConfirm:
		v = []paytree.Verdict{paytree.VerdictDone, paytree.VerdictFailed, paytree.VerdictUnknown, paytree.VerdictNotFound}
	}
	if op == paytree.OpPay && step != fsm.StepReverse && step != fsm.StepReverseConfirm {
		v = append(v, paytree.VerdictWaiting)
	}
	return append(v, noAnswer...)
}

// after is the state a decision leaves the transaction in.
func after(t *testing.T, op paytree.Operation, s fsm.State, d fsm.Decision) fsm.State {
	if d.Event == "" {
		return s
	}
	m, err := fsm.New(op, s)
	require.NoError(t, err)
	dst, err := m.Next(d.Event)
	require.NoError(t, err, "%s %s: event %s", op, s, d.Event)
	return dst
}

// requireRows fails unless every verdict of vs about step has a row in
// state s (the driver never meets an illegal input after an action).
func requireRows(t *testing.T, op paytree.Operation, s fsm.State, step fsm.Step, restarted bool, vs ...paytree.Verdict) {
	t.Helper()
	for _, v := range vs {
		_, err := fsm.Decide(op, s, step, v, restarted)
		assert.NoError(t, err, "%s %s: %s about %s (restarted %v) has no row", op, s, v, step, restarted)
	}
}

func canFire(t *testing.T, op paytree.Operation, s fsm.State, ev fsm.Event) {
	t.Helper()
	m, err := fsm.New(op, s)
	require.NoError(t, err)
	assert.True(t, m.Can(ev), "%s %s: the action journals %s, which the machine refuses", op, s, ev)
}

// TestDecisionTableExhaustive enumerates every (operation, state, step,
// verdict, run): each either has a decision or is ErrNoDecision. Every
// decision journals an event its machine allows, from a non-terminal
// state; its action can be carried out from the state the event leads to
// (the request it sends is a legal transition there), and every verdict
// that request's answer (or its budget) can give has a row in turn: the
// driver can never meet an input without a row.
func TestDecisionTableExhaustive(t *testing.T) {
	decided, illegal := 0, 0
	for _, op := range decideOps {
		for _, s := range fsm.AllStates() {
			for _, step := range fsm.AllSteps() {
				for _, v := range paytree.AllVerdicts() {
					for _, restarted := range []bool{false, true} {
						d, err := fsm.Decide(op, s, step, v, restarted)
						if err != nil {
							require.True(t, errors.Is(err, fsm.ErrNoDecision), "%v", err)
							assert.Contains(t, err.Error(), fmt.Sprintf("%s in state %s, verdict %s about %s", op, s, v, step))
							illegal++
							continue
						}
						decided++
						name := fmt.Sprintf("%s/%s/%s/%s/restarted=%v", op, s, step, v, restarted)
						require.Contains(t, fsm.States(op), s, name)
						require.False(t, s.Terminal(), "%s: a decision in a terminal state", name)
						dst := after(t, op, s, d)
						checkAction(t, op, dst, d, restarted, name)
						if v == paytree.VerdictRestarted {
							assert.True(t, restarted && step == fsm.StepRestart, "%s: restarted is recovery's entry only", name)
						}
					}
				}
			}
		}
	}
	total := len(decideOps) * len(fsm.AllStates()) * len(fsm.AllSteps()) * len(paytree.AllVerdicts()) * 2
	assert.Equal(t, total, decided+illegal, "every combination was enumerated")
	assert.Greater(t, decided, 200, "the table decides the sequences of four operations")
	t.Logf("%d inputs: %d decided, %d illegal", total, decided, illegal)
}

// sends describes the actions that send a request: the event journaled
// first, whether a budget is checked first (and the step its verdict spent
// is about), and the state and step of the answer.
var sends = map[fsm.Action]struct {
	event      fsm.Event
	budget     bool
	spentAbout fsm.Step
	answerIn   fsm.State
	step       fsm.Step
}{
	fsm.ActConfirm:        {fsm.EvConfirm, true, fsm.StepConfirm, fsm.StateConfirming, fsm.StepConfirm},
	fsm.ActConfirmReverse: {fsm.EvReverse, true, fsm.StepReverseConfirm, fsm.StateReversing, fsm.StepReverseConfirm},
	fsm.ActReverse:        {fsm.EvReverse, false, "", fsm.StateReversing, fsm.StepReverse},
	fsm.ActResendReverse:  {fsm.EvReverse, true, fsm.StepReverse, fsm.StateReversing, fsm.StepReverse},
	fsm.ActResend:         {fsm.EvResend, true, fsm.StepResend, fsm.StateResending, fsm.StepResend},
}

func checkAction(t *testing.T, op paytree.Operation, dst fsm.State, d fsm.Decision, restarted bool, name string) {
	t.Helper()
	if d.Action == fsm.ActEnd {
		assert.True(t, dst.Terminal(), "%s: ends in %s, not terminal", name, dst)
		return
	}
	assert.False(t, dst.Terminal(), "%s: %s from terminal %s", name, d.Action, dst)
	if x, ok := sends[d.Action]; ok {
		canFire(t, op, dst, x.event)
		if x.budget {
			requireRows(t, op, dst, x.spentAbout, restarted, paytree.VerdictSpent)
		}
		requireRows(t, op, x.answerIn, x.step, restarted, answers(op, x.step)...)
		return
	}
	switch d.Action {
	case fsm.ActAwait, fsm.ActAwaitPoll:
		assert.Equal(t, fsm.StateWaiting, dst, name)
		assert.Equal(t, restarted, d.Action == fsm.ActAwaitPoll, "%s: after a restart the wait polls, live it follows the mode", name)
		canFire(t, op, dst, fsm.EvConfirm)
		requireRows(t, op, dst, fsm.StepPoll, restarted, paytree.VerdictTimeout)
		for _, step := range []fsm.Step{fsm.StepPoll, fsm.StepApprove, fsm.StepDecline} {
			requireRows(t, op, fsm.StateConfirming, step, restarted, answers(op, step)...)
		}
	case fsm.ActPark:
		assert.Equal(t, fsm.EvPark, d.Event, name)
		assert.Equal(t, fsm.EmitUnreachable, d.Emit, name)
		assert.False(t, restarted, "%s: recovery never parks, it waits for the gateway itself", name)
	case fsm.ActLeave:
		assert.Empty(t, d.Event, "%s: nothing is journaled for an unreachable gateway in recovery", name)
		assert.True(t, restarted, name)
	case fsm.ActStop:
		assert.Empty(t, d.Event, name)
	default:
		t.Errorf("%s: unknown action %q", name, d.Action)
	}
}

// TestDecideSection7 pins the rules of contract section 7, one by one.
func TestDecideSection7(t *testing.T) {
	const live, recovery = false, true
	none := fsm.Decision{}
	tests := []struct {
		name      string
		op        paytree.Operation
		state     fsm.State
		step      fsm.Step
		v         paytree.Verdict
		restarted bool
		want      fsm.Decision
	}{
		{"pay PAID", paytree.OpPay, fsm.StateSending, fsm.StepSend, paytree.VerdictDone, live, fsm.Decision{Event: fsm.EvPaid, Emit: fsm.EmitComplete, Action: fsm.ActEnd}},
		{"deposit DEPOSITED", paytree.OpDeposit, fsm.StateSending, fsm.StepSend, paytree.VerdictDone, live, fsm.Decision{Event: fsm.EvDeposited, Emit: fsm.EmitComplete, Action: fsm.ActEnd}},
		{"pay WAITING: CompleteEvent, then the approval wait", paytree.OpPay, fsm.StateSending, fsm.StepSend, paytree.VerdictWaiting, live, fsm.Decision{Event: fsm.EvWait, Emit: fsm.EmitWaiting, Action: fsm.ActAwait}},
		{"pay refused: nothing to undo", paytree.OpPay, fsm.StateSending, fsm.StepSend, paytree.VerdictFailed, live, fsm.Decision{Event: fsm.EvFail, Emit: fsm.EmitError, Action: fsm.ActEnd}},
		{"pay unreachable at its first send: nothing left the host", paytree.OpPay, fsm.StateSending, fsm.StepSend, paytree.VerdictUnreachable, live, fsm.Decision{Event: fsm.EvFail, Emit: fsm.EmitError, Action: fsm.ActEnd}},
		{"pay UNKNOWN: confirm", paytree.OpPay, fsm.StateSending, fsm.StepSend, paytree.VerdictUnknown, live, fsm.Decision{Event: fsm.EvLost, Action: fsm.ActConfirm}},
		{"pay confirm still unknown: confirm again", paytree.OpPay, fsm.StateConfirming, fsm.StepConfirm, paytree.VerdictUnknown, live, fsm.Decision{Action: fsm.ActConfirm}},
		{"pay confirms spent: reverse", paytree.OpPay, fsm.StateConfirming, fsm.StepConfirm, paytree.VerdictSpent, live, fsm.Decision{Action: fsm.ActReverse}},
		{"pay never received (E3001): reverse", paytree.OpDeposit, fsm.StateConfirming, fsm.StepConfirm, paytree.VerdictNotFound, recovery, fsm.Decision{Action: fsm.ActReverse}},
		{"pay confirmed WAITING after a restart: the wait polls", paytree.OpPay, fsm.StateConfirming, fsm.StepConfirm, paytree.VerdictWaiting, recovery, fsm.Decision{Event: fsm.EvWait, Emit: fsm.EmitWaiting, Action: fsm.ActAwaitPoll}},
		{"reverse succeeded: ErrorEvent with the cause", paytree.OpPay, fsm.StateReversing, fsm.StepReverse, paytree.VerdictDone, live, fsm.Decision{Event: fsm.EvReversed, Emit: fsm.EmitCause, Action: fsm.ActEnd}},
		{"reverse refused: escalated, P0001", paytree.OpPay, fsm.StateReversing, fsm.StepReverse, paytree.VerdictFailed, live, fsm.Decision{Event: fsm.EvEscalate, Emit: fsm.EmitPostProcess, Action: fsm.ActEnd}},
		{"reverse unknown: confirm it", paytree.OpPay, fsm.StateReversing, fsm.StepReverse, paytree.VerdictUnknown, live, fsm.Decision{Action: fsm.ActConfirmReverse}},
		{"reverse confirms spent: resend the reverse", paytree.OpPay, fsm.StateReversing, fsm.StepReverseConfirm, paytree.VerdictSpent, live, fsm.Decision{Action: fsm.ActResendReverse}},
		{"reverse resends spent: escalated", paytree.OpDeposit, fsm.StateReversing, fsm.StepReverse, paytree.VerdictSpent, live, fsm.Decision{Event: fsm.EvEscalate, Emit: fsm.EmitPostProcess, Action: fsm.ActEnd}},
		{"PayConfirm(true), still WAITING: W0001", paytree.OpPay, fsm.StateConfirming, fsm.StepApprove, paytree.VerdictWaiting, live, fsm.Decision{Event: fsm.EvWait, Emit: fsm.EmitW0001, Action: fsm.ActAwait}},
		{"a poll, still WAITING: silent", paytree.OpPay, fsm.StateConfirming, fsm.StepPoll, paytree.VerdictWaiting, live, fsm.Decision{Event: fsm.EvWait, Action: fsm.ActAwait}},
		{"poll CANCELLED: ErrorEvent", paytree.OpPay, fsm.StateConfirming, fsm.StepPoll, paytree.VerdictFailed, live, fsm.Decision{Event: fsm.EvFail, Emit: fsm.EmitError, Action: fsm.ActEnd}},
		{"PayConfirm(false), not paid: reverse, E2004", paytree.OpPay, fsm.StateConfirming, fsm.StepDecline, paytree.VerdictWaiting, live, fsm.Decision{Cause: paytree.E2004, Action: fsm.ActReverse}},
		{"PayConfirm(false), PAID after all", paytree.OpPay, fsm.StateConfirming, fsm.StepDecline, paytree.VerdictDone, live, fsm.Decision{Event: fsm.EvPaid, Emit: fsm.EmitComplete, Action: fsm.ActEnd}},
		{"approval timed out: reverse, E2005", paytree.OpPay, fsm.StateWaiting, fsm.StepPoll, paytree.VerdictTimeout, recovery, fsm.Decision{Cause: paytree.E2005, Action: fsm.ActReverse}},
		{"refund UNKNOWN: confirm", paytree.OpRefund, fsm.StateSending, fsm.StepSend, paytree.VerdictUnknown, live, fsm.Decision{Event: fsm.EvLost, Action: fsm.ActConfirm}},
		{"refund confirms spent: resend, same requestId", paytree.OpRefund, fsm.StateConfirming, fsm.StepConfirm, paytree.VerdictSpent, live, fsm.Decision{Action: fsm.ActResend}},
		{"refund resends spent: escalated, CPSCall", paytree.OpRefund, fsm.StateConfirming, fsm.StepResend, paytree.VerdictSpent, live, fsm.Decision{Event: fsm.EvEscalate, Emit: fsm.EmitCPSCall, Action: fsm.ActEnd}},
		{"a refund's confirm answers PROCESSING during recovery: confirm again", paytree.OpRefund, fsm.StateConfirming, fsm.StepConfirm, paytree.VerdictUnknown, recovery, fsm.Decision{Action: fsm.ActConfirm}},
		{"not processed settles only itself: a resend E9002 is a lost answer", paytree.OpReverse, fsm.StateResending, fsm.StepResend, paytree.VerdictNotProcessed, live, fsm.Decision{Event: fsm.EvLost, Action: fsm.ActConfirm}},
		{"not processed at the first send: nothing moved", paytree.OpReverse, fsm.StateSending, fsm.StepSend, paytree.VerdictNotProcessed, live, fsm.Decision{Event: fsm.EvFail, Emit: fsm.EmitError, Action: fsm.ActEnd}},
		{"unreachable on a resend, live: park, N0007", paytree.OpRefund, fsm.StateResending, fsm.StepResend, paytree.VerdictUnreachable, live, fsm.Decision{Event: fsm.EvPark, Emit: fsm.EmitUnreachable, Action: fsm.ActPark}},
		{"unreachable on a resend, recovery: leave it for the wait", paytree.OpRefund, fsm.StateResending, fsm.StepResend, paytree.VerdictUnreachable, recovery, fsm.Decision{Action: fsm.ActLeave}},
		{"restart in sending: lost, confirm", paytree.OpPay, fsm.StateSending, fsm.StepRestart, paytree.VerdictRestarted, recovery, fsm.Decision{Event: fsm.EvLost, Action: fsm.ActConfirm}},
		{"restart in reversing: resend the reverse", paytree.OpDeposit, fsm.StateReversing, fsm.StepRestart, paytree.VerdictRestarted, recovery, fsm.Decision{Action: fsm.ActReverse}},
		{"restart in waiting: poll", paytree.OpPay, fsm.StateWaiting, fsm.StepRestart, paytree.VerdictRestarted, recovery, fsm.Decision{Action: fsm.ActAwaitPoll}},
		{"restart in resending: lost, confirm", paytree.OpReverse, fsm.StateResending, fsm.StepRestart, paytree.VerdictRestarted, recovery, fsm.Decision{Event: fsm.EvLost, Action: fsm.ActConfirm}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fsm.Decide(tc.op, tc.state, tc.step, tc.v, tc.restarted)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.NotEqual(t, none, got)
		})
	}
}

// TestDecideIllegal: inputs no sequence reaches are refused, naming them.
func TestDecideIllegal(t *testing.T) {
	for _, in := range []struct {
		op        paytree.Operation
		state     fsm.State
		step      fsm.Step
		v         paytree.Verdict
		restarted bool
	}{
		{paytree.OpDeposit, fsm.StateSending, fsm.StepSend, paytree.VerdictWaiting, false},  // a deposit never waits
		{paytree.OpRefund, fsm.StateReversing, fsm.StepReverse, paytree.VerdictDone, false}, // a refund is never reversed
		{paytree.OpPay, fsm.StatePaid, fsm.StepConfirm, paytree.VerdictDone, false},         // terminal
		{paytree.OpPay, fsm.StateSending, fsm.StepSend, paytree.VerdictDone, true},          // recovery never sends a first request
		{paytree.OpPay, fsm.StateSending, fsm.StepRestart, paytree.VerdictRestarted, false},
		{paytree.OpClose, fsm.StateNew, fsm.StepSend, paytree.VerdictDone, false},
		{paytree.OpConfirm, fsm.StateSending, fsm.StepSend, paytree.VerdictDone, false},
	} {
		_, err := fsm.Decide(in.op, in.state, in.step, in.v, in.restarted)
		require.ErrorIs(t, err, fsm.ErrNoDecision)
		assert.Contains(t, err.Error(), string(in.state))
	}
}

// TestDecideRulesAcrossSection7 checks the v1.1 rules over the whole table:
// an unreachable gateway is never an escalation nor a failure once a
// request may have reached the gateway; recovery never parks; every
// unfinished state has a recovery entry; close has no decisions.
func TestDecideRulesAcrossSection7(t *testing.T) {
	for _, op := range []paytree.Operation{paytree.OpPay, paytree.OpDeposit, paytree.OpRefund, paytree.OpReverse} {
		for _, r := range fsm.Decisions(op) {
			if slices.Contains(r.Verdicts, paytree.VerdictUnreachable) && r.Step != fsm.StepSend {
				assert.NotContains(t, []fsm.Event{fsm.EvEscalate, fsm.EvFail}, r.Event, "%s %v: an unreachable gateway is no answer", op, r.States)
				assert.Contains(t, []fsm.Action{fsm.ActPark, fsm.ActLeave}, r.Action)
			}
			if r.When == fsm.Recovery {
				assert.NotEqual(t, fsm.ActPark, r.Action)
			}
		}
		for _, s := range fsm.States(op) {
			if s == fsm.StateNew || s.Terminal() {
				continue
			}
			_, err := fsm.Decide(op, s, fsm.StepRestart, paytree.VerdictRestarted, true)
			assert.NoError(t, err, "%s %s: recovery has no entry", op, s)
		}
	}
	assert.Empty(t, fsm.Decisions(paytree.OpClose))
	assert.Empty(t, fsm.DecisionMarkdown(paytree.OpClose))
}
