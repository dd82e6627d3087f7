package wbpay

import (
	"context"
	"strconv"
	"strings"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// Pay starts a payment and returns at once; the outcome arrives through the
// handlers (CompleteEvent, twice when the customer must approve; ErrorEvent,
// twice when a failed pay could not be reversed). It returns an *Error when
// the request is refused before anything is sent: L0003 (invalid field),
// L0004 (a sequence is running), L0005 (closed), L0007 (journal not written,
// the request was NOT sent).
func (e *Engine) Pay(req *PayRequest) error {
	_, err := e.start(context.Background(), false, paytree.OpPay, func() (*run, error) { return e.newPay(req) })
	return err
}

// PaySync runs the same sequence as Pay and waits for its end, including the
// customer's approval. Cancelling ctx stops the wait, not the sequence.
func (e *Engine) PaySync(ctx context.Context, req *PayRequest) (*Result, error) {
	return e.start(ctx, true, paytree.OpPay, func() (*run, error) { return e.newPay(req) })
}

// Refund starts a refund of a paid order; see Pay for the returned errors.
func (e *Engine) Refund(req *RefundRequest) error {
	_, err := e.start(context.Background(), false, paytree.OpRefund, func() (*run, error) { return e.newRefund(req) })
	return err
}

// RefundSync runs Refund's sequence and waits for its end.
func (e *Engine) RefundSync(ctx context.Context, req *RefundRequest) (*Result, error) {
	return e.start(ctx, true, paytree.OpRefund, func() (*run, error) { return e.newRefund(req) })
}

// Reverse starts a reverse (取消) of a pay or deposit by its orderId.
func (e *Engine) Reverse(req *ReverseRequest) error {
	_, err := e.start(context.Background(), false, paytree.OpReverse, func() (*run, error) { return e.newReverse(req) })
	return err
}

// ReverseSync runs Reverse's sequence and waits for its end.
func (e *Engine) ReverseSync(ctx context.Context, req *ReverseRequest) (*Result, error) {
	return e.start(ctx, true, paytree.OpReverse, func() (*run, error) { return e.newReverse(req) })
}

// Deposit starts a deposit (入金, a charge of the customer's wallet).
func (e *Engine) Deposit(req *DepositRequest) error {
	_, err := e.start(context.Background(), false, paytree.OpDeposit, func() (*run, error) { return e.newDeposit(req) })
	return err
}

// DepositSync runs Deposit's sequence and waits for its end.
func (e *Engine) DepositSync(ctx context.Context, req *DepositRequest) (*Result, error) {
	return e.start(ctx, true, paytree.OpDeposit, func() (*run, error) { return e.newDeposit(req) })
}

// Request is one of *PayRequest, *RefundRequest, *ReverseRequest and
// *DepositRequest, for Submit.
type Request interface{ operation() paytree.Operation }

func (*PayRequest) operation() paytree.Operation     { return paytree.OpPay }
func (*RefundRequest) operation() paytree.Operation  { return paytree.OpRefund }
func (*ReverseRequest) operation() paytree.Operation { return paytree.OpReverse }
func (*DepositRequest) operation() paytree.Operation { return paytree.OpDeposit }

// Ticket names the transaction a request started.
type Ticket struct {
	TransactionID string
	// Replayed: the request's IdempotencyKey had already started this
	// transaction, so nothing new was journaled or sent (and no event is
	// raised again: read the transaction for where it stands).
	Replayed bool
}

// Submit starts req like Pay, Refund, Reverse or Deposit and returns at once
// with the id of the transaction it journaled, for callers that follow it
// by id (the daemon's 202 + Location). Errors are those of Pay.
func (e *Engine) Submit(req Request) (Ticket, error) {
	build := e.builder(req)
	if build == nil {
		return Ticket{}, errorf(paytree.L0003, "request is nil or of an unknown type %T", req)
	}
	var t Ticket
	_, err := e.startRun(context.Background(), false, req.operation(), build, &t)
	return t, err
}

// builder returns what makes the run of req (nil for an unknown type).
func (e *Engine) builder(req Request) func() (*run, error) {
	switch r := req.(type) {
	case *PayRequest:
		return func() (*run, error) { return e.newPay(r) }
	case *RefundRequest:
		return func() (*run, error) { return e.newRefund(r) }
	case *ReverseRequest:
		return func() (*run, error) { return e.newReverse(r) }
	case *DepositRequest:
		return func() (*run, error) { return e.newDeposit(r) }
	}
	return nil
}

// PayConfirm answers a pay that waits for the customer's approval:
// true asks the gateway now (PAID → CompleteEvent, still waiting →
// ErrorEvent W0001); false ends the wait (PAID → CompleteEvent, anything
// else → reverse, then ErrorEvent). L0008 when no pay is waiting, L0004 when
// the previous PayConfirm is still being answered.
func (e *Engine) PayConfirm(confirm bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errorf(paytree.L0005, "the engine was closed")
	}
	if e.waiting == nil {
		return errorf(paytree.L0008, "no payment is waiting for the customer")
	}
	select {
	case e.waiting.confirm <- confirm:
		return nil
	default:
		return errorf(paytree.L0004, "the previous PayConfirm is still being answered")
	}
}

// start validates and journals the first step synchronously (so a journal
// failure is returned as L0007 and nothing is sent), then runs the rest of
// the sequence in the background. With wait it waits for the end (or ctx).
func (e *Engine) start(ctx context.Context, wait bool, op paytree.Operation, build func() (*run, error)) (*Result, error) {
	return e.startRun(ctx, wait, op, build, nil)
}

// startRun is start, filling ticket (when not nil) once the first step is
// journaled.
func (e *Engine) startRun(ctx context.Context, wait bool, op paytree.Operation, build func() (*run, error), ticket *Ticket) (*Result, error) {
	if err := e.refuseDamaged(); err != nil {
		return nil, err
	}
	r, err := build()
	if err != nil {
		return nil, err
	}
	// A retry of a keyed request gets its transaction back, even while that
	// one still runs; the check is repeated once this request holds the
	// engine, so that no two transactions can start under one key.
	if res, ok, err := e.replay(ctx, wait, r.txn, ticket); ok {
		return res, err
	}
	if err := e.acquire(op.String(), r); err != nil {
		return nil, err
	}
	if _, ok, err := e.replay(ctx, false, r.txn, ticket); ok {
		r.release()
		if err != nil || !wait {
			return nil, err
		}
		res, _, err := e.replay(ctx, true, r.txn, ticket)
		return res, err
	}
	if err := e.orderSettled(r.txn); err != nil {
		r.release()
		return nil, err
	}
	if err := e.voidDeadline(r.txn); err != nil {
		r.release()
		return nil, err
	}
	if err := r.begin(); err != nil {
		r.release()
		return nil, err
	}
	if ticket != nil {
		ticket.TransactionID = r.txn.ID
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		r.drive()
	}()
	if !wait {
		return nil, nil
	}
	select {
	case <-r.done:
		return r.result(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// replay looks up the transaction that t's idempotency key started: ok is
// false when t has no key or the key is new. With a transaction of the same
// request it fills ticket and, with wait, returns that transaction's result
// once it has ended (or where it stands, when no sequence of this engine
// runs it); with another request it returns L0010. Nothing is sent.
func (e *Engine) replay(ctx context.Context, wait bool, t *journal.Txn, ticket *Ticket) (res *Result, ok bool, err error) {
	if t.IdempotencyKey == "" {
		return nil, false, nil
	}
	old, err := e.journal.ByIdempotencyKey(t.IdempotencyKey)
	switch {
	case err != nil:
		return nil, true, newError(paytree.L0007, "look up the idempotency key: "+err.Error(), err)
	case old == nil:
		return nil, false, nil
	case !sameRequest(old, t):
		return nil, true, errorf(paytree.L0010, "IdempotencyKey %q started transaction %s (a %s with other fields); nothing was sent",
			t.IdempotencyKey, old.ID, old.Op)
	}
	if ticket != nil {
		ticket.TransactionID, ticket.Replayed = old.ID, true
	}
	if !wait {
		return nil, true, nil
	}
	e.mu.Lock()
	running := e.owner
	e.mu.Unlock()
	if running != nil && running.id == old.ID {
		select {
		case <-running.done:
			res = running.result()
			res.Events = nil
		case <-ctx.Done():
			return nil, true, ctx.Err()
		}
	} else if cur, err := e.journal.Get(old.ID); err != nil {
		return nil, true, newError(paytree.L0007, "read the transaction of the idempotency key: "+err.Error(), err)
	} else {
		res = e.withReceipt(resultOf(cur), cur)
	}
	res.Replayed = true
	return res, true, nil
}

// orderSettled refuses (L0012) a refund or reverse of an order while an
// earlier refund or reverse of it is unfinished or escalated: its outcome
// must be known first (found by the engine, or recorded with Resolve), or a
// second one might move the money twice (contract 7, "one intent, one
// request").
func (e *Engine) orderSettled(t *journal.Txn) error {
	if t.Op != paytree.OpRefund && t.Op != paytree.OpReverse {
		return nil
	}
	others, err := e.journal.ByOrderID(t.OrderID)
	if err != nil {
		return newError(paytree.L0007, "read the order's transactions: "+err.Error(), err)
	}
	for _, o := range others {
		if o.Op != paytree.OpRefund && o.Op != paytree.OpReverse {
			continue
		}
		switch {
		case o.State == fsm.StateEscalated:
			return errorf(paytree.L0012, "the %s %s of order %s is escalated: call CPS, then record what they said with `wbpay-engine resolve %s`; nothing was sent",
				o.Op, o.ID, t.OrderID, o.ID)
		case !o.State.Terminal():
			return errorf(paytree.L0012, "the %s %s of order %s is unfinished (%s): its outcome comes first (recovery finishes it); nothing was sent",
				o.Op, o.ID, t.OrderID, o.State)
		}
	}
	return nil
}

// sameRequest reports whether the new transaction t asks what old asked:
// the same operation and request fields (the "_" keys are the engine's
// own), the same userCode (by its hash) and receipt number.
func sameRequest(old, t *journal.Txn) bool {
	if old.Op != t.Op || old.UserCodeHash != t.UserCodeHash || old.ReceiptNo != t.ReceiptNo {
		return false
	}
	n := 0
	for k, v := range old.Request {
		if strings.HasPrefix(k, "_") {
			continue
		}
		if w, ok := t.Request[k]; !ok || w != v {
			return false
		}
		n++
	}
	return n == len(t.Request)
}

// Limits of the fields that never go on the wire: the idempotency key
// (the daemon's Idempotency-Key header) and a resolution's operator and
// note. The daemon's API checks its bodies and headers with the same.
const (
	MaxIdempotencyKeyLength = 64
	MaxOperatorLength       = 64
	MaxNoteLength           = 512
)

// ValidIdempotencyKey reports whether key is 1 to MaxIdempotencyKeyLength
// characters of A–Z, a–z, 0–9, _ and -.
func ValidIdempotencyKey(key string) bool {
	return key != "" && len(key) <= MaxIdempotencyKeyLength && badKeyRune(key) < 0
}

// badKeyRune returns the first character of key an idempotency key may not
// hold, or -1.
func badKeyRune(key string) rune {
	for _, c := range key {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return c
		}
	}
	return -1
}

// checkKey returns L0003 unless key is empty or a ValidIdempotencyKey.
func checkKey(key string) error {
	if len(key) > MaxIdempotencyKeyLength {
		return errorf(paytree.L0003, "IdempotencyKey is longer than %d characters", MaxIdempotencyKeyLength)
	}
	if c := badKeyRune(key); c >= 0 {
		return errorf(paytree.L0003, "IdempotencyKey holds %q: only A-Z, a-z, 0-9, _ and - are allowed", c)
	}
	return nil
}

// requestNames are the names L0003 gives the request fields (those of the
// request types), by wire name.
var requestNames = map[string]string{
	paytree.FPayType: "PayType", paytree.FAmount: "Amount", paytree.FUserCode: "UserCode",
	paytree.FReceiptNo: "ReceiptNo", paytree.FRemark: "Remark", paytree.FOrderID: "OrderID",
	paytree.FRefundAmount: "RefundAmount", paytree.FRefundReason: "RefundReason", paytree.FValueType: "ValueType",
}

// checkFields returns L0003 naming the request field at fault when the
// wire fields f of op (v1: the auto-detect pay) break the contract's table
// (paytree.RequestTable); c is the request's channel, named when payType is
// at fault (refunds and reverses have none: paytree.AutoDetect).
func checkFields(op paytree.Operation, v1 bool, f paytree.Fields, c Channel) error {
	if !c.Valid() {
		return errorf(paytree.L0003, "PayType %d is not a known channel", int(c))
	}
	t, _ := paytree.RequestTable(op, v1)
	fe := t.Check(f)
	switch {
	case fe == nil:
		return nil
	case fe.Field == paytree.FPayType:
		return errorf(paytree.L0003, "PayType %s: payType %s", c, fe.Problem)
	case fe.Field == paytree.FAmount || fe.Field == paytree.FRefundAmount:
		return errorf(paytree.L0003, "%s %s, got %s", requestNames[fe.Field], fe.Problem, f[fe.Field])
	}
	return errorf(paytree.L0003, "%s %s", requestNames[fe.Field], fe.Problem)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// withSecret returns op with the secret fields added, to be checked.
func withSecret(op, secret paytree.Fields) paytree.Fields {
	all := op.Clone()
	for k, v := range secret {
		all[k] = v
	}
	return all
}

func (e *Engine) newPay(req *PayRequest) (*run, error) {
	if req == nil {
		return nil, errorf(paytree.L0003, "request is nil")
	}
	op := paytree.Fields{paytree.FAmount: strconv.FormatInt(req.Amount, 10)}
	if req.PayType != paytree.AutoDetect {
		op[paytree.FPayType] = req.PayType.Code()
	}
	setIf(op, paytree.FReceiptNo, req.ReceiptNo)
	setIf(op, paytree.FRemark, req.Remark)
	secret := paytree.Fields{paytree.FUserCode: req.UserCode}
	if err := firstErr(
		checkFields(paytree.OpPay, req.PayType == paytree.AutoDetect, withSecret(op, secret), req.PayType),
		checkKey(req.IdempotencyKey),
	); err != nil {
		return nil, err
	}
	return e.newRun(paytree.OpPay, op, secret, func(t *journal.Txn) {
		t.Amount = req.Amount
		t.PayType = req.PayType.Code()
		t.ReceiptNo = req.ReceiptNo
		t.UserCodeMasked = journal.MaskUserCode(req.UserCode)
		t.UserCodeHash = e.hashUserCode(req.UserCode)
		t.IdempotencyKey = req.IdempotencyKey
	})
}

func (e *Engine) newDeposit(req *DepositRequest) (*run, error) {
	if req == nil {
		return nil, errorf(paytree.L0003, "request is nil")
	}
	vt := req.ValueType
	if vt == "" {
		vt = paytree.ValueBasic
	}
	op := paytree.Fields{
		paytree.FValueType: string(vt),
		paytree.FAmount:    strconv.FormatInt(req.Amount, 10),
	}
	setIf(op, paytree.FPayType, req.PayType.Code())
	setIf(op, paytree.FReceiptNo, req.ReceiptNo)
	secret := paytree.Fields{paytree.FUserCode: req.UserCode}
	if err := firstErr(
		checkFields(paytree.OpDeposit, false, withSecret(op, secret), req.PayType),
		checkKey(req.IdempotencyKey),
	); err != nil {
		return nil, err
	}
	return e.newRun(paytree.OpDeposit, op, secret, func(t *journal.Txn) {
		t.Amount = req.Amount
		t.PayType = req.PayType.Code()
		t.ReceiptNo = req.ReceiptNo
		t.UserCodeMasked = journal.MaskUserCode(req.UserCode)
		t.UserCodeHash = e.hashUserCode(req.UserCode)
		t.IdempotencyKey = req.IdempotencyKey
	})
}

func (e *Engine) newRefund(req *RefundRequest) (*run, error) {
	if req == nil {
		return nil, errorf(paytree.L0003, "request is nil")
	}
	op := paytree.Fields{paytree.FRefundAmount: strconv.FormatInt(req.RefundAmount, 10)}
	setIf(op, paytree.FOrderID, req.OrderID)
	setIf(op, paytree.FRefundReason, req.RefundReason)
	setIf(op, paytree.FRemark, req.Remark)
	if err := firstErr(checkFields(paytree.OpRefund, false, op, paytree.AutoDetect), checkKey(req.IdempotencyKey)); err != nil {
		return nil, err
	}
	return e.newRun(paytree.OpRefund, op, nil, func(t *journal.Txn) {
		t.Amount = req.RefundAmount
		t.OrderID = req.OrderID
		t.IdempotencyKey = req.IdempotencyKey
	})
}

func (e *Engine) newReverse(req *ReverseRequest) (*run, error) {
	if req == nil {
		return nil, errorf(paytree.L0003, "request is nil")
	}
	op := paytree.Fields{}
	setIf(op, paytree.FOrderID, req.OrderID)
	if err := firstErr(checkFields(paytree.OpReverse, false, op, paytree.AutoDetect), checkKey(req.IdempotencyKey)); err != nil {
		return nil, err
	}
	return e.newRun(paytree.OpReverse, op, nil, func(t *journal.Txn) {
		t.OrderID = req.OrderID
		t.IdempotencyKey = req.IdempotencyKey
	})
}

func setIf(f paytree.Fields, k, v string) {
	if v != "" {
		f[k] = v
	}
}

// newRun makes the run of a new transaction; nothing is journaled yet.
// opFields are journaled with the transaction (to resend it identically);
// secret fields (the userCode) only ever live in memory.
func (e *Engine) newRun(op paytree.Operation, opFields, secret paytree.Fields, fill func(*journal.Txn)) (*run, error) {
	id, err := newRequestID()
	if err != nil {
		return nil, newError(paytree.L0007, "no request id: "+err.Error(), err)
	}
	now := e.clock.Now()
	t := &journal.Txn{ID: id, Op: op, State: fsm.StateNew, CreatedAt: now, UpdatedAt: now, Request: opFields}
	fill(t)
	m, err := fsm.New(op, fsm.StateNew)
	if err != nil {
		return nil, newError(paytree.L0003, err.Error(), err)
	}
	return newRunFor(e, t, m, secret, false), nil
}

// RecoveredLike returns the report of a transaction that start-up recovery
// finished which asked exactly what req asks (the same operation, fields,
// userCode and receipt number; the idempotency key aside), or nil. A caller
// that retries a request after a crash uses it not to send it twice: the
// one cut short by the crash was finished by recovery.
func (e *Engine) RecoveredLike(req Request) *Recovery {
	build := e.builder(req)
	if build == nil {
		return nil
	}
	asked, err := build()
	if err != nil {
		return nil
	}
	for _, rec := range e.Recovered() {
		if rec.Result == nil || !rec.Result.State.Terminal() || rec.Operation != asked.txn.Op {
			continue
		}
		t, err := e.journal.Get(rec.TransactionID)
		if err == nil && sameRequest(t, asked.txn) {
			return &rec
		}
	}
	return nil
}
