package wbpay

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/logging"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/transport"
)

// run drives one transaction through contract section 7, for a new request
// and for recovery alike: one loop (see loop) in which the decision table
// of package fsm says what each verdict means. Every step is journaled
// (Append returns after the fsync) before the request that the new state
// stands for is sent.
type run struct {
	id        string // the transaction's id (r.txn changes, under the run's goroutine only)
	e         *Engine
	ctx       context.Context
	txn       *journal.Txn
	m         *fsm.Machine
	secret    paytree.Fields // never journaled (the userCode)
	recovered bool

	cause  *Error           // why the outcome became unknown (reported if undone)
	last   transport.Result // the last exchange's result (reported with L0009)
	sent   bool             // a request of this transaction may have left the host
	parked *Error           // the gateway was unreachable: the transaction waits for it (recovery's next pass, or the resumer)
	round  int              // confirms sent since the last send of a request (RequestConfirmNum counts them)
	// lastReverse is the answer to the last reverse sent (an escalation
	// journals it when the confirms of the reverse are spent).
	lastReverse transport.Result
	nextPoll    time.Time // the approval wait's next poll (zero: not waiting yet)
	events      []Event   // every event emitted, for the Result
	confirm     chan bool // PayConfirm while waiting
	done        chan struct{}
}

func newRunFor(e *Engine, t *journal.Txn, m *fsm.Machine, secret paytree.Fields, recovered bool) *run {
	return &run{id: t.ID, e: e, ctx: e.ctx, txn: t, m: m, secret: secret, recovered: recovered, sent: recovered,
		confirm: make(chan bool, 1), done: make(chan struct{})}
}

// begin journals the first transition (new → sending). Nothing has left the
// host when it fails, and the caller gets L0007.
func (r *run) begin() error {
	return r.step(fsm.EvSend, journal.Entry{RequestID: r.txn.ID, Kind: r.txn.Op.String()}, func(t *journal.Txn) {
		t.Step = journal.Step{RequestID: t.ID, Kind: t.Op.String()}
	})
}

// drive sends the first request and follows the answers to a terminal state
// (or until the engine closes, leaving the journal to recovery).
func (r *run) drive() {
	defer r.finish()
	res := r.send(r.txn.Op, r.mainPath(), r.mainFields(r.txn.ID))
	r.loop(r.classify(fsm.StepSend, res))
}

// finish marks the engine idle (if the final event has not already done
// so) and wakes a Sync caller.
func (r *run) finish() {
	r.release()
	close(r.done)
}

// release ends r's hold on the engine: the next request may start. It only
// clears what r itself set, so a request started by an event handler in the
// meantime keeps the engine.
func (r *run) release() {
	r.e.mu.Lock()
	if r.e.owner == r {
		r.e.busy, r.e.owner = "", nil
	}
	if r.e.waiting == r {
		r.e.waiting = nil
	}
	r.e.mu.Unlock()
}

// ---- journal and network steps ----

// step journals event ev (with the entry's details and the snapshot as
// mutate leaves it) and only then moves the machine. The events raised
// after the transition (built from the new snapshot) are journaled in the
// same entry, so none is lost once the transition is durable, and raised
// once it is. It returns L0007 when the journal cannot be written; the
// caller must then send nothing.
func (r *run) step(ev fsm.Event, info journal.Entry, mutate func(*journal.Txn), raise ...raised) error {
	to, err := r.m.Next(ev)
	if err != nil {
		return newError(paytree.L0007, "illegal transition: "+err.Error(), err)
	}
	snap := cloneTxn(r.txn)
	if mutate != nil {
		mutate(snap)
	}
	now := r.e.clock.Now()
	snap.State, snap.UpdatedAt = to, now
	if r.recovered {
		snap.Recovered = true
	}
	info.TxnID, info.Event, info.From, info.To, info.Time = snap.ID, ev, r.m.State(), to, now
	events := make([]Event, len(raise))
	info.Events = make([]journal.EventRec, len(raise))
	for i, x := range raise {
		events[i], info.Events[i] = r.build(snap, x)
	}
	if err := crashpoint.Hit(crashpoint.Commit(r.txn.Op.String(), string(ev), false)); err != nil {
		return newError(paytree.L0007, err.Error(), err)
	}
	if err := r.e.journal.Append(&info, snap); err != nil {
		r.e.log.At(logging.Error).Error("journal write failed: request not sent", zap.String("txn-id", snap.ID), zap.String("event", string(ev)), zap.Error(err))
		return newError(paytree.L0007, err.Error(), err)
	}
	if _, _, err := r.m.Fire(ev); err != nil {
		return newError(paytree.L0007, "state machine: "+err.Error(), err)
	}
	r.txn = snap
	_ = crashpoint.Hit(crashpoint.Commit(r.txn.Op.String(), string(ev), true))
	for i, x := range raise {
		r.emit(events[i], x.final)
	}
	return nil
}

// send sends one signed request and logs it at Sequence level.
func (r *run) send(kind paytree.Operation, path string, f paytree.Fields) transport.Result {
	_ = crashpoint.Hit(crashpoint.Send(r.txn.Op.String(), kind.String(), false))
	r.sent = true
	res := r.e.gw.Send(r.ctx, path, f)
	r.last = res
	_ = crashpoint.Hit(crashpoint.Send(r.txn.Op.String(), kind.String(), true))
	if lg := r.e.log.At(logging.Sequence); r.e.log.Enabled(logging.Sequence) {
		lg.Info("exchange", zap.String("txn-id", r.txn.ID), zap.String("request", kind.String()),
			zap.String("request-id", f[paytree.FRequestID]), zap.String("path", path),
			zap.String("outcome", res.Outcome.String()), zap.String("result-code", res.Fields[paytree.FResultCode]),
			zap.String("trans-status", res.Fields[paytree.FTransStatus]), zap.String("detail", res.Detail))
	}
	return res
}

// wait sleeps d on the engine's clock; false when the engine is closing.
func (r *run) wait(d time.Duration) bool {
	if d <= 0 {
		return r.ctx.Err() == nil
	}
	select {
	case <-r.e.clock.After(d):
		return true
	case <-r.ctx.Done():
		return false
	}
}

// journalFailed reports a journal failure in the middle of a sequence:
// the transaction stays where the journal last has it, for recovery. After
// a request of the transaction was sent it is L0009, not L0007 ("NOT
// sent"), and it says what the gateway last answered (Failure.Answer: a
// PAID pay is paid).
func (r *run) journalFailed(err error) {
	cause := asError(err, paytree.L0007)
	f := &Failure{Request: r.txn.Op, TransactionID: r.txn.ID, Err: cause, Recovered: r.recovered}
	if r.sent {
		answer := "no answer was received"
		if r.last.Outcome == transport.Answered {
			ev, _ := r.build(r.txn, completed(false))
			f.Answer = ev.Complete
			answer = fmt.Sprintf("the gateway answered resultCode %s, transStatus %s, order %q, %d yen",
				r.last.Fields[paytree.FResultCode], paytree.TransStatus(r.txn.TransStatus), r.txn.OrderID, r.txn.Amount)
		} else if r.last.Code != "" {
			answer = "the last request got no answer (" + r.last.Code + ")"
		}
		f.Err = newError(paytree.L0009, fmt.Sprintf("%s %s: %s; %s; it stays %s in the journal and recovery finishes it once the journal can be written (journal: %s)",
			r.txn.Op, r.txn.ID, "a request was sent", answer, r.txn.State, cause.Message), err)
	}
	last, _ := r.e.journal.LastSeq() // 0 if even that fails: the id then sorts first
	r.e.stream.add(StreamEvent{ID: StreamID(last, 7), Kind: StreamError, Failure: f, Final: true, Volatile: true})
	r.emit(Event{Failure: f}, true)
}

// emit records ev and posts it; with final, the engine is released first so
// a handler may start the next request.
func (r *run) emit(ev Event, final bool) {
	r.events = append(r.events, ev)
	if final {
		r.release()
	}
	if ev.Failure != nil {
		r.e.log.At(logging.Error).Error("error event", zap.String("txn-id", r.txn.ID), zap.String("request", r.txn.Op.String()),
			zap.String("code", ev.Failure.Err.Code), zap.String("action", ev.Failure.Err.Action.String()), zap.String("message", ev.Failure.Err.Message))
	} else if lg := r.e.log.At(logging.Sequence); r.e.log.Enabled(logging.Sequence) {
		c := ev.Complete
		lg.Info("complete event", zap.String("txn-id", r.txn.ID), zap.String("request", c.Request.String()),
			zap.String("order-id", c.OrderID), zap.String("trans-status", c.TransStatus.String()), zap.Int64("amount", c.Amount))
	}
	r.e.events.post(ev)
}

// raised is an event a step raises once its transition is journaled: a
// CompleteEvent (err nil) or an ErrorEvent; final when the transaction is
// terminal after it.
type raised struct {
	err   *Error
	final bool
}

// completed is a CompleteEvent built from the step's new snapshot.
func completed(final bool) raised { return raised{final: final} }

// failed is an ErrorEvent reporting err.
func failed(err *Error, final bool) raised { return raised{err: err, final: final} }

// build makes the event x stands for, and its journal record, from the
// snapshot t of the step that raises it.
func (r *run) build(t *journal.Txn, x raised) (Event, journal.EventRec) {
	if x.err != nil {
		return Event{Failure: &Failure{Request: t.Op, TransactionID: t.ID, Err: x.err, Recovered: r.recovered}},
			journal.EventRec{Error: true, Final: x.final, Recovered: r.recovered, Op: t.Op, Err: errInfo(x.err)}
	}
	c := &Completion{Request: t.Op, TransactionID: t.ID, OrderID: t.OrderID, Amount: t.Amount,
		TransStatus: paytree.TransStatus(t.TransStatus), Recovered: r.recovered, TransTime: t.Request["_transTime"]}
	if ch, ok := paytree.ChannelFromCode(t.PayType); ok {
		c.PayType = ch
	}
	if v, err := strconv.ParseInt(t.Request["_refundedTotal"], 10, 64); err == nil {
		c.RefundedTotal = v
	}
	return Event{Complete: c}, journal.EventRec{Final: x.final, Recovered: r.recovered, Op: t.Op, TransStatus: t.TransStatus,
		OrderID: c.OrderID, Amount: c.Amount, PayType: t.PayType, TransTime: c.TransTime, RefundedTotal: c.RefundedTotal}
}

// result summarises the run for Sync callers and recovery reports.
func (r *run) result() *Result {
	res := r.e.withReceipt(resultOf(r.txn), r.txn)
	res.Events, res.Recovered = r.events, r.recovered
	return res
}

// resultOf summarises a snapshot (no events).
func resultOf(t *journal.Txn) *Result {
	res := &Result{TransactionID: t.ID, Operation: t.Op, State: t.State, OrderID: t.OrderID,
		TransStatus: paytree.TransStatus(t.TransStatus), Amount: t.Amount, Recovered: t.Recovered}
	if ch, ok := paytree.ChannelFromCode(t.PayType); ok {
		res.PayType = ch
	}
	return res
}

// ---- request fields ----

// common returns the fields every request carries (contract section 3).
func (r *run) common(requestID string) paytree.Fields {
	c := r.e.cfg
	return paytree.Fields{
		paytree.FMerchantID:       c.MerchantID,
		paytree.FTerminalUniqueID: c.TerminalUniqueID,
		paytree.FBranchCode:       c.BranchCode,
		paytree.FTerminalCode:     c.TerminalCode,
		paytree.FLocale:           c.Locale,
		paytree.FTimeZone:         c.TimeZone,
		paytree.FCurrencyCode:     c.CurrencyCode,
		paytree.FAppVersion:       c.AppVersion,
		paytree.FRequestID:        requestID,
		paytree.FRequestTime:      paytree.FormatTime(r.e.clock.Now()),
	}
}

// mainFields is the transaction's own request (the same fields on every
// resend; internal "_" keys of the snapshot are never sent).
func (r *run) mainFields(requestID string) paytree.Fields {
	f := r.common(requestID)
	for k, v := range r.txn.Request {
		if len(k) > 0 && k[0] != '_' {
			f[k] = v
		}
	}
	for k, v := range r.secret {
		f[k] = v
	}
	return f
}

func (r *run) autoDetected() bool {
	return r.txn.Op == paytree.OpPay && r.txn.Request[paytree.FPayType] == ""
}

func (r *run) mainPath() string {
	c := r.e.cfg
	switch r.txn.Op {
	case paytree.OpPay:
		if r.autoDetected() {
			return c.ApiPathPayV1
		}
		return c.ApiPathPay
	case paytree.OpDeposit:
		return c.ApiPathDeposit
	case paytree.OpRefund:
		return c.ApiPathRefund
	default:
		return c.ApiPathReverse
	}
}

// confirmTarget sends a confirm of target and returns the answer.
func (r *run) sendConfirm(requestID, target string, autoPath bool) transport.Result {
	f := r.common(requestID)
	f[paytree.FTargetRequestID] = target
	path := r.e.cfg.ApiPathConfirm
	if autoPath {
		path = r.e.cfg.ApiPathConfirmV1
	}
	return r.send(paytree.OpConfirm, path, f)
}

// networkError turns a transport result that is not an answer into an *Error.
func networkError(res transport.Result) *Error {
	code := res.Code
	if code == "" {
		code = paytree.N0004
	}
	detail := res.Detail
	if def, ok := paytree.LookupError(code); ok && detail == def.Message {
		detail = ""
	}
	return newError(code, detail, res.Err)
}

// absorb keeps what an answer tells about the order (in memory; the next
// journaled step persists it).
func (r *run) absorb(f paytree.Fields) {
	t := cloneTxn(r.txn)
	if v := f[paytree.FOrderID]; v != "" {
		t.OrderID = v
	}
	if st, ok := paytree.ParseTransStatus(f[paytree.FTransStatus]); ok {
		t.TransStatus = int(st)
	}
	if v := f[paytree.FPayType]; v != "" {
		t.PayType = v
	}
	switch t.Op {
	case paytree.OpReverse, paytree.OpPay, paytree.OpDeposit:
		if v, err := strconv.ParseInt(f[paytree.FAmount], 10, 64); err == nil && t.Op == paytree.OpReverse {
			t.Amount = v
		}
	}
	if v := f[paytree.FTransTime]; v != "" {
		t.Request = withInternal(t.Request, "_transTime", v)
	}
	if v := f[paytree.FRefundedTotal]; v != "" {
		t.Request = withInternal(t.Request, "_refundedTotal", v)
	}
	r.txn = t
}

func withInternal(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func cloneTxn(t *journal.Txn) *journal.Txn {
	c := *t
	if t.Request != nil {
		c.Request = make(map[string]string, len(t.Request))
		for k, v := range t.Request {
			c.Request[k] = v
		}
	}
	if t.LastError != nil {
		le := *t.LastError
		c.LastError = &le
	}
	return &c
}

func errInfo(e *Error) *journal.ErrorInfo {
	if e == nil {
		return nil
	}
	return &journal.ErrorInfo{Type: int(e.Type), Code: e.Code, SubCode: e.SubCode, Message: e.Message, Action: e.Action.String()}
}

// outcomeEntry describes an answer for the journal.
func outcomeEntry(kind paytree.Operation, requestID string, res transport.Result, err *Error) journal.Entry {
	e := journal.Entry{RequestID: requestID, Kind: kind.String(), ResultCode: res.Fields[paytree.FResultCode], Error: errInfo(err)}
	switch {
	case res.Outcome == transport.Answered:
		e.HTTP = "200"
	case res.HTTPStatus != 0:
		e.HTTP = strconv.Itoa(res.HTTPStatus)
	case res.Outcome == transport.NotSent:
		e.HTTP = "not-sent"
	default:
		e.HTTP = "no-answer"
	}
	if res.Detail != "" {
		e.Note = res.Detail
	}
	return e
}

// escalatedCause is the first of the two ErrorEvents of a pay or deposit
// whose reverse was not achieved: the cause with its catalog action (E2005
// Customer, N0005 VendorCall, …), except that Retry becomes CPSCall, since
// the money may be held. The second event (Type 6) always says CPSCall.
func escalatedCause(cause *Error) *Error {
	if cause.Action == paytree.Retry || cause.Action == paytree.ActionNone {
		return cause.withAction(paytree.CPSCall)
	}
	return cause
}

// notWaiting ends PayConfirm's reach of this run before the wait's end is
// journaled, so a PayConfirm after the final state is visible gets L0008
// instead of being taken by a run that no longer reads it.
func (r *run) notWaiting() {
	r.e.mu.Lock()
	if r.e.waiting == r {
		r.e.waiting = nil
	}
	r.e.mu.Unlock()
}

// setWaiting lets PayConfirm reach this run.
func (r *run) setWaiting() {
	r.e.mu.Lock()
	r.e.waiting = r
	r.e.mu.Unlock()
}

// ---- the one loop: journal, act, classify, decide ----

// answer is a verdict about a step (with the exchange's result and the
// error it reports, when there was one).
type answer struct {
	step fsm.Step
	v    paytree.Verdict
	res  transport.Result
	err  *Error
}

// loop follows a transaction from verdict a to the end of its sequence:
// fsm.Decide says what a verdict means, carryOut journals it (and raises its
// events), act sends the next request and classify turns its answer into
// the next verdict. A new request enters with the verdict of its first
// send, recovery with "restarted".
func (r *run) loop(a answer) {
	defer r.notWaiting()
	for {
		d, err := fsm.Decide(r.txn.Op, r.m.State(), a.step, a.v, r.recovered)
		if err != nil {
			r.journalFailed(newError(paytree.L0007, err.Error(), err))
			return
		}
		if !r.carryOut(a, d) {
			return
		}
		var ok bool
		if a, ok = r.act(d.Action); !ok {
			return
		}
	}
}

// classify turns the result of an exchange about step into a verdict: no
// answer by the transport's outcome, an answer by the classifier of the
// wire vocabulary for what was asked. What an answer tells about the order
// is kept (absorb).
func (r *run) classify(step fsm.Step, res transport.Result) answer {
	a := answer{step: step, res: res}
	switch res.Outcome {
	case transport.Answered:
	case transport.NotSent:
		a.err = networkError(res)
		switch {
		case res.Code != paytree.N0001:
			a.v = paytree.VerdictNotSent // N0006, L0002, L0003: a retry won't fix it
		case r.ctx.Err() != nil:
			a.v = paytree.VerdictStopped
		default:
			a.v = paytree.VerdictUnreachable
		}
		return a
	default:
		a.v, a.err = paytree.VerdictUnknown, networkError(res)
		return a
	}
	var j paytree.Judgement
	switch step {
	case fsm.StepReverse:
		a.v = paytree.ClassifyReverse(res.Fields)
		return a
	case fsm.StepReverseConfirm:
		a.v = paytree.ClassifyReverseConfirm(res.Fields)
		return a
	case fsm.StepSend, fsm.StepResend:
		j = paytree.ClassifyAnswer(r.txn.Op, res.Fields)
	default:
		j = paytree.ClassifyConfirm(r.txn.Op, res.Fields)
	}
	if j.Keep {
		r.absorb(res.Fields)
	}
	a.v, a.err = j.Verdict, reasonError(j.Reason)
	return a
}

// reasonError is the *Error a classifier's reason stands for (nil for none).
func reasonError(rs paytree.Reason) *Error {
	if rs.Code == "" {
		return nil
	}
	e := newError(rs.Code, rs.Detail, nil)
	e.SubCode = rs.SubCode
	if rs.Gateway != "" && rs.Gateway != e.Message {
		e.Message += " (gateway: " + rs.Gateway + ")"
	}
	if rs.Message != "" {
		e.Message = rs.Message
	}
	return e
}

// carryOut journals decision d about a (when d has an event) with the
// events it raises; false when the journal failed (reported).
func (r *run) carryOut(a answer, d fsm.Decision) bool {
	switch {
	case d.Cause != "":
		r.cause = r.causeOf(d.Cause)
	case r.cause == nil && (a.v == paytree.VerdictUnknown || a.v == paytree.VerdictNotSent):
		r.cause = a.err
	}
	switch d.Action {
	case fsm.ActAwait, fsm.ActAwaitPoll:
		r.setWaiting() // before the event: its handler may call PayConfirm
	case fsm.ActPark, fsm.ActLeave:
		r.parked = a.err
	default:
		if a.step == fsm.StepPoll || a.step == fsm.StepApprove || a.step == fsm.StepDecline {
			r.notWaiting() // the wait ends: a later PayConfirm gets L0008
		}
	}
	if d.Action == fsm.ActPark {
		// Hand over first, so that a handler of N0007 already sees the
		// engine waiting for the gateway. Should the step fail, the
		// resumer still finishes the transaction from where the journal has it.
		r.e.handOff(r)
	}
	if d.Event == "" {
		return true
	}
	entry, mutate, raise := r.record(a, d)
	if e := r.step(d.Event, entry, mutate, raise...); e != nil {
		r.journalFailed(e)
		return false
	}
	return true
}

// causeOf is the cause a decision gives an outcome that is then undone.
func (r *run) causeOf(code string) *Error {
	if code == paytree.E2005 {
		e := errorf(paytree.E2005, "no approval within %s", r.e.cfg.PayConfirmPollingTimeout)
		e.Action = paytree.Customer
		return e
	}
	return errorf(code, "the approval wait was ended without payment")
}

// knownCause is the cause an outcome reports, N0002 when none is known.
func (r *run) knownCause() *Error {
	if r.cause == nil {
		return errorf(paytree.N0002, "outcome unknown")
	}
	return r.cause
}

// record builds what the journal keeps of decision d about a: the entry,
// how the snapshot changes, and the events raised.
func (r *run) record(a answer, d fsm.Decision) (journal.Entry, func(*journal.Txn), []raised) {
	t := r.txn
	kind := t.Op
	switch a.step {
	case fsm.StepConfirm, fsm.StepPoll, fsm.StepApprove, fsm.StepDecline:
		kind = paytree.OpConfirm
	}
	entry := outcomeEntry(kind, t.Step.RequestID, a.res, a.err)
	var mutate func(*journal.Txn)
	switch d.Event {
	case fsm.EvPark:
		next := "it is confirmed and, if still unknown, undone (reversed)"
		action := paytree.Retry
		switch t.State {
		case fsm.StateReversing:
			next = "its reverse is sent again"
		case fsm.StateResending, fsm.StateConfirming:
			if t.Op == paytree.OpRefund || t.Op == paytree.OpReverse {
				next, action = "it is confirmed and resent with the same request id: wait for its outcome, do not repeat it", paytree.VendorCall
			}
		}
		err := newError(paytree.N0007, fmt.Sprintf("%s %s stays %s; when the gateway is back %s", t.Op, t.ID, t.State, next), r.parked)
		err.Action = action
		return journal.Entry{RequestID: t.Step.RequestID, Kind: t.Step.Kind, HTTP: "not-sent", Error: errInfo(r.parked),
			Note: "gateway unreachable: waits for it"}, nil, []raised{failed(err, false)}
	case fsm.EvReversed:
		// Nothing is held; the operator is told why (the original cause;
		// Retry: they may pay again).
		cause := r.knownCause()
		reported := cause
		if cause.Type == paytree.TypeNetwork && cause.Action != paytree.VendorCall {
			reported = cause.withAction(paytree.Retry)
		}
		return outcomeEntry(paytree.OpReverse, t.Step.ReverseRequestID, a.res, nil), func(s *journal.Txn) {
			s.TransStatus = int(paytree.StatusReversed)
			s.LastError = errInfo(cause)
		}, []raised{failed(reported, true)}
	case fsm.EvEscalate:
		cause := r.knownCause()
		if d.Emit == fsm.EmitCPSCall { // a refund or reverse never settled
			cause = cause.withAction(paytree.CPSCall)
			return journal.Entry{RequestID: t.ID, Kind: t.Op.String(), Error: errInfo(cause), Note: "not settled after resends"},
				func(s *journal.Txn) { s.LastError = errInfo(cause) }, []raised{failed(cause, true)}
		}
		// A pay or deposit whose reverse was not achieved: the cause, then
		// the post-process error P0001/P0002 (CPSCall).
		post := paytree.P0001
		if t.Op == paytree.OpDeposit {
			post = paytree.P0002
		}
		perr := errorf(post, "transaction %s: reverse %s not achieved; call CPS", t.ID, t.Step.ReverseRequestID)
		res := a.res
		if a.v == paytree.VerdictSpent {
			res = r.lastReverse // the answer to the last reverse, not to its confirm
		}
		return outcomeEntry(paytree.OpReverse, t.Step.ReverseRequestID, res, perr), func(s *journal.Txn) { s.LastError = errInfo(perr) },
			[]raised{failed(escalatedCause(cause), false), failed(perr, true)}
	case fsm.EvLost:
		switch a.step {
		case fsm.StepRestart:
			entry = journal.Entry{RequestID: t.ID, Kind: t.Op.String(), Note: "restart: outcome unknown"}
		case fsm.StepSend:
			err := a.err
			mutate = func(s *journal.Txn) { s.LastError = errInfo(err) }
		}
	case fsm.EvFail:
		err := a.err
		mutate = func(s *journal.Txn) { s.LastError = errInfo(err) }
	case fsm.EvDone:
		mutate = func(s *journal.Txn) { s.LastError = nil }
	case fsm.EvWait:
		if d.Emit == fsm.EmitWaiting {
			mutate = func(s *journal.Txn) {
				if s.WaitingSince.IsZero() {
					s.WaitingSince = r.e.clock.Now()
				}
			}
		}
	}
	var raise []raised
	switch d.Emit {
	case fsm.EmitComplete:
		raise = append(raise, completed(true))
	case fsm.EmitWaiting:
		raise = append(raise, completed(false))
	case fsm.EmitError:
		raise = append(raise, failed(a.err, true))
	case fsm.EmitNotice:
		raise = append(raise, failed(a.err, false))
	case fsm.EmitW0001:
		raise = append(raise, failed(errorf(paytree.W0001, "transaction %s", t.ID), false))
	}
	return entry, mutate, raise
}

// act carries out action and returns the verdict it leads to; false when
// the sequence stops here (it ended, the journal failed, the engine is
// closing, or the gateway is unreachable and the transaction waits for it).
func (r *run) act(action fsm.Action) (answer, bool) {
	cfg := r.e.cfg
	switch action {
	case fsm.ActConfirm, fsm.ActConfirmReverse:
		step, ev, target := fsm.StepConfirm, fsm.EvConfirm, r.txn.ID
		if action == fsm.ActConfirmReverse {
			step, ev, target = fsm.StepReverseConfirm, fsm.EvReverse, r.txn.Step.ReverseRequestID
		}
		if r.round >= cfg.RequestConfirmNum {
			return answer{step: step, v: paytree.VerdictSpent}, true
		}
		if !r.wait(cfg.RequestConfirmInterval) {
			return answer{}, false
		}
		res, ok := r.confirmOnce(ev, target, true)
		if !ok {
			return answer{}, false
		}
		r.round++
		return r.classify(step, res), true
	case fsm.ActReverse:
		return r.sendReverse(false)
	case fsm.ActResendReverse:
		if r.txn.Step.Resends >= cfg.RequestConfirmNum {
			return answer{step: fsm.StepReverse, v: paytree.VerdictSpent}, true
		}
		if !r.wait(cfg.RequestConfirmInterval) {
			return answer{}, false
		}
		return r.sendReverse(true)
	case fsm.ActResend:
		if r.txn.Step.Resends >= cfg.RequestConfirmNum {
			return answer{step: fsm.StepResend, v: paytree.VerdictSpent}, true
		}
		if e := r.step(fsm.EvResend, journal.Entry{RequestID: r.txn.ID, Kind: r.txn.Op.String(), Note: "resend with the same requestId"}, func(t *journal.Txn) {
			t.Step.RequestID, t.Step.Kind = t.ID, t.Op.String()
			t.Step.Resends++
		}); e != nil {
			r.journalFailed(e)
			return answer{}, false
		}
		res := r.send(r.txn.Op, r.mainPath(), r.mainFields(r.txn.ID))
		r.round = 0
		return r.classify(fsm.StepResend, res), true
	case fsm.ActAwait, fsm.ActAwaitPoll:
		return r.awaitApproval(cfg.PayConfirmPollingMode || action == fsm.ActAwaitPoll)
	}
	return answer{}, false // end, park, leave, stop
}

// confirmOnce journals ev with a fresh confirm requestId (counted when
// count is set), then sends the confirm of target; false when the journal
// failed (reported).
func (r *run) confirmOnce(ev fsm.Event, target string, count bool) (transport.Result, bool) {
	id, err := newRequestID()
	if err != nil {
		r.journalFailed(newError(paytree.L0007, err.Error(), err))
		return transport.Result{}, false
	}
	if e := r.step(ev, journal.Entry{RequestID: id, Kind: paytree.OpConfirm.String(), Note: "confirm " + target}, func(t *journal.Txn) {
		t.Step.RequestID, t.Step.Kind = id, paytree.OpConfirm.String()
		if count {
			t.Step.Confirms++
		}
	}); e != nil {
		r.journalFailed(e)
		return transport.Result{}, false
	}
	auto := target == r.txn.ID && r.autoDetected()
	return r.sendConfirm(id, target, auto), true
}

// sendReverse journals and sends the reverse that undoes a pay/deposit, by
// targetRequestId, with the same reverse requestId on every resend.
func (r *run) sendReverse(resend bool) (answer, bool) {
	revID := r.txn.Step.ReverseRequestID
	if revID == "" {
		id, err := newRequestID()
		if err != nil {
			r.journalFailed(newError(paytree.L0007, err.Error(), err))
			return answer{}, false
		}
		revID = id
	}
	if e := r.step(fsm.EvReverse, journal.Entry{RequestID: revID, Kind: paytree.OpReverse.String(), Note: "reverse " + r.txn.ID}, func(t *journal.Txn) {
		t.Step.ReverseRequestID, t.Step.RequestID, t.Step.Kind = revID, revID, paytree.OpReverse.String()
		if resend {
			t.Step.Resends++
		}
	}); e != nil {
		r.journalFailed(e)
		return answer{}, false
	}
	f := r.common(revID)
	f[paytree.FTargetRequestID] = r.txn.ID
	res := r.send(paytree.OpReverse, r.e.cfg.ApiPathReverse, f)
	r.lastReverse, r.round = res, 0
	return r.classify(fsm.StepReverse, res), true
}

// awaitApproval waits, for a WAITING pay, for PayConfirm, the next poll
// (when polling) or the deadline (PayConfirmPollingTimeout counted from
// the WAITING answer), and sends the confirm PayConfirm or the poll asks
// for; false when the engine closes first or the journal failed.
func (r *run) awaitApproval(polling bool) (answer, bool) {
	cfg := r.e.cfg
	if r.nextPoll.IsZero() {
		r.nextPoll = r.txn.WaitingSince.Add(cfg.PayConfirmPollingWait)
	}
	deadline := r.txn.WaitingSince.Add(cfg.PayConfirmPollingTimeout)
	for {
		now := r.e.clock.Now()
		if !now.Before(deadline) {
			return answer{step: fsm.StepPoll, v: paytree.VerdictTimeout}, true
		}
		var pollC <-chan time.Time
		if polling {
			pollC = r.e.clock.After(max(r.nextPoll.Sub(now), 0))
		}
		timeoutC := r.e.clock.After(deadline.Sub(now))
		step := fsm.StepPoll
		select {
		case <-r.ctx.Done():
			return answer{}, false
		case <-timeoutC:
			continue
		case <-pollC:
			r.nextPoll = r.e.clock.Now().Add(cfg.PayConfirmPollingInterval)
		case flag := <-r.confirm:
			step = fsm.StepDecline
			if flag {
				step = fsm.StepApprove
			}
		}
		res, ok := r.confirmOnce(fsm.EvConfirm, r.txn.ID, false)
		if !ok {
			return answer{}, false
		}
		return r.classify(step, res), true
	}
}
