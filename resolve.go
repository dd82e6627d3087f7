package wbpay

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// Resolve records what CPS said about an escalated transaction, after a
// person called them: outcome is where the money went (pay: paid, reversed
// or failed; deposit: deposited, reversed or failed; refund: refunded or
// failed; reverse: reversed or failed). It journals one hash-chained entry
// naming operator and note, moves the transaction to the terminal state
// resolved (the outcome kept in its snapshot), and lifts L0012 for its
// order. It never sends anything. Errors: L0003 for a transaction that is
// not escalated or an outcome, operator or note that does not fit, L0004
// while a sequence runs, L0007 when the journal cannot be written.
func (e *Engine) Resolve(id string, outcome fsm.State, operator, note string) (*Result, error) {
	operator, note = strings.TrimSpace(operator), strings.TrimSpace(note)
	switch {
	case operator == "":
		return nil, errorf(paytree.L0003, "operator is required: who recorded what CPS said")
	case note == "":
		return nil, errorf(paytree.L0003, "note is required: what CPS said (their reference, the outcome)")
	case utf8.RuneCountInString(operator) > MaxOperatorLength:
		return nil, errorf(paytree.L0003, "operator is longer than %d characters", MaxOperatorLength)
	case utf8.RuneCountInString(note) > MaxNoteLength:
		return nil, errorf(paytree.L0003, "note is longer than %d characters", MaxNoteLength)
	}
	t, err := e.journal.Get(id)
	switch {
	case errors.Is(err, journal.ErrNotFound):
		return nil, errorf(paytree.L0003, "transaction %s is not in the journal", id)
	case err != nil:
		return nil, newError(paytree.L0007, "read the transaction: "+err.Error(), err)
	}
	if t.State != fsm.StateEscalated {
		return nil, errorf(paytree.L0003, "transaction %s is %s, not escalated: only an escalated transaction is resolved", id, t.State)
	}
	if !resolvable(t.Op, outcome) {
		return nil, errorf(paytree.L0003, "outcome %q does not fit a %s (allowed: %s)", outcome, t.Op, strings.Join(outcomesOf(t.Op), ", "))
	}
	m, err := fsm.New(t.Op, t.State)
	if err != nil {
		return nil, newError(paytree.L0007, err.Error(), err)
	}
	r := newRunFor(e, t, m, nil, false)
	if err := e.acquire("resolve", r); err != nil {
		return nil, err
	}
	defer r.release()
	err = r.step(fsm.EvResolve, journal.Entry{Kind: "resolve", Note: fmt.Sprintf("resolved by %s as %s: %s", operator, outcome, note)}, func(s *journal.Txn) {
		s.Request = withInternal(s.Request, journal.KeyResolution, string(outcome))
		s.Request[journal.KeyResolvedBy] = operator
	})
	if err != nil {
		return nil, err
	}
	return e.withReceipt(resultOf(r.txn), r.txn), nil
}

// outcomesOf lists the outcomes a person may record for op.
func outcomesOf(op paytree.Operation) []string {
	switch op {
	case paytree.OpPay:
		return []string{"paid", "reversed", "failed"}
	case paytree.OpDeposit:
		return []string{"deposited", "reversed", "failed"}
	case paytree.OpRefund:
		return []string{"refunded", "failed"}
	case paytree.OpReverse:
		return []string{"reversed", "failed"}
	}
	return nil
}

func resolvable(op paytree.Operation, outcome fsm.State) bool {
	for _, o := range outcomesOf(op) {
		if string(outcome) == o {
			return true
		}
	}
	return false
}
