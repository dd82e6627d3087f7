package wbpay

import (
	"fmt"
	"time"

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
	Err           *Error    // set when it could not be resumed at all, or the gateway was unreachable
	// GatewayUnreachable: the gateway could not be reached (Err is N0001),
	// so the transaction was left unfinished where the journal has it,
	// neither escalated nor counted as an attempt; recovery resumes it when
	// the gateway answers again (or at the next Open).
	GatewayUnreachable bool
}

// Recovered returns the reports of start-up recovery, one per transaction
// (the latest attempt), complete once WaitRecovered has returned.
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
	e.setRecovering(busyRecovery, time.Time{})
	e.log.At(logging.Basic).Info("recovering unfinished transactions", zap.Int("count", len(txns)))
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			e.setRecovering("", time.Time{})
			close(e.recovered)
		}()
		e.recoveryLoop().Run(e.ctx, txns)
	}()
	return nil
}

// What busy says (in L0004) while recovery runs, and while it waits for an
// unreachable gateway.
const (
	busyRecovery = "recovery of unfinished transactions"
	busyWaiting  = "recovery of unfinished transactions (waiting for the gateway, which is unreachable)"
)

// setRecovering sets busy to what ("" = recovery is over) unless a request
// holds the engine, and when recovery found the gateway unreachable (zero:
// it is not waiting for it).
func (e *Engine) setRecovering(what string, unreachableSince time.Time) {
	e.mu.Lock()
	if e.owner == nil {
		e.busy = what
	}
	e.unreachableSince = unreachableSince
	e.mu.Unlock()
}

// recoveryLoop is recovery's loop (package recovery) over this engine:
// each transaction is resumed by the one sequence driver and reported;
// while the gateway is unreachable request methods answer L0004 naming
// the wait.
func (e *Engine) recoveryLoop() recovery.Loop {
	return recovery.Loop{
		Journal: e.journal,
		Resume: func(t *journal.Txn) bool {
			rep := e.resume(t)
			e.report(rep)
			return rep.GatewayUnreachable
		},
		Gateway:  e.gatewayWait(),
		Resuming: func() { e.setRecovering(busyRecovery, time.Time{}) },
	}
}

// gatewayWait is the wait for an unreachable gateway (package recovery):
// a connection probe with backoff on the engine's clock, bounded by
// WithRecoveryPatience.
func (e *Engine) gatewayWait() recovery.Gateway {
	return recovery.Gateway{Clock: e.clock, Reachable: e.gw.Reachable, Patience: e.patience, Log: e.log.At(logging.Error),
		Waiting: func(since time.Time) { e.setRecovering(busyWaiting, since) }}
}

// handOff takes over a live run r that parked for an unreachable gateway:
// the engine stays busy (L0004 names the wait) and a background resumer
// waits for the gateway, then resumes every unfinished transaction as
// recovery does. r's own release then leaves busy alone.
func (e *Engine) handOff(r *run) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if e.owner == r {
		e.owner, e.busy = nil, busyWaiting
	}
	if e.unreachableSince.IsZero() {
		e.unreachableSince = e.clock.Now()
	}
	if e.resuming {
		return
	}
	e.resuming = true
	e.wg.Add(1)
	go e.resumeParked(e.unreachableSince, r)
}

// resumeParked is the background resumer that handOff starts for the
// parked run r: it starts once r has ended, so that no two sequences drive
// one transaction.
func (e *Engine) resumeParked(since time.Time, r *run) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		e.resuming = false
		if e.owner == nil {
			e.busy = ""
		}
		e.unreachableSince = time.Time{}
		e.mu.Unlock()
	}()
	select {
	case <-r.done:
	case <-e.ctx.Done():
		return
	}
	if !e.gatewayWait().Wait(e.ctx, since, 1) {
		return
	}
	e.setRecovering(busyRecovery, time.Time{})
	txns, err := recovery.Find(e.journal)
	if err != nil {
		e.log.At(logging.Error).Error("resuming parked transactions stopped", zap.Error(err))
		return
	}
	e.log.At(logging.Basic).Info("gateway reachable again: resuming parked transactions", zap.Int("count", len(txns)))
	e.recoveryLoop().Run(e.ctx, txns)
}

// GatewayUnreachableSince reports whether start-up recovery is waiting for
// an unreachable gateway now, and since when.
func (e *Engine) GatewayUnreachableSince() (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.unreachableSince, !e.unreachableSince.IsZero()
}

// report records rep, replacing an earlier attempt at the same transaction
// (whose From, the state at start-up, it keeps).
func (e *Engine) report(rep Recovery) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.recoveries {
		if e.recoveries[i].TransactionID == rep.TransactionID {
			rep.From = e.recoveries[i].From
			e.recoveries[i] = rep
			return
		}
	}
	e.recoveries = append(e.recoveries, rep)
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
	r.loop(answer{step: fsm.StepRestart, v: paytree.VerdictRestarted})
	rep.Result = r.result()
	if r.parked != nil {
		rep.GatewayUnreachable = true
		rep.Err = r.parked.withDetail(fmt.Sprintf("the gateway is unreachable: %s %s is kept in state %s and finished when the gateway answers again", t.Op, t.ID, r.txn.State))
		e.log.At(logging.Error).Error("transaction waits for the gateway", zap.String("txn-id", t.ID), zap.String("state", string(r.txn.State)), zap.String("cause", r.parked.Error()))
		return rep
	}
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
