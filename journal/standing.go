package journal

import (
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

// Snapshot Request keys of a resolved transaction (fsm.StateResolved): the
// outcome a person recorded after the CPS call, and who recorded it.
const (
	KeyResolution = "_resolution"
	KeyResolvedBy = "_resolvedBy"
)

// Outcome returns the state that stands for t's result: its State, or for a
// resolved transaction the outcome the person recorded (paid, deposited,
// refunded, reversed or failed).
func Outcome(t *Txn) fsm.State {
	if t.State == fsm.StateResolved {
		if o := fsm.State(t.Request[KeyResolution]); o.Terminal() {
			return o
		}
	}
	return t.State
}

// Standing is where the money of a pay or deposit stands after the refunds
// and reverses of its order.
type Standing struct {
	Refunded  int64  // refunded so far (refunds done, or resolved as refunded)
	ReverseID string // the reverse that cancelled the order ("" = none)
	Held      bool   // the channel still holds (some of) the money
}

// StandingOf returns the standing of pay or deposit t given the
// transactions of its order (ByOrderID(t.OrderID), which includes t).
func StandingOf(t *Txn, order []*Txn) Standing {
	var s Standing
	for _, o := range order {
		if o.ID == t.ID || o.OrderID != t.OrderID {
			continue
		}
		switch {
		case o.Op == paytree.OpRefund && Outcome(o) == fsm.StateRefunded:
			s.Refunded += o.Amount
		case o.Op == paytree.OpReverse && Outcome(o) == fsm.StateReversed && s.ReverseID == "":
			s.ReverseID = o.ID
		}
	}
	switch Outcome(t) {
	case fsm.StatePaid, fsm.StateDeposited:
		s.Held = s.ReverseID == "" && s.Refunded < t.Amount
	}
	return s
}
