package sim

import (
	"time"

	"github.com/wbpay/wbpay/paytree"
)

// Ledger is a snapshot of what the simulated gateway holds: every order, and
// every recorded request in arrival order. It is also served as JSON by
// GET /_sim/ledger.
type Ledger struct {
	Orders   []Order   `json:"orders"`
	Requests []Request `json:"requests"`
}

// Order is one pay or deposit that the gateway accepted. TransStatus is the
// current status, approval timers and PROCESSING settle evaluated against
// the clock when the snapshot was taken.
type Order struct {
	OrderID       string    `json:"orderId"`
	RequestID     string    `json:"requestId"`
	Operation     string    `json:"operation"` // pay | deposit
	PayType       string    `json:"payType"`
	Amount        int64     `json:"amount"`
	TransStatus   int       `json:"transStatus"`
	RefundedTotal int64     `json:"refundedTotal"`
	CreatedAt     time.Time `json:"createdAt"`
}

// Request is one recorded request key (terminalUniqueId, requestId): the
// answer it got (ResultCode, for a confirm the confirm's own code) and how
// many times it was received (the first time plus identical resends).
// Answers that mean "not processed" (E1002, E9002, 500-before, unparseable)
// and E3005 refusals are not recorded. Amount is the requested amount for a
// pay, deposit or refund and the returned amount for a reverse.
type Request struct {
	RequestID       string `json:"requestId"`
	Operation       string `json:"operation"`
	ResultCode      string `json:"resultCode"`
	TargetRequestID string `json:"targetRequestId,omitempty"`
	OrderID         string `json:"orderId,omitempty"`
	Amount          int64  `json:"amount,omitempty"`
	Count           int    `json:"count"` // times received
}

// OrderByRequestID returns the order created by the pay or deposit whose
// requestId is id.
func (l Ledger) OrderByRequestID(id string) (Order, bool) {
	for _, o := range l.Orders {
		if o.RequestID == id {
			return o, true
		}
	}
	return Order{}, false
}

// RequestByID returns the recorded request whose requestId is id.
func (l Ledger) RequestByID(id string) (Request, bool) {
	for _, r := range l.Requests {
		if r.RequestID == id {
			return r, true
		}
	}
	return Request{}, false
}

// MoneyHeld returns what the channel holds for o: amount − refundedTotal
// when its status is PAID, PARTIALLY_REFUNDED or DEPOSITED, else 0.
func (o Order) MoneyHeld() int64 {
	if paytree.TransStatus(o.TransStatus).MoneyHeld() {
		return o.Amount - o.RefundedTotal
	}
	return 0
}

// MoneyHeld returns the sum of MoneyHeld over every order of l.
func (l Ledger) MoneyHeld() int64 {
	var n int64
	for _, o := range l.Orders {
		n += o.MoneyHeld()
	}
	return n
}
