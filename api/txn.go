package api

import (
	"strconv"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// Transaction is the transaction object of local-api.md section 3. Fields that
// are not known (yet) are null, never omitted.
type Transaction struct {
	ID             string       `json:"id"`
	Operation      string       `json:"operation"`
	State          string       `json:"state"`
	TransStatus    *string      `json:"transStatus"`
	OrderID        *string      `json:"orderId"`
	Amount         int64        `json:"amount"`
	RefundAmount   *int64       `json:"refundAmount"`
	RefundedTotal  *int64       `json:"refundedTotal"`
	PayType        *string      `json:"payType"`
	ReceiptNo      *string      `json:"receiptNo"`
	TransTime      *string      `json:"transTime"`
	CreatedAt      string       `json:"createdAt"`
	UpdatedAt      string       `json:"updatedAt"`
	Recovered      bool         `json:"recovered"`
	NeedsPerson    bool         `json:"needsPerson"`
	VoidUntil      *string      `json:"voidUntil"`
	Error          *ErrorObject `json:"error"`
	IdempotencyKey *string      `json:"idempotencyKey"`
	UserCodeMasked *string      `json:"userCodeMasked"`
	// Receipt is what a slip needs (brand, store, JST time, …) once the
	// transaction is finished; null before.
	Receipt *wbpay.Receipt `json:"receipt"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// rfc3339 formats t in JST; "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(paytree.JST).Format(time.RFC3339Nano)
}

// wireTime turns the gateway's yyyyMMddHHmmss (JST) into RFC 3339.
func wireTime(s string) *string {
	if s == "" {
		return nil
	}
	t, err := paytree.ParseTime(s)
	if err != nil {
		return nil
	}
	return strPtr(t.Format(time.RFC3339))
}

func statusPtr(s paytree.TransStatus) *string {
	if !s.Valid() {
		return nil
	}
	return strPtr(s.String())
}

// succeeded reports whether t ended as asked (its last error is history).
func succeeded(t *journal.Txn) bool {
	switch t.State {
	case fsm.StatePaid, fsm.StateDeposited, fsm.StateRefunded:
		return true
	case fsm.StateReversed:
		return t.Op == paytree.OpReverse
	}
	return false
}

// errorFromInfo is a journaled error as an error object.
func errorFromInfo(i *journal.ErrorInfo) *ErrorObject {
	if i == nil {
		return nil
	}
	return &ErrorObject{Type: i.Type, Code: i.Code, SubCode: i.SubCode, Message: i.Message, Action: i.Action}
}

func errorFromEngine(e *wbpay.Error) *ErrorObject {
	if e == nil {
		return nil
	}
	return &ErrorObject{Type: int(e.Type), Code: e.Code, SubCode: e.SubCode, Message: e.Message, Action: e.Action.String()}
}

// toTxn is the transaction object of a journal snapshot.
func toTxn(t *journal.Txn) Transaction {
	b := Transaction{
		ID: t.ID, Operation: t.Op.String(), State: string(t.State),
		TransStatus: statusPtr(paytree.TransStatus(t.TransStatus)), OrderID: strPtr(t.OrderID), Amount: t.Amount,
		PayType: strPtr(t.PayType), ReceiptNo: strPtr(t.ReceiptNo), TransTime: wireTime(t.Request["_transTime"]),
		CreatedAt: rfc3339(t.CreatedAt), UpdatedAt: rfc3339(t.UpdatedAt), Recovered: t.Recovered,
		NeedsPerson: t.State == fsm.StateEscalated, UserCodeMasked: strPtr(t.UserCodeMasked),
		IdempotencyKey: strPtr(txnKey(t)),
	}
	if t.Op == paytree.OpRefund {
		a := t.Amount
		b.RefundAmount = &a
	}
	if v, err := strconv.ParseInt(t.Request["_refundedTotal"], 10, 64); err == nil {
		b.RefundedTotal = &v
	}
	if !succeeded(t) {
		b.Error = errorFromInfo(t.LastError)
	}
	return b
}

// voidUntil is the void deadline (取消期限) of a paid pay or deposit t:
// its creation plus ReverseWindow, while nothing of it was refunded or
// reversed (the engine's rule, as on its receipts); nil when there is none
// or eng is nil.
func voidUntil(eng *wbpay.Engine, t *journal.Txn) *string {
	if eng == nil || (t.State != fsm.StatePaid && t.State != fsm.StateDeposited) || t.OrderID == "" {
		return nil
	}
	w := eng.Config().ReverseWindow
	if w <= 0 {
		return nil
	}
	order, err := eng.Audit().ByOrderID(t.OrderID)
	if err != nil {
		return nil
	}
	if st := journal.StandingOf(t, order); !st.Held || st.Refunded > 0 {
		return nil
	}
	return strPtr(t.CreatedAt.Add(w).In(paytree.JST).Format(time.RFC3339))
}

// txnOf is toTxn with the void deadline and, once finished, the receipt.
func txnOf(eng *wbpay.Engine, t *journal.Txn) Transaction {
	b := txnNoReceipt(eng, t)
	if t.State.Terminal() {
		b.Receipt, _ = eng.Receipt(t.ID) // nil when it has none (a day's close)
	}
	return b
}

// txnNoReceipt is txnOf without the receipt (events but the final one:
// the receipt's reads stay off the path of every progress event).
func txnNoReceipt(eng *wbpay.Engine, t *journal.Txn) Transaction {
	b := toTxn(t)
	b.VoidUntil = voidUntil(eng, t)
	return b
}

// overlay sets what a stream event says about its transaction over the
// current snapshot, so a replayed event shows the transaction as it was
// when the event was raised.
func overlay(b *Transaction, ev wbpay.StreamEvent) {
	en := ev.Entry
	if en.To != "" {
		b.State = string(en.To)
		b.NeedsPerson = en.To == fsm.StateEscalated
		if en.To != fsm.StatePaid && en.To != fsm.StateDeposited {
			b.VoidUntil = nil
		}
	}
	if !en.Time.IsZero() {
		b.UpdatedAt = rfc3339(en.Time)
	}
	if c := ev.Complete; c != nil {
		b.TransStatus = statusPtr(c.TransStatus)
		if c.OrderID != "" {
			b.OrderID = strPtr(c.OrderID)
		}
		if c.Request == paytree.OpRefund {
			a := c.Amount
			b.RefundAmount = &a
			if c.RefundedTotal > 0 {
				rt := c.RefundedTotal
				b.RefundedTotal = &rt
			}
		} else if c.Amount > 0 {
			b.Amount = c.Amount
		}
		if code := c.PayType.Code(); code != "" {
			b.PayType = strPtr(code)
		}
		if tt := wireTime(c.TransTime); tt != nil {
			b.TransTime = tt
		}
		b.Error = nil
	}
	if f := ev.Failure; f != nil {
		b.Error = errorFromEngine(f.Err)
	}
}
