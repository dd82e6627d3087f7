package wbpay

import "github.com/wbpay/wbpay/fsm"

// State is a transaction's state, as Result.State and the journal's
// snapshots hold it (its string form is what the journal stores). It is
// package fsm's type, with its constants below, so that callers of the
// engine need not import fsm; State.Terminal tells whether it is final.
type State = fsm.State

// States; see docs/state-diagrams/ for which operation takes which.
const (
	StateNew        = fsm.StateNew        // not yet journaled
	StateSending    = fsm.StateSending    // journaled; the request may be on the wire
	StateUnknown    = fsm.StateUnknown    // the answer was lost: money may have moved
	StateConfirming = fsm.StateConfirming // a confirm is on the wire
	StateWaiting    = fsm.StateWaiting    // WAITING: the customer must approve
	StateResending  = fsm.StateResending  // refund/reverse resent with its own requestId
	StateReversing  = fsm.StateReversing  // a reverse of this pay/deposit is on the wire
	StatePaid       = fsm.StatePaid       // terminal: the channel holds the money
	StateDeposited  = fsm.StateDeposited  // terminal: deposit done
	StateRefunded   = fsm.StateRefunded   // terminal: refund done
	StateReversed   = fsm.StateReversed   // terminal: nothing held (pay undone, or reverse done)
	StateFailed     = fsm.StateFailed     // terminal: refused, nothing moved
	StateEscalated  = fsm.StateEscalated  // terminal: a person must act (CPSCall)
	StateResolved   = fsm.StateResolved   // terminal: after escalation, a person recorded what CPS said
	StateClosed     = fsm.StateClosed     // terminal: a business day's totals are journaled
)

// AllStates lists every state, in diagram order.
func AllStates() []State { return fsm.AllStates() }
