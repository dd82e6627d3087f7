package sim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wbpay/wbpay/paytree"
)

// outcome is the result of processing one request under the lock.
type outcome struct {
	ans     paytree.Fields
	drop    bool // the answer is lost (pay class 2, refund class 1)
	replay  bool
	changed bool // the history changed (a new record, a resend counted): the store is rewritten
	fired   []string
}

// process applies idempotency, validation and the operation. The caller
// holds s.mu.
func (s *Sim) process(rt route, f paytree.Fields) outcome {
	now := s.clock.Now()
	rid := f[paytree.FRequestID]
	keyed := validKey(f)
	k := reqKey{f[paytree.FTerminalUniqueID], rid}
	norm := normalize(f)
	if keyed {
		if rec := s.records[k]; rec != nil {
			if rec.rt == rt && sameFields(rec.fields, norm) {
				rec.count++
				return outcome{ans: rec.answer.Clone(), drop: rec.lostForever, replay: true, changed: true}
			}
			return outcome{ans: errFields(rid, paytree.E3005, "",
				fmt.Sprintf("requestId %s was already used for another %s request with other content", rid, rec.rt.op))}
		}
	}
	rec := &record{key: k, rt: rt, fields: norm, count: 1}
	var fired []string
	rec.answer, fired = s.execute(rt, f, rec, now)
	if keyed {
		s.records[k] = rec
		s.recordList = append(s.recordList, rec)
	}
	drop := rec.lostForever || rec.loseFirst
	rec.loseFirst = false
	return outcome{ans: rec.answer.Clone(), drop: drop, changed: keyed, fired: fired}
}

// normalize drops what idempotency ignores: sign, requestTime and empty
// values (which the signature does not cover either).
func normalize(f paytree.Fields) paytree.Fields {
	out := make(paytree.Fields, len(f))
	for k, v := range f {
		if k == paytree.FSign || k == paytree.FRequestTime || v == "" {
			continue
		}
		out[k] = v
	}
	return out
}

func sameFields(a, b paytree.Fields) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// execute validates f and runs the operation, returning the first answer.
func (s *Sim) execute(rt route, f paytree.Fields, rec *record, now time.Time) (paytree.Fields, []string) {
	rid := f[paytree.FRequestID]
	if e := validateCommon(f); e != nil {
		return errFields(rid, paytree.E1001, "", e.Error()), nil
	}
	if s.merchants != nil && !s.merchants[f[paytree.FMerchantID]] {
		return errFields(rid, paytree.E1003, "", "merchantId "+f[paytree.FMerchantID]+" is not registered"), nil
	}
	if s.terminals != nil && !s.terminals[f[paytree.FTerminalUniqueID]] {
		return errFields(rid, paytree.E1003, "", "terminalUniqueId "+f[paytree.FTerminalUniqueID]+" is not registered"), nil
	}
	if e := validateOp(rt, f); e != nil {
		return errFields(rid, paytree.E1001, "", e.Error()), nil
	}
	switch rt.op {
	case paytree.OpPay:
		return s.pay(rt, f, rec, now)
	case paytree.OpDeposit:
		return s.deposit(f, rec, now)
	case paytree.OpRefund:
		return s.refund(f, rec, now), nil
	case paytree.OpReverse:
		return s.reverse(f, rec, now), nil
	case paytree.OpConfirm:
		return s.confirm(rt, f, rec, now), nil
	}
	return errFields(rid, paytree.E1001, "", "unknown operation"), nil
}

// overrideCode is the userCode prefix of the per-request class override:
// "99", fifteen zeros, then the class digit.
const overrideCode = "99000000000000000"

// overrideClass reads the class override of a V3 pay's userCode.
func overrideClass(userCode string) (int, bool) {
	if len(userCode) != len(overrideCode)+1 || !strings.HasPrefix(userCode, overrideCode) {
		return 0, false
	}
	d := userCode[len(overrideCode)]
	if d < '0' || d > '9' {
		return 0, false
	}
	return int(d - '0'), true
}

// detect is the simulator's auto-detect rule (contract section 6).
func detect(userCode string) (paytree.Channel, bool) {
	if len(userCode) < 2 {
		return 0, false
	}
	c, ok := paytree.AutoDetectPrefixes[userCode[:2]]
	return c, ok
}

func parseAmount(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64) // validated before: 1–15 digits
	return n
}

// newOrder creates and stores an order; the caller sets its status.
func (s *Sim) newOrder(op paytree.Operation, f paytree.Fields, ch paytree.Channel, amount int64, now time.Time) *order {
	o := &order{
		id: s.newOrderID(now), requestID: f[paytree.FRequestID], terminal: f[paytree.FTerminalUniqueID],
		op: op, payType: ch.Code(), amount: amount, createdAt: now, transTime: paytree.FormatTime(now),
	}
	s.orders[o.id] = o
	s.orderList = append(s.orderList, o)
	return o
}

// newOrderID returns a fresh 32-character order id: "PT", the JST time and
// 16 random hex digits.
func (s *Sim) newOrderID(now time.Time) string {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := "PT" + paytree.FormatTime(now) + strings.ToUpper(hex.EncodeToString(b[:]))
		if _, dup := s.orders[id]; !dup {
			return id
		}
	}
}

// orderFields are the pay and deposit answer fields with status st.
func orderFields(o *order, st paytree.TransStatus) paytree.Fields {
	return paytree.Fields{
		paytree.FOrderID:     o.id,
		paytree.FTransTime:   o.transTime,
		paytree.FAmount:      strconv.FormatInt(o.amount, 10),
		paytree.FTransStatus: st.Wire(),
		paytree.FPayType:     o.payType,
	}
}

// declineCode is the refusal code that a confirm reports for an accepted
// pay or deposit that ended without money: FAILED E2006, CANCELLED E2004,
// EXPIRED E2005 ("" otherwise). The transStatus is reported beside it.
func declineCode(st paytree.TransStatus) string {
	switch st {
	case paytree.StatusFailed:
		return paytree.E2006
	case paytree.StatusCancelled:
		return paytree.E2004
	case paytree.StatusExpired:
		return paytree.E2005
	}
	return ""
}

// applyProcessing makes o PROCESSING until Settle has passed.
func applyProcessing(o *order, p *Fault, now time.Time, success paytree.TransStatus) {
	o.status = paytree.StatusProcessing
	o.settleAt = now.Add(p.Settle)
	o.settleTo = success
	if p.SettleFail {
		o.settleTo = paytree.StatusFailed
	}
}

func (s *Sim) pay(rt route, f paytree.Fields, rec *record, now time.Time) (paytree.Fields, []string) {
	rid, userCode := f[paytree.FRequestID], f[paytree.FUserCode]
	amount := parseAmount(f[paytree.FAmount])
	rec.amount = amount
	if s.tombstones[rec.key] {
		return errFields(rid, paytree.E3004, "", "requestId "+rid+" was reversed before it arrived: nothing taken"), nil
	}
	class := s.classes.Pay
	var ch paytree.Channel
	if rt.v1 {
		c, ok := detect(userCode)
		if !ok {
			return errFields(rid, paytree.E2001, "SIM-2001", "userCode matches no channel (auto-detect)"), nil
		}
		ch = c
	} else {
		ch, _ = paytree.ChannelFromCode(f[paytree.FPayType]) // validated before
		if n, ok := overrideClass(userCode); ok {
			class = n
		}
	}
	switch class {
	case 0, 1, 2, 6, 7:
	case 3:
		return errFields(rid, paytree.E2001, "SIM-2001", "user code invalid or expired (class 3)"), nil
	case 4:
		return errFields(rid, paytree.E2002, "SIM-2002", "insufficient balance (class 4)"), nil
	case 5:
		return errFields(rid, paytree.E2003, "SIM-2003", "channel service suspended (class 5)"), nil
	default:
		return errFields(rid, paytree.E2001, "SIM-2001", fmt.Sprintf("user code selects no test class (%d)", class)), nil
	}
	o := s.newOrder(paytree.OpPay, f, ch, amount, now)
	rec.order = o
	var fired []string
	if class == 2 {
		o.status = paytree.StatusPaid
		rec.lostForever = true
		return okFields(rid, orderFields(o, o.status)), nil
	}
	if p := s.pick(paytree.OpPay, phaseDuring); p.processing != nil {
		applyProcessing(o, p.processing, now, paytree.StatusPaid)
		fired = p.fired
	} else {
		switch class {
		case 0:
			o.status = paytree.StatusPaid
		case 1:
			o.status, o.settleAt, o.settleTo = paytree.StatusWaiting, now.Add(s.cfg.ApproveAfter), paytree.StatusPaid
		case 6:
			o.status, o.settleAt, o.settleTo = paytree.StatusWaiting, now.Add(s.cfg.ApproveAfter), paytree.StatusCancelled
		case 7:
			o.status, o.settleAt, o.settleTo = paytree.StatusWaiting, now.Add(s.cfg.ApprovalTimeout), paytree.StatusExpired
		}
	}
	return okFields(rid, orderFields(o, o.status)), fired
}

func (s *Sim) deposit(f paytree.Fields, rec *record, now time.Time) (paytree.Fields, []string) {
	rid := f[paytree.FRequestID]
	amount := parseAmount(f[paytree.FAmount])
	rec.amount = amount
	if s.tombstones[rec.key] {
		return errFields(rid, paytree.E3004, "", "requestId "+rid+" was reversed before it arrived: nothing taken"), nil
	}
	ch, _ := paytree.ChannelFromCode(f[paytree.FPayType]) // validated before
	if ch != paytree.LinePay {
		return errFields(rid, paytree.E3006, "", "deposit is not supported by "+ch.Code()+" (LINE only)"), nil
	}
	o := s.newOrder(paytree.OpDeposit, f, ch, amount, now)
	rec.order = o
	var fired []string
	if p := s.pick(paytree.OpDeposit, phaseDuring); p.processing != nil {
		applyProcessing(o, p.processing, now, paytree.StatusDeposited)
		fired = p.fired
	} else {
		o.status = paytree.StatusDeposited
	}
	return okFields(rid, orderFields(o, o.status)), fired
}

// findOrder returns the order oid of the request's terminal.
func (s *Sim) findOrder(oid, terminal string) *order {
	if o := s.orders[oid]; o != nil && o.terminal == terminal {
		return o
	}
	return nil
}

func (s *Sim) refund(f paytree.Fields, rec *record, now time.Time) paytree.Fields {
	rid, oid := f[paytree.FRequestID], f[paytree.FOrderID]
	amount := parseAmount(f[paytree.FRefundAmount])
	rec.amount = amount
	o := s.findOrder(oid, rec.key.terminal)
	if o == nil {
		return errFields(rid, paytree.E3001, "", "order "+oid+" not found")
	}
	rec.order = o
	if o.op == paytree.OpDeposit {
		return errFields(rid, paytree.E3006, "", "a deposit cannot be refunded")
	}
	st := o.current(now)
	switch st {
	case paytree.StatusReversed:
		return errFields(rid, paytree.E3004, "", "order "+oid+" is already reversed")
	case paytree.StatusPaid, paytree.StatusPartiallyRefunded:
	default:
		return errFields(rid, paytree.E3002, "", fmt.Sprintf("order %s is %s: nothing to refund", oid, st))
	}
	if left := o.amount - o.refunded; amount > left {
		return errFields(rid, paytree.E3002, "", fmt.Sprintf("refundAmount %d exceeds the refundable %d", amount, left))
	}
	o.refunded += amount
	o.status = paytree.StatusPartiallyRefunded
	if o.refunded == o.amount {
		o.status = paytree.StatusRefunded
	}
	rec.transTime = paytree.FormatTime(now)
	rec.loseFirst = s.classes.Refund == 1
	return okFields(rid, paytree.Fields{
		paytree.FOrderID:       o.id,
		paytree.FTransStatus:   o.status.Wire(),
		paytree.FRefundAmount:  strconv.FormatInt(amount, 10),
		paytree.FRefundedTotal: strconv.FormatInt(o.refunded, 10),
		paytree.FTransTime:     rec.transTime,
	})
}

// reverseFields is a reverse's success answer.
func reverseFields(rid, orderID string, returned int64, transTime string) paytree.Fields {
	return okFields(rid, paytree.Fields{
		paytree.FOrderID:     orderID,
		paytree.FTransStatus: paytree.StatusReversed.Wire(),
		paytree.FAmount:      strconv.FormatInt(returned, 10),
		paytree.FTransTime:   transTime,
	})
}

func (s *Sim) reverse(f paytree.Fields, rec *record, now time.Time) paytree.Fields {
	rid := f[paytree.FRequestID]
	rec.transTime = paytree.FormatTime(now)
	var o *order
	if oid := f[paytree.FOrderID]; oid != "" {
		if o = s.findOrder(oid, rec.key.terminal); o == nil {
			return errFields(rid, paytree.E3001, "", "order "+oid+" not found")
		}
	} else {
		tid := f[paytree.FTargetRequestID]
		rec.targetRequestID = tid
		tk := reqKey{rec.key.terminal, tid}
		target := s.records[tk]
		switch {
		case target == nil && tid == rid:
			return errFields(rid, paytree.E1001, "", "invalid targetRequestId: a reverse cannot target itself")
		case target == nil:
			// Never received: succeed with nothing taken and keep a tombstone
			// so the target, if it arrives later, is refused (E3004).
			s.tombstones[tk] = true
			return reverseFields(rid, "", 0, rec.transTime)
		case target.rt.op != paytree.OpPay && target.rt.op != paytree.OpDeposit:
			return errFields(rid, paytree.E3001, "", "targetRequestId "+tid+" is a "+target.rt.op.String()+", not a pay or deposit")
		case target.order == nil:
			return reverseFields(rid, "", 0, rec.transTime) // refused: nothing was taken
		}
		o = target.order
	}
	rec.order = o
	var returned int64
	switch st := o.current(now); st {
	case paytree.StatusRefunded, paytree.StatusPartiallyRefunded:
		return errFields(rid, paytree.E3003, "", fmt.Sprintf("order %s is %s: use refund", o.id, st))
	case paytree.StatusPaid, paytree.StatusDeposited:
		if now.Sub(o.createdAt) > s.cfg.ReverseWindow {
			return errFields(rid, paytree.E3003, "", fmt.Sprintf("the reverse window of %v has passed: use refund", s.cfg.ReverseWindow))
		}
		returned = o.amount - o.refunded
	case paytree.StatusProcessing:
		if o.settleTo != paytree.StatusFailed {
			returned = o.amount
		}
	case paytree.StatusWaiting:
	default: // FAILED, CANCELLED, EXPIRED, REVERSED: nothing is held
		rec.amount = 0
		return reverseFields(rid, o.id, 0, rec.transTime)
	}
	o.status = paytree.StatusReversed
	o.settleAt = time.Time{}
	rec.amount = returned
	return reverseFields(rid, o.id, returned, rec.transTime)
}

func (s *Sim) confirm(rt route, f paytree.Fields, rec *record, now time.Time) paytree.Fields {
	rid, tid := f[paytree.FRequestID], f[paytree.FTargetRequestID]
	rec.targetRequestID = tid
	target := s.records[reqKey{rec.key.terminal, tid}]
	if target == nil || target == rec {
		return errFields(rid, paytree.E3001, "", "target request "+tid+" not found")
	}
	if target.rt.op == paytree.OpConfirm {
		return errFields(rid, paytree.E3001, "", "target request "+tid+" is a confirm, not a pay, refund, reverse or deposit")
	}
	wantV1 := target.rt.op == paytree.OpPay && target.rt.v1
	if rt.v1 != wantV1 {
		want := "ApiPathConfirm (" + s.cfg.Paths.Confirm + ")"
		if wantV1 {
			want = "ApiPathConfirmV1 (" + s.cfg.Paths.ConfirmV1 + ")"
		}
		return errFields(rid, paytree.E1001, "", "invalid confirm path: the target "+tid+" is confirmed on "+want)
	}
	o := target.order
	if oid := f[paytree.FOrderID]; oid != "" && o != nil && o.id != oid {
		return errFields(rid, paytree.E3001, "", "orderId "+oid+" is not the order of target request "+tid)
	}
	rec.order = o
	if target.lostForever {
		rec.lostForever = true // pay class 2: every answer about it is lost
	}
	ans := okFields(rid, paytree.Fields{paytree.FTargetRequestID: tid})
	if code := target.answer[paytree.FResultCode]; code != paytree.CodeOK {
		ans[paytree.FTargetResultCode] = code
		if o != nil {
			ans[paytree.FOrderID] = o.id
			ans[paytree.FTransStatus] = o.current(now).Wire()
		}
		return ans
	}
	ans[paytree.FTargetResultCode] = paytree.CodeOK
	switch target.rt.op {
	case paytree.OpPay, paytree.OpDeposit:
		st := o.current(now)
		for k, v := range orderFields(o, st) {
			ans[k] = v
		}
		if code := declineCode(st); code != "" {
			ans[paytree.FTargetResultCode] = code
		}
	case paytree.OpRefund:
		ans[paytree.FOrderID] = o.id
		ans[paytree.FTransStatus] = o.current(now).Wire()
		ans[paytree.FRefundAmount] = strconv.FormatInt(target.amount, 10)
		ans[paytree.FRefundedTotal] = strconv.FormatInt(o.refunded, 10)
		ans[paytree.FTransTime] = target.transTime
	case paytree.OpReverse:
		ans[paytree.FOrderID] = ""
		if o != nil {
			ans[paytree.FOrderID] = o.id
		}
		ans[paytree.FTransStatus] = paytree.StatusReversed.Wire()
		ans[paytree.FAmount] = strconv.FormatInt(target.amount, 10)
		ans[paytree.FTransTime] = target.transTime
	}
	return ans
}
