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

// PlanFor says how t resumes: the row of fsm.Decide for the verdict
// restarted in t's state (the same table drives the sequence).
// approvalTimeout is PayConfirmPollingTimeout. It returns ErrCannotResume
// for a state no sequence can be resumed from (a journal written by
// another version, or damage the hash chain missed).
func PlanFor(t *journal.Txn, approvalTimeout time.Duration) (Plan, error) {
	p := Plan{Txn: t}
	charge := t.Op == paytree.OpPay || t.Op == paytree.OpDeposit
	if !charge && t.Op != paytree.OpRefund && t.Op != paytree.OpReverse {
		return p, fmt.Errorf("%w: operation %s of %s", ErrCannotResume, t.Op, t.ID)
	}
	d, err := fsm.Decide(t.Op, t.State, fsm.StepRestart, paytree.VerdictRestarted, true)
	if err != nil {
		return p, fmt.Errorf("%w: %s %s in state %s", ErrCannotResume, t.Op, t.ID, t.State)
	}
	p.MarkLost = d.Event == fsm.EvLost
	switch {
	case d.Action == fsm.ActConfirm && charge:
		p.Resume = ConfirmCharge
	case d.Action == fsm.ActConfirm:
		p.Resume = ConfirmSettle
	case d.Action == fsm.ActReverse:
		p.Resume = ReverseCharge
	case d.Action == fsm.ActAwaitPoll:
		p.Resume, p.Deadline = AwaitApproval, t.WaitingSince.Add(approvalTimeout)
	default:
		return p, fmt.Errorf("%w: %s %s in state %s: %s", ErrCannotResume, t.Op, t.ID, t.State, d.Action)
	}
	return p, nil
}
