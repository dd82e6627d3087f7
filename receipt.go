package wbpay

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// Receipt is what a slip (レシート) needs of a finished pay, refund, reverse
// or deposit: brand, amount, the gateway's order, when, where, and the
// masked user code. Every final Result carries one; Receipt and
// PrintReceipt read it back by transaction id at any time.
type Receipt struct {
	TransactionID string    `json:"transactionId"`
	Operation     string    `json:"operation"`           // pay, refund, reverse, deposit
	OperationJa   string    `json:"operationJa"`         // 支払, 返金, 取消, 入金
	State         fsm.State `json:"state"`               // the outcome (a resolved transaction's recorded one)
	Settled       bool      `json:"settled"`             // the operation went through (paid, refunded, reversed, deposited)
	Channel       string    `json:"channel,omitempty"`   // brand, Latin (the spec's name: PayPay, LinePay, …)
	ChannelJa     string    `json:"channelJa,omitempty"` // brand as printed (PayPay, LINE Pay, 楽天ペイ, …)
	PayType       string    `json:"payType,omitempty"`   // wire code
	Amount        int64     `json:"amount"`              // yen: paid, refunded, reversed or deposited
	OrderID       string    `json:"orderId,omitempty"`   // the gateway's order (refund, reverse: the order they undo)
	TransTime     time.Time `json:"transTime"`           // the gateway's transaction time in JST (the journal's when it gave none)
	// Store.
	MerchantID       string `json:"merchantId"`
	BranchCode       string `json:"branchCode"`
	TerminalCode     string `json:"terminalCode"`
	TerminalUniqueID string `json:"terminalUniqueId"`
	ReceiptNo        string `json:"receiptNo,omitempty"`
	UserCodeMasked   string `json:"userCodeMasked,omitempty"`
	RefundedTotal    int64  `json:"refundedTotal,omitempty"` // refund: the order's refunds so far
	// ReversibleUntil is the void deadline of a paid pay or deposit: until
	// then a reverse (取消) undoes it, later only a refund. Zero when it
	// cannot be reversed at all (not paid, refunded, already reversed) or
	// ReverseWindow is 0.
	ReversibleUntil time.Time `json:"reversibleUntil,omitzero"`
}

// Copy names the copy of a slip: the customer's (お客様控え) or the store's
// (加盟店控え).
type Copy string

// Slip copies.
const (
	CustomerCopy Copy = "customer"
	MerchantCopy Copy = "merchant"
)

// Printed is a receipt as PrintReceipt handed it out.
type Printed struct {
	Receipt *Receipt  `json:"receipt"`
	Copy    Copy      `json:"copy"`
	Count   int       `json:"count"`   // slips of this copy printed, this one included
	Reprint bool      `json:"reprint"` // not the first slip of this copy: print it marked 再発行
	At      time.Time `json:"at"`      // when this slip was printed
	First   time.Time `json:"first"`   // when the first slip of this copy was printed
}

// Receipt returns the receipt of transaction id. Errors: L0003 for an
// unknown transaction or one that is not a pay, refund, reverse or
// deposit, or not finished (a slip states an outcome); L0007 when the
// journal cannot be read.
func (e *Engine) Receipt(id string) (*Receipt, error) {
	t, err := e.journal.Get(id)
	switch {
	case errors.Is(err, journal.ErrNotFound):
		return nil, errorf(paytree.L0003, "transaction %s is not in the journal", id)
	case err != nil:
		return nil, newError(paytree.L0007, "read the transaction: "+err.Error(), err)
	}
	switch t.Op {
	case paytree.OpPay, paytree.OpRefund, paytree.OpReverse, paytree.OpDeposit:
	default:
		return nil, errorf(paytree.L0003, "transaction %s is a %s: it has no receipt", id, t.Op)
	}
	if !t.State.Terminal() {
		return nil, errorf(paytree.L0003, "transaction %s is still %s: a slip is printed once it has finished", id, t.State)
	}
	return e.receiptOf(t)
}

// PrintReceipt returns the receipt of transaction id for one slip of copy
// c, after recording durably in the journal that it is printed: the first
// slip of each copy is the original, every later one a reprint. The print
// is recorded before the slip exists, so a crash can cost an original
// (the next slip says reprint) but never make two. Errors are Receipt's,
// L0003 for another copy, L0007 when the print cannot be recorded.
func (e *Engine) PrintReceipt(id string, c Copy) (*Printed, error) {
	if c != CustomerCopy && c != MerchantCopy {
		return nil, errorf(paytree.L0003, "copy %q is neither customer nor merchant", c)
	}
	r, err := e.Receipt(id)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now().In(paytree.JST)
	p, err := e.journal.RecordPrint(id, string(c), now)
	if err != nil {
		return nil, newError(paytree.L0007, "record the print: "+err.Error(), err)
	}
	return &Printed{Receipt: r, Copy: c, Count: p.Count, Reprint: p.Count > 1, At: now, First: p.First.In(paytree.JST)}, nil
}

// receiptOf builds the receipt of snapshot t (a pay, refund, reverse or
// deposit) from the journal and the configuration.
func (e *Engine) receiptOf(t *journal.Txn) (*Receipt, error) {
	out := journal.Outcome(t)
	r := &Receipt{TransactionID: t.ID, Operation: t.Op.String(), OperationJa: operationJa(t.Op), State: out,
		Amount: t.Amount, OrderID: t.OrderID, PayType: t.PayType, ReceiptNo: t.ReceiptNo, UserCodeMasked: t.UserCodeMasked,
		MerchantID: e.cfg.MerchantID, BranchCode: e.cfg.BranchCode, TerminalCode: e.cfg.TerminalCode, TerminalUniqueID: e.cfg.TerminalUniqueID}
	switch t.Op {
	case paytree.OpPay:
		r.Settled = out == fsm.StatePaid
	case paytree.OpDeposit:
		r.Settled = out == fsm.StateDeposited
	case paytree.OpRefund:
		r.Settled = out == fsm.StateRefunded
	case paytree.OpReverse:
		r.Settled = out == fsm.StateReversed
	}
	r.TransTime = t.UpdatedAt.In(paytree.JST)
	if tt, err := paytree.ParseTime(t.Request["_transTime"]); err == nil {
		r.TransTime = tt
	}
	if v, err := strconv.ParseInt(t.Request["_refundedTotal"], 10, 64); err == nil {
		r.RefundedTotal = v
	}
	var order []*journal.Txn
	if t.OrderID != "" {
		var err error
		if order, err = e.journal.ByOrderID(t.OrderID); err != nil {
			return nil, newError(paytree.L0007, "read the order's transactions: "+err.Error(), err)
		}
	}
	charge := chargeOf(t, order)
	if r.PayType == "" && charge != nil {
		r.PayType = charge.PayType // a refund or reverse is on its order's channel
	}
	if ch, ok := paytree.ChannelFromCode(r.PayType); ok {
		r.Channel, r.ChannelJa = ch.String(), ch.JapaneseName()
	}
	if (t.Op == paytree.OpPay || t.Op == paytree.OpDeposit) && r.Settled {
		r.ReversibleUntil = e.reversibleUntil(t, order)
	}
	return r, nil
}

// chargeOf returns the pay or deposit of t's order (t itself for a pay or
// deposit), nil when the journal has none.
func chargeOf(t *journal.Txn, order []*journal.Txn) *journal.Txn {
	if t.Op == paytree.OpPay || t.Op == paytree.OpDeposit {
		return t
	}
	var found *journal.Txn
	for _, o := range order {
		if (o.Op == paytree.OpPay || o.Op == paytree.OpDeposit) && o.OrderID == t.OrderID {
			switch journal.Outcome(o) {
			case fsm.StatePaid, fsm.StateDeposited:
				return o
			}
			if found == nil {
				found = o
			}
		}
	}
	return found
}

// reversibleUntil is the void deadline of pay or deposit t, given its
// order's transactions: its creation plus ReverseWindow, as long as nothing
// of it was refunded or reversed (the gateway then only refunds); zero when
// there is none.
func (e *Engine) reversibleUntil(t *journal.Txn, order []*journal.Txn) time.Time {
	if e.cfg.ReverseWindow <= 0 {
		return time.Time{}
	}
	if s := journal.StandingOf(t, order); !s.Held || s.Refunded > 0 {
		return time.Time{}
	}
	// CreatedAt is journaled before the pay is sent, so it is no later than
	// the gateway's own clock start: the local deadline never outlasts the
	// gateway's.
	return t.CreatedAt.Add(e.cfg.ReverseWindow).In(paytree.JST)
}

// voidDeadline refuses (L0003) a reverse of an order whose pay or deposit
// in this journal is past its void deadline: the gateway would refuse it
// (E3003), so it is not sent; the message says to refund instead.
func (e *Engine) voidDeadline(t *journal.Txn) error {
	if t.Op != paytree.OpReverse || e.cfg.ReverseWindow <= 0 {
		return nil
	}
	order, err := e.journal.ByOrderID(t.OrderID)
	if err != nil {
		return newError(paytree.L0007, "read the order's transactions: "+err.Error(), err)
	}
	charge := chargeOf(t, order)
	if charge == nil {
		return nil // not paid here: the gateway decides
	}
	switch journal.Outcome(charge) {
	case fsm.StatePaid, fsm.StateDeposited:
	default:
		return nil
	}
	if s := journal.StandingOf(charge, order); !s.Held || s.Refunded > 0 {
		return nil // the gateway answers these itself; no deadline applies
	}
	deadline := charge.CreatedAt.Add(e.cfg.ReverseWindow)
	if now := e.clock.Now(); now.After(deadline) {
		return errorf(paytree.L0003, "order %s can no longer be reversed (取消): its %s of %s was reversible until %s (ReverseWindow %s); refund it instead (返金), e.g. `wbpay-engine refund --order-id %s --amount %d`; nothing was sent",
			t.OrderID, charge.Op, charge.CreatedAt.In(paytree.JST).Format("2006-01-02 15:04:05"), deadline.In(paytree.JST).Format("2006-01-02 15:04:05 JST"),
			e.cfg.ReverseWindow, t.OrderID, charge.Amount)
	}
	return nil
}

// operationJa is the operation's name on a Japanese slip.
func operationJa(op paytree.Operation) string {
	switch op {
	case paytree.OpPay:
		return "支払"
	case paytree.OpRefund:
		return "返金"
	case paytree.OpReverse:
		return "取消"
	case paytree.OpDeposit:
		return "入金"
	case paytree.OpClose:
		return "日計"
	}
	return strings.ToUpper(op.String())
}

// withReceipt sets res.Receipt from snapshot t once t has finished (a
// Result of an unfinished transaction has none), and returns res. A journal
// that cannot be read leaves it nil: the outcome matters more than its slip,
// which Receipt reads again later.
func (e *Engine) withReceipt(res *Result, t *journal.Txn) *Result {
	if res == nil || t == nil || !t.State.Terminal() {
		return res
	}
	switch t.Op {
	case paytree.OpPay, paytree.OpRefund, paytree.OpReverse, paytree.OpDeposit:
		if r, err := e.receiptOf(t); err == nil {
			res.Receipt = r
		}
	}
	return res
}
