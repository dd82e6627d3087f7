package fsm

import "github.com/wbpay/wbpay/paytree"

// State is a transaction's state. Its string form is what the journal stores.
type State string

// States of every operation's machine; see docs/state-diagrams/.
const (
	StateNew        State = "new"        // not yet journaled; only ever a source
	StateSending    State = "sending"    // journaled; the request may be on the wire
	StateUnknown    State = "unknown"    // the answer was lost: money may have moved
	StateConfirming State = "confirming" // a confirm is on the wire
	StateWaiting    State = "waiting"    // WAITING: the customer must approve
	StateResending  State = "resending"  // refund/reverse resent with its own requestId
	StateReversing  State = "reversing"  // a reverse of this pay/deposit is on the wire
	StatePaid       State = "paid"       // terminal: the channel holds the money
	StateDeposited  State = "deposited"  // terminal: deposit done
	StateRefunded   State = "refunded"   // terminal: refund done
	StateReversed   State = "reversed"   // terminal: nothing held (pay undone, or reverse done)
	StateFailed     State = "failed"     // terminal: refused, nothing moved
	StateEscalated  State = "escalated"  // terminal: a person must act (CPSCall)
	StateResolved   State = "resolved"   // terminal: after escalation, a person recorded what CPS said (the outcome is in the snapshot)
	StateClosed     State = "closed"     // terminal (close): the business day's totals are journaled and never change
)

// String returns the state's name.
func (s State) String() string { return string(s) }

// Terminal reports whether no further transition is ever taken from s.
func (s State) Terminal() bool {
	switch s {
	case StatePaid, StateDeposited, StateRefunded, StateReversed, StateFailed, StateEscalated, StateResolved, StateClosed:
		return true
	}
	return false
}

// AllStates lists every state, in diagram order.
func AllStates() []State {
	return []State{StateNew, StateSending, StateUnknown, StateConfirming, StateWaiting, StateResending,
		StateReversing, StatePaid, StateDeposited, StateRefunded, StateReversed, StateFailed, StateEscalated, StateResolved, StateClosed}
}

// Event is what moves a machine from one state to the next.
type Event string

// Events. Each is journaled with the transition it causes.
const (
	EvSend      Event = "send"      // the request is about to leave the host
	EvPaid      Event = "paid"      // PAID answered
	EvDeposited Event = "deposited" // DEPOSITED answered
	EvDone      Event = "done"      // refund or reverse succeeded
	EvWait      Event = "wait"      // WAITING answered: the customer must approve
	EvFail      Event = "fail"      // refused, or FAILED/CANCELLED/EXPIRED: nothing moved
	EvLost      Event = "lost"      // no trustworthy answer: outcome unknown
	EvConfirm   Event = "confirm"   // a confirm is about to be sent
	EvResend    Event = "resend"    // the same request is about to be resent (same requestId)
	EvReverse   Event = "reverse"   // a reverse of the pay/deposit is about to be sent
	EvReversed  Event = "reversed"  // the reverse succeeded: nothing is held
	EvEscalate  Event = "escalate"  // the outcome could not be settled: a person must act
	EvPark      Event = "park"      // the gateway could not be reached: the step waits for it, its decision unchanged
	EvResolve   Event = "resolve"   // a person recorded the outcome CPS gave for an escalated transaction
	EvClose     Event = "close"     // a business day's totals were computed and are journaled (sends nothing)
)

// String returns the event's name.
func (e Event) String() string { return string(e) }

// AllEvents lists every event, in declaration order.
func AllEvents() []Event {
	return []Event{EvSend, EvPaid, EvDeposited, EvDone, EvWait, EvFail, EvLost, EvConfirm, EvResend,
		EvReverse, EvReversed, EvEscalate, EvPark, EvResolve, EvClose}
}

// Transition is one row of a machine's table: Event moves any of Src to Dst.
type Transition struct {
	Event Event
	Src   []State
	Dst   State
}

// Transitions returns the table of op's machine (pay, refund, reverse,
// deposit, or close: a business day's close); nil for an operation that has no machine (confirm).
func Transitions(op paytree.Operation) []Transition {
	switch op {
	case paytree.OpPay:
		return payTable
	case paytree.OpDeposit:
		return depositTable
	case paytree.OpRefund:
		return settleTable(StateRefunded)
	case paytree.OpReverse:
		return settleTable(StateReversed)
	case paytree.OpClose:
		return closeTable
	}
	return nil
}

// closeTable: the pseudo-transaction that closes one business day (日計).
// It is born closed: one journaled entry, nothing sent, never reopened.
var closeTable = []Transition{
	{EvClose, []State{StateNew}, StateClosed},
}

// payTable: contract section 7, pay. A confirm may be repeated
// (confirming → confirming) and a reverse resent (reversing → reversing).
var payTable = []Transition{
	{EvSend, []State{StateNew}, StateSending},
	{EvPaid, []State{StateSending, StateConfirming}, StatePaid},
	{EvWait, []State{StateSending, StateConfirming}, StateWaiting},
	{EvFail, []State{StateSending, StateConfirming}, StateFailed},
	{EvLost, []State{StateSending}, StateUnknown},
	{EvConfirm, []State{StateUnknown, StateWaiting, StateConfirming}, StateConfirming},
	{EvReverse, []State{StateUnknown, StateWaiting, StateConfirming, StateReversing}, StateReversing},
	{EvReversed, []State{StateReversing}, StateReversed},
	{EvEscalate, []State{StateReversing}, StateEscalated},
	{EvPark, []State{StateConfirming}, StateConfirming},
	{EvPark, []State{StateReversing}, StateReversing},
	{EvResolve, []State{StateEscalated}, StateResolved},
}

// depositTable: as pay, without the customer's approval.
var depositTable = []Transition{
	{EvSend, []State{StateNew}, StateSending},
	{EvDeposited, []State{StateSending, StateConfirming}, StateDeposited},
	{EvFail, []State{StateSending, StateConfirming}, StateFailed},
	{EvLost, []State{StateSending}, StateUnknown},
	{EvConfirm, []State{StateUnknown, StateConfirming}, StateConfirming},
	{EvReverse, []State{StateUnknown, StateConfirming, StateReversing}, StateReversing},
	{EvReversed, []State{StateReversing}, StateReversed},
	{EvEscalate, []State{StateReversing}, StateEscalated},
	{EvPark, []State{StateConfirming}, StateConfirming},
	{EvPark, []State{StateReversing}, StateReversing},
	{EvResolve, []State{StateEscalated}, StateResolved},
}

// settleTable: refund and reverse (contract section 7): never undone, only
// confirmed and resent with the same requestId until settled or escalated.
func settleTable(done State) []Transition {
	return []Transition{
		{EvSend, []State{StateNew}, StateSending},
		{EvDone, []State{StateSending, StateConfirming, StateResending}, done},
		{EvFail, []State{StateSending, StateConfirming, StateResending}, StateFailed},
		{EvLost, []State{StateSending, StateResending}, StateUnknown},
		{EvConfirm, []State{StateUnknown, StateConfirming}, StateConfirming},
		{EvResend, []State{StateConfirming, StateUnknown}, StateResending},
		{EvEscalate, []State{StateUnknown, StateConfirming, StateResending}, StateEscalated},
		{EvPark, []State{StateConfirming}, StateConfirming},
		{EvPark, []State{StateResending}, StateResending},
		{EvResolve, []State{StateEscalated}, StateResolved},
	}
}
