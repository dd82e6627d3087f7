package recovery

import (
	"fmt"
	"sort"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// Resume is the step at which a transaction's sequence resumes.
type Resume int

// Resume points.
const (
	ConfirmCharge Resume = iota + 1 // pay/deposit: confirm, then reverse if still unknown
	ReverseCharge                   // pay/deposit: resend its reverse with the same requestId
	AwaitApproval                   // pay: poll a WAITING pay until paid, refused or timed out
	ConfirmSettle                   // refund/reverse: confirm, resend with the same requestId
)

// String names r for logs and reports.
func (r Resume) String() string {
	switch r {
	case ConfirmCharge:
		return "confirm"
	case ReverseCharge:
		return "reverse"
	case AwaitApproval:
		return "await-approval"
	case ConfirmSettle:
		return "confirm-settle"
	}
	return fmt.Sprintf("Resume(%d)", int(r))
}

// Plan says how one unfinished transaction resumes.
type Plan struct {
	Txn      *journal.Txn
	Resume   Resume
	MarkLost bool      // journal the "lost" event first (the request may or may not have left)
	Deadline time.Time // AwaitApproval: when the wait ends and the pay is reversed
}

// Find returns the unfinished transactions, oldest first, from the journal's
// index of unfinished transactions.
func Find(j *journal.Journal) ([]*journal.Txn, error) {
	txns, err := j.Unfinished()
	if err != nil {
		return nil, fmt.Errorf("find unfinished transactions: %w", err)
	}
	sort.SliceStable(txns, func(a, b int) bool { return txns[a].CreatedAt.Before(txns[b].CreatedAt) })
	return txns, nil
}

// PlanFor decides how t resumes. approvalTimeout is PayConfirmPollingTimeout.
// It returns ErrCannotResume for a state no sequence can be resumed from
// (a journal written by another version, or damage the hash chain missed).
func PlanFor(t *journal.Txn, approvalTimeout time.Duration) (Plan, error) {
	p := Plan{Txn: t}
	switch t.Op {
	case paytree.OpPay, paytree.OpDeposit:
		switch t.State {
		case fsm.StateSending:
			p.Resume, p.MarkLost = ConfirmCharge, true
		case fsm.StateUnknown, fsm.StateConfirming:
			p.Resume = ConfirmCharge
		case fsm.StateReversing:
			p.Resume = ReverseCharge
		case fsm.StateWaiting:
			if t.Op != paytree.OpPay {
				return p, fmt.Errorf("%w: %s %s in state %s", ErrCannotResume, t.Op, t.ID, t.State)
			}
			p.Resume, p.Deadline = AwaitApproval, t.WaitingSince.Add(approvalTimeout)
		default:
			return p, fmt.Errorf("%w: %s %s in state %s", ErrCannotResume, t.Op, t.ID, t.State)
		}
	case paytree.OpRefund, paytree.OpReverse:
		switch t.State {
		case fsm.StateSending, fsm.StateResending:
			p.Resume, p.MarkLost = ConfirmSettle, true
		case fsm.StateUnknown, fsm.StateConfirming:
			p.Resume = ConfirmSettle
		default:
			return p, fmt.Errorf("%w: %s %s in state %s", ErrCannotResume, t.Op, t.ID, t.State)
		}
	default:
		return p, fmt.Errorf("%w: operation %s of %s", ErrCannotResume, t.Op, t.ID)
	}
	return p, nil
}
