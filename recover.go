package wbpay

import (
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/logging"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/recovery"
)

// Recovery reports what start-up recovery did with one transaction.
type Recovery struct {
	TransactionID string
	Operation     RequestType
	From          fsm.State // the state the journal held at start-up
	Resume        string    // where the sequence resumed (recovery.Resume)
	Result        *Result   // where it ended (State escalated: a person must act)
	Err           *Error    // set when it could not be resumed at all
}

// Recovered returns the reports of start-up recovery, complete once
// WaitRecovered has returned.
func (e *Engine) Recovered() []Recovery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Recovery(nil), e.recoveries...)
}

// startRecovery reads the index of unfinished transactions and, when there
// are any, resumes them one by one in the background; request methods return
// L0004 until it has finished.
func (e *Engine) startRecovery() error {
	txns, err := recovery.Find(e.journal)
	if err != nil {
		return newError(paytree.L0007, err.Error(), err)
	}
	if len(txns) == 0 {
		close(e.recovered)
		return nil
	}
	e.mu.Lock()
	e.busy = "recovery"
	e.mu.Unlock()
	e.log.At(logging.Basic).Info("recovering unfinished transactions", zap.Int("count", len(txns)))
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			e.mu.Lock()
			if e.busy == "recovery" {
				e.busy = ""
			}
			e.mu.Unlock()
			close(e.recovered)
		}()
		for _, t := range txns {
			if e.ctx.Err() != nil {
				return
			}
			rep := e.resume(t)
			e.mu.Lock()
			e.recoveries = append(e.recoveries, rep)
			e.mu.Unlock()
		}
	}()
	return nil
}

// resume carries out the recovery plan of one transaction with the same
// sequence driver that serves new requests.
func (e *Engine) resume(t *journal.Txn) Recovery {
	rep := Recovery{TransactionID: t.ID, Operation: t.Op, From: t.State}
	plan, err := recovery.PlanFor(t, e.cfg.PayConfirmPollingTimeout)
	if err != nil {
		rep.Err = newError(paytree.L0007, err.Error(), err)
		e.log.At(logging.Error).Error("cannot resume transaction", zap.String("txn-id", t.ID), zap.Error(err))
		return rep
	}
	rep.Resume = plan.Resume.String()
	m, err := fsm.New(t.Op, t.State)
	if err != nil {
		rep.Err = newError(paytree.L0007, err.Error(), err)
		return rep
	}
	r := newRunFor(e, t, m, nil, true)
	r.cause = fromInfo(t.LastError)
	if r.cause == nil || r.cause.Type != paytree.TypeNetwork {
		r.cause = errorf(paytree.N0002, "the engine stopped before the answer of %s was known", t.ID)
	}
	r.txn.Step.Confirms = 0 // ask the gateway afresh after a restart
	defer close(r.done)
	switch plan.Resume {
	case recovery.ConfirmCharge:
		if plan.MarkLost {
			if err := r.step(fsm.EvLost, journal.Entry{RequestID: t.ID, Kind: t.Op.String(), Note: "restart: outcome unknown"}, nil); err != nil {
				r.journalFailed(err)
				break
			}
		}
		r.confirmCharge()
	case recovery.ReverseCharge:
		r.reverseCharge()
	case recovery.AwaitApproval:
		r.approvalWait()
	case recovery.ConfirmSettle:
		if plan.MarkLost {
			if err := r.step(fsm.EvLost, journal.Entry{RequestID: t.ID, Kind: t.Op.String(), Note: "restart: outcome unknown"}, nil); err != nil {
				r.journalFailed(err)
				break
			}
		}
		r.settleUnknown()
	}
	rep.Result = r.result()
	e.log.At(logging.Basic).Info("transaction recovered", zap.String("txn-id", t.ID), zap.String("from", string(rep.From)), zap.String("to", string(rep.Result.State)))
	return rep
}

// fromInfo rebuilds an *Error from its journaled form.
func fromInfo(i *journal.ErrorInfo) *Error {
	if i == nil {
		return nil
	}
	a, _ := paytree.ParseAction(i.Action)
	return &Error{Type: paytree.ErrorType(i.Type), Code: i.Code, SubCode: i.SubCode, Message: i.Message, Action: a}
}
