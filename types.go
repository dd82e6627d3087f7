package wbpay

import (
	"github.com/wbpay/wbpay/paytree"
)

// Channel names a payment channel (the spec's WbCPSPayType).
type Channel = paytree.Channel

// Channels most POS code names; every channel is in package paytree.
const (
	AutoDetect = paytree.AutoDetect
	LinePay    = paytree.LinePay
	PayPay     = paytree.PayPay
	RakutenPay = paytree.RakutenPay
	DPayment   = paytree.DPayment
	AuPay      = paytree.AuPay
	MerPay     = paytree.MerPay
)

// RequestType is the kind of request an event answers (WbCPSRequestType).
type RequestType = paytree.Operation

// Request types.
const (
	RequestPay     = paytree.OpPay
	RequestRefund  = paytree.OpRefund
	RequestReverse = paytree.OpReverse
	RequestConfirm = paytree.OpConfirm
	RequestDeposit = paytree.OpDeposit
)

// PayRequest is a payment (WbCPSPayRequest). Amounts are whole yen: JPY has
// no fraction, and the spec truncates fractions anyway.
type PayRequest struct {
	PayType   Channel // AutoDetect lets the gateway pick by UserCode; never JCBAliPay
	Amount    int64   // 1 … 999,999,999,999,999
	UserCode  string  // the customer's barcode/QR content, 1–512 characters; never stored in full
	ReceiptNo string  // optional, ≤ 32
	Remark    string  // optional, ≤ 128
	// IdempotencyKey (optional, 1–64 of A–Z a–z 0–9 _ -) makes a retry safe:
	// the same key with the same request gets the transaction it started
	// back, nothing is sent again; with another request it is refused
	// (L0010). POS integrators pass their receipt number, for example.
	IdempotencyKey string
}

// RefundRequest refunds all or part of a paid order (WbCPSRefundRequest).
type RefundRequest struct {
	OrderID        string // the pay's orderId, ≤ 32
	RefundAmount   int64  // 1 … 15 digits
	RefundReason   string // optional, ≤ 256
	Remark         string // optional, ≤ 256
	IdempotencyKey string // as PayRequest's
}

// ReverseRequest cancels (取消) a pay or deposit by its orderId (WbCPSReverseRequest).
type ReverseRequest struct {
	OrderID        string // ≤ 32
	IdempotencyKey string // as PayRequest's
}

// DepositRequest charges (入金) a customer's wallet (WbCPSDepositRequest).
type DepositRequest struct {
	PayType        Channel           // never AutoDetect; only LinePay supports deposits today
	ValueType      paytree.ValueType // "" means BASIC, the only type served
	Amount         int64
	ReceiptNo      string // optional, ≤ 32
	UserCode       string // the card number, 1–32
	IdempotencyKey string // as PayRequest's
}

// Completion is the payload of a CompleteEvent: a request succeeded, or a
// pay is waiting for the customer (TransStatus WAITING).
type Completion struct {
	Request       RequestType
	TransactionID string
	OrderID       string
	TransTime     string // yyyyMMddHHmmss JST
	Amount        int64  // paid, deposited, reversed or refunded amount
	TransStatus   paytree.TransStatus
	PayType       Channel // the channel actually used (pay, deposit)
	RefundedTotal int64   // refund: the order's refunds so far
	Recovered     bool    // delivered by recovery after a restart
}

// Failure is the payload of an ErrorEvent.
type Failure struct {
	Request       RequestType
	TransactionID string
	Err           *Error
	Recovered     bool
	// Answer is set with L0009 when the gateway had answered the request
	// whose outcome could not be journaled: what it said (a PAID pay is
	// paid, whatever the journal could not record).
	Answer *Completion
}

// Event is one CompleteEvent or ErrorEvent, as collected in a Result.
type Event struct {
	Complete *Completion // set for a CompleteEvent
	Failure  *Failure    // set for an ErrorEvent
}

// Result is where a whole request sequence ended, returned by the Sync
// methods and by recovery.
type Result struct {
	TransactionID string
	Operation     RequestType
	State         State // the final state: paid, failed, reversed, refunded, deposited, escalated
	OrderID       string
	TransStatus   paytree.TransStatus
	Amount        int64
	PayType       Channel
	Events        []Event // every event of the sequence, in order
	Recovered     bool
	// Replayed: the request's IdempotencyKey had already started this
	// transaction; nothing was sent again, and Events holds none of the
	// events raised the first time (State is where it stands now).
	Replayed bool
	// Receipt is what a slip needs, set once the transaction has finished
	// (with ReversibleUntil, the void deadline of a paid pay or deposit).
	Receipt *Receipt `json:",omitempty"`
}

// Err returns the last ErrorEvent's error when the sequence did not end as
// asked (failed, reversed, escalated), else nil.
func (r *Result) Err() *Error {
	if r == nil {
		return nil
	}
	switch r.State {
	case StatePaid, StateDeposited, StateRefunded:
		return nil
	case StateReversed:
		if r.Operation == RequestReverse {
			return nil
		}
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		if f := r.Events[i].Failure; f != nil {
			return f.Err
		}
	}
	return nil
}
