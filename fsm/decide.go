package fsm

import (
	"fmt"
	"strings"

	"github.com/wbpay/wbpay/paytree"
)

// Step is the exchange a verdict is about: the request whose answer it
// classifies, or, for a verdict without an answer (spent, timeout,
// restarted), the step the sequence was about to take.
type Step string

// Steps of contract section 7.
const (
	StepSend           Step = "send"            // the transaction's own request, sent the first time
	StepConfirm        Step = "confirm"         // a confirm of the transaction's own request (counts towards RequestConfirmNum)
	StepPoll           Step = "poll"            // approval wait: a polling confirm, or the wait's deadline
	StepApprove        Step = "approve"         // approval wait: the confirm PayConfirm(true) sends
	StepDecline        Step = "decline"         // approval wait: the confirm PayConfirm(false) sends
	StepResend         Step = "resend"          // a refund/reverse resent with its own requestId
	StepReverse        Step = "reverse"         // the reverse that undoes a pay/deposit (first send or resend)
	StepReverseConfirm Step = "confirm-reverse" // a confirm of that reverse
	StepRestart        Step = "restart"         // the engine (re)started with the transaction unfinished
)

// AllSteps lists every step, in the order the decision tables use.
func AllSteps() []Step {
	return []Step{StepSend, StepConfirm, StepPoll, StepApprove, StepDecline, StepResend, StepReverse, StepReverseConfirm, StepRestart}
}

// Action is what the driver does after journaling a decision's event.
type Action string

// Actions.
const (
	ActEnd            Action = "end"              // nothing more: the event ended the transaction
	ActConfirm        Action = "confirm"          // wait RequestConfirmInterval, confirm the own request; RequestConfirmNum spent → verdict spent
	ActReverse        Action = "reverse"          // send the reverse of the pay/deposit by targetRequestId (the same reverse requestId ever after)
	ActConfirmReverse Action = "confirm-reverse"  // wait RequestConfirmInterval, confirm that reverse; RequestConfirmNum spent → verdict spent
	ActResendReverse  Action = "resend-reverse"   // resends spent → verdict spent (step reverse); else wait RequestConfirmInterval, resend the same reverse
	ActResend         Action = "resend"           // resends spent → verdict spent (step resend); else resend the refund/reverse with its own requestId
	ActAwait          Action = "await-approval"   // wait for PayConfirm, a poll (PayConfirmPollingMode) or the deadline
	ActAwaitPoll      Action = "await-by-polling" // the same, polling whatever PayConfirmPollingMode says (no cashier may be there)
	ActPark           Action = "park"             // hand the transaction to the engine's resumer, which carries the decision out once the gateway accepts connections
	ActLeave          Action = "leave"            // leave it where the journal has it: recovery waits for the gateway and resumes it
	ActStop           Action = "stop"             // the engine is closing: the journal has the decision, the next start carries it out
)

var actionDocs = map[Action]string{
	ActEnd:            "nothing more: the event ended the transaction",
	ActConfirm:        "wait RequestConfirmInterval, journal `confirm` and confirm the transaction's request; once RequestConfirmNum confirms are spent, the verdict is `spent` (about `confirm`) instead",
	ActReverse:        "journal `reverse` and send the reverse by targetRequestId (the same reverse requestId on every resend)",
	ActConfirmReverse: "wait RequestConfirmInterval, journal `reverse` and confirm the reverse; once RequestConfirmNum confirms are spent, the verdict is `spent` (about `confirm-reverse`)",
	ActResendReverse:  "once RequestConfirmNum resends are spent, the verdict is `spent` (about `reverse`); else wait RequestConfirmInterval, journal `reverse` and resend the same reverse",
	ActResend:         "once RequestConfirmNum resends are spent, the verdict is `spent` (about `resend`); else journal `resend` and resend the request with its own requestId",
	ActAwait:          "wait for PayConfirm, the next poll (PayConfirmPollingMode) or the deadline; a confirm is journaled (`confirm`) and sent",
	ActAwaitPoll:      "the same, polling whatever PayConfirmPollingMode says (no cashier may be there)",
	ActPark:           "hand the transaction to the engine's resumer: once the gateway accepts connections it is resumed as after a restart",
	ActLeave:          "leave it where the journal has it: recovery waits for the gateway (backoff, reachability probe) and resumes it",
	ActStop:           "the engine is closing: the journal has the decision, the next start carries it out",
}

// Describe says what the driver does for a.
func (a Action) Describe() string { return actionDocs[a] }

// Emit names the events a decision raises, once its event is journaled.
type Emit string

// Emits.
const (
	EmitNone        Emit = ""              // nothing
	EmitComplete    Emit = "complete"      // CompleteEvent, final
	EmitWaiting     Emit = "waiting"       // CompleteEvent (WAITING), not final
	EmitError       Emit = "error"         // ErrorEvent with the answer's error, final
	EmitNotice      Emit = "notice"        // ErrorEvent with the answer's error, not final (PayConfirm(true) is told)
	EmitW0001       Emit = "W0001"         // ErrorEvent W0001 (still waiting), not final
	EmitCause       Emit = "cause"         // ErrorEvent with the cause (why it was undone; network errors: Retry), final
	EmitPostProcess Emit = "cause+P000x"   // ErrorEvent with the cause (Retry becomes CPSCall), then P0001 (pay) / P0002 (deposit), final
	EmitCPSCall     Emit = "cause/CPSCall" // ErrorEvent with the cause, action CPSCall, final
	EmitUnreachable Emit = "N0007"         // ErrorEvent N0007: the gateway is unreachable, the decision waits for it; not final
)

var emitDocs = map[Emit]string{
	EmitComplete:    "CompleteEvent, final",
	EmitWaiting:     "CompleteEvent (transStatus WAITING), not final",
	EmitError:       "ErrorEvent with the answer's error, final",
	EmitNotice:      "ErrorEvent with the answer's error, not final (PayConfirm(true) is told)",
	EmitW0001:       "ErrorEvent W0001 (still waiting), not final",
	EmitCause:       "ErrorEvent with the cause, why it was undone (a network error says Retry: pay again), final",
	EmitPostProcess: "ErrorEvent with the cause (Retry becomes CPSCall), then ErrorEvent P0001 (pay) or P0002 (deposit), CPSCall, final",
	EmitCPSCall:     "ErrorEvent with the cause, action CPSCall, final",
	EmitUnreachable: "ErrorEvent N0007 (the gateway is unreachable; the decision waits for it), not final",
}

// Describe says which events e raises.
func (e Emit) Describe() string { return emitDocs[e] }

// When says in which runs a row applies.
type When int

// Whens.
const (
	Always   When = iota // live requests and recovery alike
	Live                 // a request of this process (never restarted)
	Recovery             // a transaction resumed after a restart
)

func (w When) String() string {
	switch w {
	case Live:
		return "live"
	case Recovery:
		return "recovery"
	}
	return "any"
}

// Decision is what the engine does on one verdict: journal Event (none
// when empty) raising Emit, take Cause as the reason an undone outcome
// reports (a catalog code; empty keeps the cause known so far), then Act.
type Decision struct {
	Event  Event
	Emit   Emit
	Cause  string
	Action Action
}

// Row is one row of the decision table: in any of States of any of Ops, a
// verdict of Verdicts about Step decides Decision (in the runs When says).
type Row struct {
	Ops      []paytree.Operation
	States   []State
	Step     Step
	Verdicts []paytree.Verdict
	When     When
	Decision
}

var (
	pay     = []paytree.Operation{paytree.OpPay}
	deposit = []paytree.Operation{paytree.OpDeposit}
	charge  = []paytree.Operation{paytree.OpPay, paytree.OpDeposit}
	settle  = []paytree.Operation{paytree.OpRefund, paytree.OpReverse}

	sending    = []State{StateSending}
	confirming = []State{StateConfirming}
	reversing  = []State{StateReversing}
	resending  = []State{StateResending}
	waiting    = []State{StateWaiting}
	asked      = []State{StateUnknown, StateConfirming} // the states a confirm round is in
)

func verdicts(v ...paytree.Verdict) []paytree.Verdict { return v }

const (
	vDone         = paytree.VerdictDone
	vWaiting      = paytree.VerdictWaiting
	vFailed       = paytree.VerdictFailed
	vNotProcessed = paytree.VerdictNotProcessed
	vUnknown      = paytree.VerdictUnknown
	vNotFound     = paytree.VerdictNotFound
	vNotSent      = paytree.VerdictNotSent
	vUnreachable  = paytree.VerdictUnreachable
	vStopped      = paytree.VerdictStopped
	vSpent        = paytree.VerdictSpent
	vTimeout      = paytree.VerdictTimeout
	vRestarted    = paytree.VerdictRestarted
)

// decisions is contract section 7 as one table. Every (operation, state,
// step, verdict, run) either matches exactly one row or is illegal (Decide
// returns ErrNoDecision); TestDecisionTableExhaustive enumerates them all.
var decisions = []Row{
	// pay and deposit: the answer to the first send.
	{pay, sending, StepSend, verdicts(vDone), Live, Decision{EvPaid, EmitComplete, "", ActEnd}},
	{deposit, sending, StepSend, verdicts(vDone), Live, Decision{EvDeposited, EmitComplete, "", ActEnd}},
	{pay, sending, StepSend, verdicts(vWaiting), Live, Decision{EvWait, EmitWaiting, "", ActAwait}},
	{charge, sending, StepSend, verdicts(vFailed, vNotProcessed, vNotSent, vUnreachable, vStopped), Live, Decision{EvFail, EmitError, "", ActEnd}},
	{charge, sending, StepSend, verdicts(vUnknown), Live, Decision{EvLost, EmitNone, "", ActConfirm}},

	// pay and deposit: the answer to a confirm.
	{pay, confirming, StepConfirm, verdicts(vDone), Always, Decision{EvPaid, EmitComplete, "", ActEnd}},
	{deposit, confirming, StepConfirm, verdicts(vDone), Always, Decision{EvDeposited, EmitComplete, "", ActEnd}},
	{pay, confirming, StepConfirm, verdicts(vWaiting), Live, Decision{EvWait, EmitWaiting, "", ActAwait}},
	{pay, confirming, StepConfirm, verdicts(vWaiting), Recovery, Decision{EvWait, EmitWaiting, "", ActAwaitPoll}},
	{charge, confirming, StepConfirm, verdicts(vFailed), Always, Decision{EvFail, EmitError, "", ActEnd}},
	{charge, confirming, StepConfirm, verdicts(vNotFound), Always, Decision{"", EmitNone, "", ActReverse}},
	{charge, confirming, StepConfirm, verdicts(vUnknown, vNotSent), Always, Decision{"", EmitNone, "", ActConfirm}},
	{charge, asked, StepConfirm, verdicts(vSpent), Always, Decision{"", EmitNone, "", ActReverse}},
	{charge, confirming, StepConfirm, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{charge, confirming, StepConfirm, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{charge, confirming, StepConfirm, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},

	// pay: the approval wait (a confirm on a poll, PayConfirm(true) or
	// PayConfirm(false); the deadline).
	{pay, confirming, StepPoll, verdicts(vDone), Always, Decision{EvPaid, EmitComplete, "", ActEnd}},
	{pay, confirming, StepApprove, verdicts(vDone), Always, Decision{EvPaid, EmitComplete, "", ActEnd}},
	{pay, confirming, StepDecline, verdicts(vDone), Always, Decision{EvPaid, EmitComplete, "", ActEnd}},
	{pay, confirming, StepPoll, verdicts(vFailed), Always, Decision{EvFail, EmitError, "", ActEnd}},
	{pay, confirming, StepApprove, verdicts(vFailed), Always, Decision{EvFail, EmitError, "", ActEnd}},
	{pay, confirming, StepDecline, verdicts(vFailed), Always, Decision{EvFail, EmitError, "", ActEnd}},
	{pay, confirming, StepPoll, verdicts(vWaiting, vUnknown, vNotSent, vNotFound), Live, Decision{EvWait, EmitNone, "", ActAwait}},
	{pay, confirming, StepPoll, verdicts(vWaiting, vUnknown, vNotSent, vNotFound), Recovery, Decision{EvWait, EmitNone, "", ActAwaitPoll}},
	{pay, confirming, StepApprove, verdicts(vWaiting), Live, Decision{EvWait, EmitW0001, "", ActAwait}},
	{pay, confirming, StepApprove, verdicts(vWaiting), Recovery, Decision{EvWait, EmitW0001, "", ActAwaitPoll}},
	{pay, confirming, StepApprove, verdicts(vUnknown, vNotSent, vNotFound), Live, Decision{EvWait, EmitNotice, "", ActAwait}},
	{pay, confirming, StepApprove, verdicts(vUnknown, vNotSent, vNotFound), Recovery, Decision{EvWait, EmitNotice, "", ActAwaitPoll}},
	{pay, confirming, StepDecline, verdicts(vWaiting, vUnknown, vNotSent, vNotFound), Always, Decision{"", EmitNone, paytree.E2004, ActReverse}},
	{pay, waiting, StepPoll, verdicts(vTimeout), Always, Decision{"", EmitNone, paytree.E2005, ActReverse}},
	{pay, confirming, StepPoll, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{pay, confirming, StepApprove, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{pay, confirming, StepDecline, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{pay, confirming, StepPoll, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{pay, confirming, StepApprove, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{pay, confirming, StepDecline, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{pay, confirming, StepPoll, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},
	{pay, confirming, StepApprove, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},
	{pay, confirming, StepDecline, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},

	// pay and deposit: the reverse that undoes them, and its confirms.
	{charge, reversing, StepReverse, verdicts(vDone), Always, Decision{EvReversed, EmitCause, "", ActEnd}},
	{charge, reversing, StepReverseConfirm, verdicts(vDone), Always, Decision{EvReversed, EmitCause, "", ActEnd}},
	{charge, reversing, StepReverse, verdicts(vFailed), Always, Decision{EvEscalate, EmitPostProcess, "", ActEnd}},
	{charge, reversing, StepReverseConfirm, verdicts(vFailed), Always, Decision{EvEscalate, EmitPostProcess, "", ActEnd}},
	{charge, reversing, StepReverse, verdicts(vUnknown, vNotSent), Always, Decision{"", EmitNone, "", ActConfirmReverse}},
	{charge, reversing, StepReverseConfirm, verdicts(vUnknown, vNotSent), Always, Decision{"", EmitNone, "", ActConfirmReverse}},
	{charge, reversing, StepReverseConfirm, verdicts(vNotFound, vSpent), Always, Decision{"", EmitNone, "", ActResendReverse}},
	{charge, reversing, StepReverse, verdicts(vSpent), Always, Decision{EvEscalate, EmitPostProcess, "", ActEnd}},
	{charge, reversing, StepReverse, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{charge, reversing, StepReverseConfirm, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{charge, reversing, StepReverse, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{charge, reversing, StepReverseConfirm, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{charge, reversing, StepReverse, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},
	{charge, reversing, StepReverseConfirm, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},

	// pay and deposit: recovery after a restart.
	{charge, sending, StepRestart, verdicts(vRestarted), Recovery, Decision{EvLost, EmitNone, "", ActConfirm}},
	{charge, asked, StepRestart, verdicts(vRestarted), Recovery, Decision{"", EmitNone, "", ActConfirm}},
	{charge, reversing, StepRestart, verdicts(vRestarted), Recovery, Decision{"", EmitNone, "", ActReverse}},
	{pay, waiting, StepRestart, verdicts(vRestarted), Recovery, Decision{"", EmitNone, "", ActAwaitPoll}},

	// refund and reverse: never undone; confirmed, then resent with the same requestId.
	{settle, sending, StepSend, verdicts(vDone), Live, Decision{EvDone, EmitComplete, "", ActEnd}},
	{settle, sending, StepSend, verdicts(vFailed, vNotProcessed, vNotSent, vUnreachable, vStopped), Live, Decision{EvFail, EmitError, "", ActEnd}},
	{settle, sending, StepSend, verdicts(vUnknown), Live, Decision{EvLost, EmitNone, "", ActConfirm}},
	{settle, confirming, StepConfirm, verdicts(vDone), Always, Decision{EvDone, EmitComplete, "", ActEnd}},
	{settle, confirming, StepConfirm, verdicts(vFailed), Always, Decision{EvFail, EmitError, "", ActEnd}},
	{settle, confirming, StepConfirm, verdicts(vUnknown, vNotSent), Always, Decision{"", EmitNone, "", ActConfirm}},
	{settle, confirming, StepConfirm, verdicts(vNotFound), Always, Decision{"", EmitNone, "", ActResend}},
	{settle, asked, StepConfirm, verdicts(vSpent), Always, Decision{"", EmitNone, "", ActResend}},
	{settle, resending, StepResend, verdicts(vDone), Always, Decision{EvDone, EmitComplete, "", ActEnd}},
	{settle, resending, StepResend, verdicts(vFailed), Always, Decision{EvFail, EmitError, "", ActEnd}},
	{settle, resending, StepResend, verdicts(vNotProcessed, vNotSent, vUnknown), Always, Decision{EvLost, EmitNone, "", ActConfirm}},
	{settle, asked, StepResend, verdicts(vSpent), Always, Decision{EvEscalate, EmitCPSCall, "", ActEnd}},
	{settle, confirming, StepConfirm, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{settle, resending, StepResend, verdicts(vUnreachable), Live, Decision{EvPark, EmitUnreachable, "", ActPark}},
	{settle, confirming, StepConfirm, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{settle, resending, StepResend, verdicts(vUnreachable), Recovery, Decision{"", EmitNone, "", ActLeave}},
	{settle, confirming, StepConfirm, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},
	{settle, resending, StepResend, verdicts(vStopped), Always, Decision{"", EmitNone, "", ActStop}},

	// refund and reverse: recovery after a restart.
	{settle, []State{StateSending, StateResending}, StepRestart, verdicts(vRestarted), Recovery, Decision{EvLost, EmitNone, "", ActConfirm}},
	{settle, asked, StepRestart, verdicts(vRestarted), Recovery, Decision{"", EmitNone, "", ActConfirm}},
}

// key is one input of Decide.
type key struct {
	op        paytree.Operation
	state     State
	step      Step
	verdict   paytree.Verdict
	restarted bool
}

// index maps every input a row covers to its row's position; built once,
// it panics on two rows for one input (a table bug the tests catch).
var index = func() map[key]int {
	m := make(map[key]int)
	for i, r := range decisions {
		for _, op := range r.Ops {
			for _, s := range r.States {
				for _, v := range r.Verdicts {
					for _, restarted := range []bool{false, true} {
						if (r.When == Live && restarted) || (r.When == Recovery && !restarted) {
							continue
						}
						k := key{op, s, r.Step, v, restarted}
						if j, dup := m[k]; dup {
							panic(fmt.Sprintf("fsm: decision rows %d and %d both cover %v", j, i, k))
						}
						m[k] = i
					}
				}
			}
		}
	}
	return m
}()

// Decide is contract section 7: what the engine does when, in state s of
// an op transaction, verdict v is about step (restarted: the run resumed the
// transaction after a restart). It is pure. Inputs without a row return an
// error wrapping ErrNoDecision: no sequence of the engine reaches them.
func Decide(op paytree.Operation, s State, step Step, v paytree.Verdict, restarted bool) (Decision, error) {
	i, ok := index[key{op, s, step, v, restarted}]
	if !ok {
		run := "live"
		if restarted {
			run = "recovery"
		}
		return Decision{}, fmt.Errorf("%w: %s in state %s, verdict %s about %s (%s)", ErrNoDecision, op, s, v, step, run)
	}
	return decisions[i].Decision, nil
}

// Decisions returns the rows of op's decision table, in table order.
func Decisions(op paytree.Operation) []Row {
	var out []Row
	for _, r := range decisions {
		for _, o := range r.Ops {
			if o == op {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// DecisionMarkdown returns op's decision table as Markdown: one line per
// row, in table order; empty for an operation without decisions (close).
func DecisionMarkdown(op paytree.Operation) string {
	rows := Decisions(op)
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| state | about | verdict | run | journal | raise | cause | then |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		states := make([]string, len(r.States))
		for i, s := range r.States {
			states[i] = string(s)
		}
		vs := make([]string, len(r.Verdicts))
		for i, v := range r.Verdicts {
			vs[i] = v.String()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", strings.Join(states, ", "), r.Step, strings.Join(vs, ", "),
			r.When, dash(string(r.Event)), dash(string(r.Emit)), dash(r.Cause), r.Action)
	}
	b.WriteString("\nAny other (state, about, verdict, run) is illegal: no sequence reaches it, and fsm.Decide returns ErrNoDecision (the driver reports L0007).\n")
	seenV, seenA := map[paytree.Verdict]bool{}, map[Action]bool{}
	b.WriteString("\nVerdicts (package paytree classifies the answers):\n\n")
	for _, v := range paytree.AllVerdicts() {
		for _, r := range rows {
			for _, x := range r.Verdicts {
				if x == v && !seenV[v] {
					seenV[v] = true
					fmt.Fprintf(&b, "- `%s`: %s\n", v, v.Describe())
				}
			}
		}
	}
	b.WriteString("\nEvents raised (raise), once the journal holds the step:\n\n")
	seenE := map[Emit]bool{EmitNone: true}
	for _, r := range rows {
		if !seenE[r.Emit] {
			seenE[r.Emit] = true
			fmt.Fprintf(&b, "- `%s`: %s\n", r.Emit, r.Emit.Describe())
		}
	}
	b.WriteString("\nWhat comes next (then):\n\n")
	for _, r := range rows {
		if !seenA[r.Action] {
			seenA[r.Action] = true
			fmt.Fprintf(&b, "- `%s`: %s\n", r.Action, r.Action.Describe())
		}
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
