package recovery_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/recovery"
)

var ops = []paytree.Operation{paytree.OpPay, paytree.OpDeposit, paytree.OpRefund, paytree.OpReverse}

// TestPlanForEveryState pins the plan of contract section 7 for each
// operation and state a journal can hold an unfinished transaction in.
func TestPlanForEveryState(t *testing.T) {
	waitingSince := time.Date(2026, 1, 5, 10, 0, 0, 0, paytree.JST)
	type want struct {
		resume   recovery.Resume
		markLost bool
	}
	tests := map[paytree.Operation]map[fsm.State]want{
		paytree.OpPay: {
			fsm.StateSending:    {recovery.ConfirmCharge, true},
			fsm.StateUnknown:    {recovery.ConfirmCharge, false},
			fsm.StateConfirming: {recovery.ConfirmCharge, false},
			fsm.StateReversing:  {recovery.ReverseCharge, false},
			fsm.StateWaiting:    {recovery.AwaitApproval, false},
		},
		paytree.OpDeposit: {
			fsm.StateSending:    {recovery.ConfirmCharge, true},
			fsm.StateUnknown:    {recovery.ConfirmCharge, false},
			fsm.StateConfirming: {recovery.ConfirmCharge, false},
			fsm.StateReversing:  {recovery.ReverseCharge, false},
		},
		paytree.OpRefund: {
			fsm.StateSending:    {recovery.ConfirmSettle, true},
			fsm.StateResending:  {recovery.ConfirmSettle, true},
			fsm.StateUnknown:    {recovery.ConfirmSettle, false},
			fsm.StateConfirming: {recovery.ConfirmSettle, false},
		},
	}
	tests[paytree.OpReverse] = tests[paytree.OpRefund]
	for op, states := range tests {
		for st, w := range states {
			t.Run(fmt.Sprintf("%s/%s", op, st), func(t *testing.T) {
				txn := &journal.Txn{ID: "t1", Op: op, State: st, WaitingSince: waitingSince}
				p, err := recovery.PlanFor(txn, 90*time.Second)
				require.NoError(t, err)
				assert.Same(t, txn, p.Txn)
				assert.Equal(t, w.resume, p.Resume, "resume is %s", p.Resume)
				assert.Equal(t, w.markLost, p.MarkLost)
				if w.resume == recovery.AwaitApproval {
					assert.Equal(t, waitingSince.Add(90*time.Second), p.Deadline, "counted from the WAITING answer")
				} else {
					assert.True(t, p.Deadline.IsZero())
				}
			})
		}
	}
}

// TestPlanForCoversTheMachines: every non-terminal state of every machine
// but new (never journaled) has a plan, so a state added to fsm without one
// fails here; and terminal states, states of another machine and unknown
// operations are refused with ErrCannotResume, naming the transaction.
func TestPlanForCoversTheMachines(t *testing.T) {
	for _, op := range ops {
		mine := map[fsm.State]bool{}
		for _, st := range fsm.States(op) {
			mine[st] = true
			txn := &journal.Txn{ID: "t-" + string(st), Op: op, State: st}
			_, err := recovery.PlanFor(txn, time.Minute)
			switch {
			case st == fsm.StateNew || st.Terminal():
				require.ErrorIs(t, err, recovery.ErrCannotResume, "%s %s", op, st)
				assert.Contains(t, err.Error(), txn.ID)
			default:
				assert.NoError(t, err, "%s in state %s has no recovery plan", op, st)
			}
		}
		for _, st := range fsm.AllStates() {
			if mine[st] {
				continue
			}
			_, err := recovery.PlanFor(&journal.Txn{ID: "x", Op: op, State: st}, time.Minute)
			assert.ErrorIs(t, err, recovery.ErrCannotResume, "%s is not a state of %s", st, op)
		}
	}
	_, err := recovery.PlanFor(&journal.Txn{ID: "odd", Op: paytree.OpConfirm, State: fsm.StateSending}, time.Minute)
	assert.ErrorIs(t, err, recovery.ErrCannotResume)
	assert.Contains(t, err.Error(), "odd")
}

func TestResumeString(t *testing.T) {
	names := map[recovery.Resume]string{recovery.ConfirmCharge: "confirm", recovery.ReverseCharge: "reverse",
		recovery.AwaitApproval: "await-approval", recovery.ConfirmSettle: "confirm-settle", 0: "Resume(0)"}
	for r, name := range names {
		assert.Equal(t, name, r.String())
	}
}

// TestFindOldestFirst: Find returns exactly the unfinished transactions of a
// real journal file, oldest first whatever the order they were written in.
func TestFindOldestFirst(t *testing.T) {
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{})
	require.NoError(t, err)
	defer j.Close()
	base := time.Date(2026, 1, 5, 10, 0, 0, 0, paytree.JST)
	write := func(id string, created time.Time, path ...fsm.State) {
		t.Helper()
		from := fsm.StateNew
		for i, to := range path {
			snap := &journal.Txn{ID: id, Op: paytree.OpPay, State: to, CreatedAt: created, UpdatedAt: created.Add(time.Duration(i) * time.Second), Amount: 100}
			ev := map[fsm.State]fsm.Event{fsm.StateSending: fsm.EvSend, fsm.StateUnknown: fsm.EvLost, fsm.StatePaid: fsm.EvPaid}[to]
			e := &journal.Entry{TxnID: id, Time: snap.UpdatedAt, Event: ev, From: from, To: to, RequestID: id, Kind: "pay"}
			require.NoError(t, j.Append(e, snap))
			from = to
		}
	}
	// Written newest first; one finished pay in the middle.
	write("c3", base.Add(3*time.Minute), fsm.StateSending)
	write("b2", base.Add(2*time.Minute), fsm.StateSending, fsm.StatePaid)
	write("a1", base.Add(1*time.Minute), fsm.StateSending, fsm.StateUnknown)
	write("z0", base, fsm.StateSending)

	got, err := recovery.Find(j)
	require.NoError(t, err)
	var ids []string
	for _, txn := range got {
		ids = append(ids, txn.ID)
	}
	assert.Equal(t, []string{"z0", "a1", "c3"}, ids)
	assert.Equal(t, fsm.StateUnknown, got[1].State, "the snapshot's latest state")

	require.NoError(t, j.Close())
	_, err = recovery.Find(j)
	require.Error(t, err)
	assert.True(t, errors.Is(err, journal.ErrClosed), "got %v", err)
	assert.Contains(t, err.Error(), "find unfinished transactions")
}
