// Package fsm holds one state machine per operation — pay, deposit, refund
// and reverse — built on github.com/looplab/fsm, and the decision table of
// contract section 7 (Decide), and exports both into docs/state-diagrams/
// (Mermaid diagrams and one Markdown table per operation, kept fresh by
// TestDiagramsUpToDate).
//
// The machines say which transitions are legal; the decision table says
// which one the engine takes, and what it does next, on each verdict
// (paytree.Verdict: what an answer, or its absence, means):
//
//	d, err := fsm.Decide(op, state, fsm.StepConfirm, paytree.VerdictUnknown, restarted)
//	// d.Event: journaled (none when empty); d.Emit: the events raised;
//	// d.Cause: the cause an undone outcome reports; d.Action: what comes next
//
// Every (operation, state, step, verdict, run) has exactly one row or is
// illegal (ErrNoDecision); TestDecisionTableExhaustive enumerates them all.
// The engine's driver is one loop over it: journal, act, classify, decide.
// Recovery enters the same loop with the verdict restarted, and the few
// things a restart changes (the approval wait polls; an unreachable gateway
// is left to recovery's wait instead of parked) are rows (Row.When).
//
// The package is pure: no I/O, no clock, no callbacks. looplab's machine is
// used only as the transition table and its validator, because its callbacks
// cannot return errors, an event fired from a callback deadlocks, and a
// cancelled context can leave it stuck in transition. The driver (engine and
// recovery) asks Next for the state an event leads to, journals that
// transition durably, makes the network call the new state stands for, and
// only then calls Fire. Nothing here survives a crash: after a restart the
// driver rebuilds each unfinished transaction's machine with New from the
// state in its journal snapshot.
//
// States (a State's string is what the journal stores):
//
//	new         not yet journaled; only ever a source
//	sending     journaled; the request may be on the wire
//	unknown     the answer was lost: money may have moved
//	confirming  a confirm is on the wire (may repeat: confirming → confirming)
//	waiting     pay only: WAITING, the customer must approve
//	resending   refund/reverse: resent with its own requestId
//	reversing   pay/deposit: a reverse by targetRequestId is on the wire (may repeat)
//	paid        terminal (pay): the channel holds the money
//	deposited   terminal (deposit): the deposit is done
//	refunded    terminal (refund): the refund is done
//	reversed    terminal: nothing held (pay/deposit undone, or reverse done)
//	failed      terminal: refused, nothing moved
//	escalated   terminal: a person must act (CPSCall); never retried silently
//	resolved    terminal: after escalation, a person recorded what CPS said
//	closed      terminal (close): a business day's totals, journaled once
//
// Pay and deposit never resend: an unknown outcome is confirmed, then
// reversed. Refund and reverse are never undone: an unknown outcome is
// confirmed, then resent with the same requestId, then escalated. The exact
// tables are in states.go (Transitions); the diagrams are
// docs/state-diagrams/pay.md, deposit.md, refund.md, reverse.md and close.md.
//
// A fifth machine, close, is no payment: a business day's close (日計) is
// journaled as a pseudo-transaction of its own (operation
// paytree.OpClose, id "close-" and the JST date as YYYYMMDD) whose only
// transition, new → closed (EvClose), carries the day's totals. So a close
// is an Entry like any other, hash-chained and verified, and a day is
// closed at most once: its id is taken.
//
// Use:
//
//	m, err := fsm.New(paytree.OpPay, fsm.StateNew) // or the journaled state
//	next, err := m.Next(fsm.EvSend)                 // journal (state → next), then send
//	from, to, err := m.Fire(fsm.EvSend)             // errors.Is(err, fsm.ErrIllegal) if not allowed
//
// A Machine is not safe for concurrent use; the functions States, Terminal,
// Mermaid, Decide, Decisions and DecisionMarkdown are.
package fsm
