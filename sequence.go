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
// and for recovery alike. Every step is journaled (Append returns after the
// fsync) before the request that the new state stands for is sent.
type run struct {
	id        string // the transaction's id (r.txn changes, under the run's goroutine only)
	e         *Engine
	ctx       context.Context
	txn       *journal.Txn
	m         *fsm.Machine
	secret    paytree.Fields // never journaled (the userCode)
	recovered bool

	cause   *Error           // why the outcome became unknown (reported if undone)
	last    transport.Result // the last exchange's result (reported with L0009)
	sent    bool             // a request of this transaction may have left the host
	parked  *Error           // recovery: the gateway was unreachable, the transaction waits for the next pass
	events  []Event          // every event emitted, for the Result
	confirm chan bool        // PayConfirm while waiting
	done    chan struct{}
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
	switch r.txn.Op {
	case paytree.OpPay, paytree.OpDeposit:
		r.onChargeAnswer(res, false)
	default:
		r.onSettleAnswer(res)
	}
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

// ---- classification of answers ----

type verdict int

const (
	vUnknown  verdict = iota // no trustworthy answer, PROCESSING, E9001: confirm
	vDone                    // PAID/DEPOSITED, or the refund/reverse succeeded
	vWaiting                 // WAITING for the customer
	vFailed                  // refused, or FAILED/CANCELLED/EXPIRED: nothing moved
	vNotFound                // confirm: the gateway never received the target (E3001)
	vNotSent                 // provably never left the host (N0001)
)

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

// statusVerdict maps a transStatus of a pay or deposit to a verdict.
func statusVerdict(op paytree.Operation, st paytree.TransStatus) (verdict, *Error) {
	switch st {
	case paytree.StatusPaid, paytree.StatusPartiallyRefunded, paytree.StatusRefunded:
		if op == paytree.OpPay {
			return vDone, nil
		}
	case paytree.StatusDeposited:
		if op == paytree.OpDeposit {
			return vDone, nil
		}
	case paytree.StatusWaiting:
		if op == paytree.OpPay {
			return vWaiting, nil
		}
	case paytree.StatusProcessing:
		// Not a time-out: the gateway answered, but the channel had not
		// settled the payment. Say so (the code keeps "outcome unknown").
		e := errorf(paytree.N0002, "")
		e.Message = "outcome unknown: the gateway answered PROCESSING (transStatus 3): the channel had not settled it yet"
		return vUnknown, e
	case paytree.StatusFailed:
		return vFailed, newError(paytree.E2006, "transStatus FAILED", nil)
	case paytree.StatusCancelled:
		return vFailed, newError(paytree.E2004, "transStatus CANCELLED", nil)
	case paytree.StatusExpired:
		return vFailed, newError(paytree.E2005, "transStatus EXPIRED", nil)
	case paytree.StatusReversed:
		return vFailed, newError(paytree.E3004, "transStatus REVERSED", nil)
	}
	return vUnknown, errorf(paytree.N0004, "unexpected transStatus %q for a %s", st.Wire(), op)
}

// judge classifies the answer to the transaction's own request.
func (r *run) judge(res transport.Result) (verdict, *Error) {
	switch res.Outcome {
	case transport.NotSent:
		// Nothing left the host. N0001 may simply be retried; an untrusted
		// certificate (N0006) keeps its catalog action: a retry won't fix it.
		return vNotSent, networkError(res)
	case transport.Answered:
	default:
		return vUnknown, networkError(res)
	}
	f := res.Fields
	switch code := f[paytree.FResultCode]; code {
	case paytree.CodeOK:
	case paytree.E9001:
		return vUnknown, gatewayError(code, f[paytree.FErrorSubCode], f[paytree.FErrorMessage])
	default:
		return vFailed, gatewayError(code, f[paytree.FErrorSubCode], f[paytree.FErrorMessage])
	}
	return r.processed(f)
}

// processed classifies an answer that says the request was processed: it
// keeps what the answer tells about the order, and for a pay or deposit
// reads the order's transStatus.
func (r *run) processed(f paytree.Fields) (verdict, *Error) {
	r.absorb(f)
	switch r.txn.Op {
	case paytree.OpPay, paytree.OpDeposit:
		st, ok := paytree.ParseTransStatus(f[paytree.FTransStatus])
		if !ok {
			return vUnknown, errorf(paytree.N0004, "transStatus %q is not a status", f[paytree.FTransStatus])
		}
		return statusVerdict(r.txn.Op, st)
	}
	return vDone, nil
}

// judgeConfirm classifies a confirm's answer about the transaction's request.
func (r *run) judgeConfirm(res transport.Result) (verdict, *Error) {
	if res.Outcome != transport.Answered {
		return vUnknown, networkError(res)
	}
	f := res.Fields
	switch code := f[paytree.FResultCode]; code {
	case paytree.CodeOK:
	case paytree.E3001:
		return vNotFound, gatewayError(code, f[paytree.FErrorSubCode], f[paytree.FErrorMessage])
	default: // the confirm itself was not served: ask again
		return vUnknown, gatewayError(code, f[paytree.FErrorSubCode], f[paytree.FErrorMessage])
	}
	switch tc := f[paytree.FTargetResultCode]; tc {
	case paytree.CodeOK, "":
	case paytree.E9001:
		if f[paytree.FTransStatus] == "" {
			return vUnknown, gatewayError(tc, "", "")
		}
	default:
		if f[paytree.FTransStatus] != "" {
			r.absorb(f) // keep how the order ended (CANCELLED, EXPIRED, FAILED), not the WAITING before it
		}
		return vFailed, gatewayError(tc, "", "")
	}
	return r.processed(f)
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

// endFailed journals that nothing moved (refused or FAILED) and reports err.
func (r *run) endFailed(entry journal.Entry, err *Error) {
	if e := r.step(fsm.EvFail, entry, func(t *journal.Txn) { t.LastError = errInfo(err) }, failed(err, true)); e != nil {
		r.journalFailed(e)
	}
}

// ---- pay and deposit ----

func (r *run) successEvent() fsm.Event {
	if r.txn.Op == paytree.OpDeposit {
		return fsm.EvDeposited
	}
	return fsm.EvPaid
}

// onChargeAnswer handles the answer to a pay or deposit (or to a confirm of
// it, with confirm set).
func (r *run) onChargeAnswer(res transport.Result, confirm bool) {
	reqID := r.txn.Step.RequestID
	kind := r.txn.Op
	var v verdict
	var err *Error
	if confirm {
		kind = paytree.OpConfirm
		v, err = r.judgeConfirm(res)
	} else {
		v, err = r.judge(res)
	}
	entry := outcomeEntry(kind, reqID, res, err)
	switch v {
	case vDone:
		if e := r.step(r.successEvent(), entry, nil, completed(true)); e != nil {
			r.journalFailed(e)
		}
	case vWaiting:
		r.setWaiting() // before the event: its handler may call PayConfirm
		if e := r.step(fsm.EvWait, entry, func(t *journal.Txn) {
			if t.WaitingSince.IsZero() {
				t.WaitingSince = r.e.clock.Now()
			}
		}, completed(false)); e != nil {
			r.journalFailed(e)
			return
		}
		r.approvalWait()
	case vFailed, vNotSent:
		r.endFailed(entry, err)
	case vNotFound:
		// The gateway never received it: reverse by targetRequestId so a late
		// arrival is refused (tombstone), then report the original cause.
		r.reverseCharge()
	default:
		if r.cause == nil {
			r.cause = err
		}
		if !confirm {
			if e := r.step(fsm.EvLost, entry, func(t *journal.Txn) { t.LastError = errInfo(err) }); e != nil {
				r.journalFailed(e)
				return
			}
		}
		r.confirmCharge()
	}
}

// confirmCharge asks the gateway about the pay/deposit up to
// RequestConfirmNum times; a definite answer is handled as the pay's own, and
// anything still unknown is reversed.
func (r *run) confirmCharge() {
	for r.txn.Step.Confirms < r.e.cfg.RequestConfirmNum {
		if !r.wait(r.e.cfg.RequestConfirmInterval) {
			return
		}
		res, ok := r.confirmOnce(fsm.EvConfirm, r.txn.ID, func(s *journal.Step) { s.Confirms++ })
		if !ok {
			return
		}
		v, err := r.judgeConfirm(res)
		if v == vUnknown {
			if r.cause == nil {
				r.cause = err
			}
			continue
		}
		r.onChargeAnswer(res, true)
		return
	}
	r.reverseCharge()
}

// confirmOnce journals ev with a fresh confirm requestId, then sends the
// confirm of target. ok is false when the journal failed (reported), or
// when recovery found the gateway unreachable (see unreachable): either
// way the caller stops where the journal has the transaction.
func (r *run) confirmOnce(ev fsm.Event, target string, bump func(*journal.Step)) (transport.Result, bool) {
	id, err := newRequestID()
	if err != nil {
		r.journalFailed(newError(paytree.L0007, err.Error(), err))
		return transport.Result{}, false
	}
	if e := r.step(ev, journal.Entry{RequestID: id, Kind: paytree.OpConfirm.String(), Note: "confirm " + target}, func(t *journal.Txn) {
		t.Step.RequestID, t.Step.Kind = id, paytree.OpConfirm.String()
		bump(&t.Step)
	}); e != nil {
		r.journalFailed(e)
		return transport.Result{}, false
	}
	auto := target == r.txn.ID && r.autoDetected()
	res := r.sendConfirm(id, target, auto)
	return res, !r.unreachable(res)
}

// reverseCharge undoes a pay/deposit whose outcome is unknown or abandoned:
// reverse by targetRequestId (the same reverse requestId on every resend),
// confirm it, resend it, and escalate if it is never achieved.
func (r *run) reverseCharge() {
	revID := r.txn.Step.ReverseRequestID
	if revID == "" {
		id, err := newRequestID()
		if err != nil {
			r.journalFailed(newError(paytree.L0007, err.Error(), err))
			return
		}
		revID = id
	}
	for attempt := 0; ; attempt++ {
		if e := r.step(fsm.EvReverse, journal.Entry{RequestID: revID, Kind: paytree.OpReverse.String(), Note: "reverse " + r.txn.ID}, func(t *journal.Txn) {
			t.Step.ReverseRequestID, t.Step.RequestID, t.Step.Kind = revID, revID, paytree.OpReverse.String()
			if attempt > 0 {
				t.Step.Resends++
			}
		}); e != nil {
			r.journalFailed(e)
			return
		}
		f := r.common(revID)
		f[paytree.FTargetRequestID] = r.txn.ID
		res := r.send(paytree.OpReverse, r.e.cfg.ApiPathReverse, f)
		if r.unreachable(res) {
			return
		}
		switch r.reverseVerdict(res, false) {
		case vDone:
			r.chargeReversed(res)
			return
		case vFailed:
			r.escalateCharge(res)
			return
		}
		// Unknown: confirm the reverse, then resend it with the same requestId.
		settled := false
		for i := 0; i < r.e.cfg.RequestConfirmNum; i++ {
			if !r.wait(r.e.cfg.RequestConfirmInterval) {
				return
			}
			cres, ok := r.confirmOnce(fsm.EvReverse, revID, func(s *journal.Step) { s.Confirms++ })
			if !ok {
				return
			}
			switch r.reverseVerdict(cres, true) {
			case vDone:
				r.chargeReversed(cres)
				return
			case vFailed:
				r.escalateCharge(cres)
				return
			case vNotFound:
				settled = true // never received: resend it now
			}
			if settled {
				break
			}
		}
		if r.txn.Step.Resends >= r.e.cfg.RequestConfirmNum {
			r.escalateCharge(res)
			return
		}
		if !r.wait(r.e.cfg.RequestConfirmInterval) {
			return
		}
	}
}

// unreachable reports whether the sequence stops where the journal has the
// transaction because the gateway could not be reached (N0001: no byte of
// res's request left the host, so nothing was learned and nothing moved).
// The attempt never counts towards an escalation (contract 7, "an
// unreachable gateway is no answer"): recovery tries again when the
// gateway answers; a live sequence is parked (see park) and the engine
// carries its decision out when the gateway is back.
func (r *run) unreachable(res transport.Result) bool {
	if res.Outcome != transport.NotSent || res.Code != paytree.N0001 {
		return false
	}
	if r.ctx.Err() != nil { // the engine is closing: the journal has the decision
		return true
	}
	r.parked = networkError(res)
	if !r.recovered {
		r.park()
	}
	return true
}

// park ends the live part of a sequence whose confirm, reverse or resend
// could not reach the gateway: it journals the wait (the decision already
// journaled stays: confirm, reverse, resend) with ErrorEvent N0007, and
// hands the transaction to the engine, which resumes it as recovery does
// once the gateway accepts connections. Its outcome is a later event.
func (r *run) park() {
	next := "it is confirmed and, if still unknown, undone (reversed)"
	action := paytree.Retry
	switch r.txn.State {
	case fsm.StateReversing:
		next = "its reverse is sent again"
	case fsm.StateResending, fsm.StateConfirming:
		if r.txn.Op == paytree.OpRefund || r.txn.Op == paytree.OpReverse {
			next, action = "it is confirmed and resent with the same request id: wait for its outcome, do not repeat it", paytree.VendorCall
		}
	}
	err := newError(paytree.N0007, fmt.Sprintf("%s %s stays %s; when the gateway is back %s", r.txn.Op, r.txn.ID, r.txn.State, next), r.parked)
	err.Action = action
	// Hand over first, so that a handler of N0007 already sees the engine
	// waiting for the gateway. Should the step fail, the resumer still
	// finishes the transaction from where the journal has it.
	r.e.handOff(r)
	if e := r.step(fsm.EvPark, journal.Entry{RequestID: r.txn.Step.RequestID, Kind: r.txn.Step.Kind, HTTP: "not-sent", Error: errInfo(r.parked),
		Note: "gateway unreachable: waits for it"}, nil, failed(err, false)); e != nil {
		r.journalFailed(e)
	}
}

// notProcessed reports whether res is an answer saying that this very
// request was not processed (E9002 busy, E1002 signature refused). On a
// confirm or a resend it says nothing about the first send, whose outcome
// stays unknown (contract 7: "a not processed answer settles only itself").
func notProcessed(res transport.Result) bool {
	if res.Outcome != transport.Answered {
		return false
	}
	switch res.Fields[paytree.FResultCode] {
	case paytree.E9002, paytree.E1002:
		return true
	}
	return false
}

// reverseVerdict classifies an answer to a reverse (or to a confirm of it).
func (r *run) reverseVerdict(res transport.Result, confirm bool) verdict {
	if res.Outcome != transport.Answered {
		return vUnknown
	}
	f := res.Fields
	code := f[paytree.FResultCode]
	if confirm {
		switch code {
		case paytree.CodeOK:
			code = f[paytree.FTargetResultCode]
		case paytree.E3001:
			return vNotFound
		default:
			return vUnknown
		}
	}
	switch code {
	case paytree.CodeOK, "":
		return vDone
	case paytree.E9001, paytree.E9002:
		return vUnknown
	}
	return vFailed
}

// chargeReversed ends a pay/deposit that was undone: nothing is held, and
// the operator is told why (the original cause; Retry: they may pay again).
func (r *run) chargeReversed(res transport.Result) {
	cause := r.cause
	if cause == nil {
		cause = errorf(paytree.N0002, "outcome unknown")
	}
	reported := cause
	if cause.Type == paytree.TypeNetwork && cause.Action != paytree.VendorCall {
		reported = cause.withAction(paytree.Retry)
	}
	if e := r.step(fsm.EvReversed, outcomeEntry(paytree.OpReverse, r.txn.Step.ReverseRequestID, res, nil), func(t *journal.Txn) {
		t.TransStatus = int(paytree.StatusReversed)
		t.LastError = errInfo(cause)
	}, failed(reported, true)); e != nil {
		r.journalFailed(e)
	}
}

// escalateCharge ends a pay/deposit whose reverse was not achieved: the
// network error (CPSCall), then the post-process error P0001/P0002.
func (r *run) escalateCharge(res transport.Result) {
	cause := r.cause
	if cause == nil {
		cause = errorf(paytree.N0002, "outcome unknown")
	}
	post := paytree.P0001
	if r.txn.Op == paytree.OpDeposit {
		post = paytree.P0002
	}
	perr := errorf(post, "transaction %s: reverse %s not achieved; call CPS", r.txn.ID, r.txn.Step.ReverseRequestID)
	if e := r.step(fsm.EvEscalate, outcomeEntry(paytree.OpReverse, r.txn.Step.ReverseRequestID, res, perr), func(t *journal.Txn) {
		t.LastError = errInfo(perr)
	}, failed(escalatedCause(cause), false), failed(perr, true)); e != nil {
		r.journalFailed(e)
	}
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

// approvalWait follows a WAITING pay: PayConfirm, or polling (always after a
// restart, since no cashier may be there), until PAID, a refusal, or
// PayConfirmPollingTimeout counted from the WAITING answer (then reverse).
func (r *run) approvalWait() {
	cfg := r.e.cfg
	polling := cfg.PayConfirmPollingMode || r.recovered
	r.setWaiting()
	defer r.notWaiting()
	deadline := r.txn.WaitingSince.Add(cfg.PayConfirmPollingTimeout)
	nextPoll := r.txn.WaitingSince.Add(cfg.PayConfirmPollingWait)
	for {
		now := r.e.clock.Now()
		if !now.Before(deadline) {
			r.cause = errorf(paytree.E2005, "no approval within %s", cfg.PayConfirmPollingTimeout)
			r.cause.Action = paytree.Customer
			r.notWaiting()
			r.reverseCharge()
			return
		}
		var pollC <-chan time.Time
		if polling {
			pollC = r.e.clock.After(max(nextPoll.Sub(now), 0))
		}
		timeoutC := r.e.clock.After(deadline.Sub(now))
		explicit, flag := false, true
		select {
		case <-r.ctx.Done():
			return
		case <-timeoutC:
			continue
		case <-pollC:
			nextPoll = r.e.clock.Now().Add(cfg.PayConfirmPollingInterval)
		case flag = <-r.confirm:
			explicit = true
		}
		res, ok := r.confirmOnce(fsm.EvConfirm, r.txn.ID, func(s *journal.Step) {})
		if !ok {
			return
		}
		v, err := r.judgeConfirm(res)
		entry := outcomeEntry(paytree.OpConfirm, r.txn.Step.RequestID, res, err)
		switch {
		case v == vDone || v == vFailed:
			r.notWaiting()
			r.onChargeAnswer(res, true)
			return
		case explicit && !flag:
			// The cashier ended the wait without a payment: undo it.
			r.cause = errorf(paytree.E2004, "the approval wait was ended without payment")
			r.notWaiting()
			r.reverseCharge()
			return
		}
		// Still waiting, or the confirm went unanswered: keep waiting (an
		// explicit PayConfirm(true) is told so).
		var told []raised
		if explicit {
			if v == vWaiting {
				told = append(told, failed(errorf(paytree.W0001, "transaction %s", r.txn.ID), false))
			} else {
				told = append(told, failed(err, false))
			}
		}
		if e := r.step(fsm.EvWait, entry, nil, told...); e != nil {
			r.journalFailed(e)
			return
		}
	}
}

// ---- refund and reverse ----

// onSettleAnswer handles the answer to a refund or reverse (first send or a
// resend with the same requestId).
func (r *run) onSettleAnswer(res transport.Result) {
	v, err := r.judge(res)
	entry := outcomeEntry(r.txn.Op, r.txn.ID, res, err)
	switch v {
	case vDone:
		r.settleDone(entry)
	case vFailed, vNotSent:
		r.endFailed(entry, err)
	default:
		if r.cause == nil {
			r.cause = err
		}
		if e := r.step(fsm.EvLost, entry, func(t *journal.Txn) { t.LastError = errInfo(err) }); e != nil {
			r.journalFailed(e)
			return
		}
		r.settleUnknown()
	}
}

func (r *run) settleDone(entry journal.Entry) {
	if e := r.step(fsm.EvDone, entry, func(t *journal.Txn) { t.LastError = nil }, completed(true)); e != nil {
		r.journalFailed(e)
	}
}

// settleUnknown confirms a refund/reverse whose answer was lost, resends it
// with its own requestId, and escalates when neither settles it. A refund is
// never undone and never reissued with a new requestId.
func (r *run) settleUnknown() {
	for {
		for i := 0; i < r.e.cfg.RequestConfirmNum; i++ {
			if !r.wait(r.e.cfg.RequestConfirmInterval) {
				return
			}
			res, ok := r.confirmOnce(fsm.EvConfirm, r.txn.ID, func(s *journal.Step) { s.Confirms++ })
			if !ok {
				return
			}
			v, err := r.judgeConfirm(res)
			entry := outcomeEntry(paytree.OpConfirm, r.txn.Step.RequestID, res, err)
			switch v {
			case vDone:
				r.settleDone(entry)
				return
			case vFailed:
				r.endFailed(entry, err)
				return
			}
			if v == vNotFound {
				break
			}
		}
		if r.txn.Step.Resends >= r.e.cfg.RequestConfirmNum {
			cause := r.cause
			if cause == nil {
				cause = errorf(paytree.N0002, "outcome unknown")
			}
			cause = cause.withAction(paytree.CPSCall)
			if e := r.step(fsm.EvEscalate, journal.Entry{RequestID: r.txn.ID, Kind: r.txn.Op.String(), Error: errInfo(cause), Note: "not settled after resends"},
				func(t *journal.Txn) { t.LastError = errInfo(cause) }, failed(cause, true)); e != nil {
				r.journalFailed(e)
			}
			return
		}
		if e := r.step(fsm.EvResend, journal.Entry{RequestID: r.txn.ID, Kind: r.txn.Op.String(), Note: "resend with the same requestId"}, func(t *journal.Txn) {
			t.Step.RequestID, t.Step.Kind = t.ID, t.Op.String()
			t.Step.Resends++
		}); e != nil {
			r.journalFailed(e)
			return
		}
		res := r.send(r.txn.Op, r.mainPath(), r.mainFields(r.txn.ID))
		if r.unreachable(res) {
			return
		}
		v, err := r.judge(res)
		entry := outcomeEntry(r.txn.Op, r.txn.ID, res, err)
		switch {
		case v == vDone:
			r.settleDone(entry)
			return
		case v == vNotSent, notProcessed(res):
			// Not sent, or not processed, this time: an earlier copy may
			// have been processed, so the outcome stays unknown.
		case v == vFailed:
			r.endFailed(entry, err)
			return
		}
		if e := r.step(fsm.EvLost, entry, nil); e != nil {
			r.journalFailed(e)
			return
		}
	}
}
