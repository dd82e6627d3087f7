package wbpay

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// ReportKind is what Report computes.
type ReportKind string

// Report kinds.
const (
	// ReportInterim (中間計) reports a business day as it stands; the day
	// stays open and nothing is journaled.
	ReportInterim ReportKind = "interim"
	// ReportDaily (日計) closes a business day: its totals are journaled
	// once, in a hash-chained close entry, and every later daily report of
	// that day reads them back unchanged.
	ReportDaily ReportKind = "daily"
)

// Report is the totals of one JST business day: counts and sums per
// channel and operation of the money that moved, the net, and the day's
// transactions whose outcome is not settled. Its JSON form is the daemon's
// answer.
//
// A transaction belongs to the business day its CreatedAt falls in, except
// that one created after its day was closed belongs to the next day: a
// day's window runs from the end of the previous day's window (the
// previous close's time when that day was closed early, else midnight JST)
// to its own close's time or the next midnight, whichever is first.
type Report struct {
	Kind      ReportKind `json:"kind"`
	Day       string     `json:"day"` // YYYY-MM-DD, JST
	From      time.Time  `json:"from"`
	Until     time.Time  `json:"until"` // interim: the time it was computed (or the day's end)
	Closed    bool       `json:"closed"`
	ClosedAt  time.Time  `json:"closedAt,omitzero"`
	CloseSeq  uint64     `json:"closeSeq,omitempty"`  // the close's journal entry
	CloseHash string     `json:"closeHash,omitempty"` // its hash (the chain covers the totals)
	// Reprint: a daily report of a day closed before this call (its totals
	// read back from the close entry).
	Reprint bool `json:"reprint"`
	// LastSeq is the journal's last entry the totals cover.
	LastSeq    uint64       `json:"lastSeq"`
	Lines      []ReportLine `json:"lines"`  // per channel and operation
	Totals     []ReportLine `json:"totals"` // per operation, every channel
	Net        int64        `json:"net"`    // pays + deposits − refunds − reverses
	Unfinished []ReportOpen `json:"unfinished"`
	Escalated  []ReportOpen `json:"escalated"`
}

// ReportLine counts and sums one operation (on one channel, or on all in
// Report.Totals).
type ReportLine struct {
	Channel     string `json:"channel"`   // spec name ("" in Totals; "unknown" when not known)
	ChannelJa   string `json:"channelJa"` // as printed
	PayType     string `json:"payType"`   // wire code
	Operation   string `json:"operation"` // pay, deposit, refund, reverse
	OperationJa string `json:"operationJa"`
	Count       int64  `json:"count"`
	Amount      int64  `json:"amount"`
}

// ReportOpen is a transaction of the day whose outcome is not settled.
type ReportOpen struct {
	TransactionID string    `json:"transactionId"`
	Operation     string    `json:"operation"`
	State         fsm.State `json:"state"`
	Channel       string    `json:"channel,omitempty"`
	OrderID       string    `json:"orderId,omitempty"`
	Amount        int64     `json:"amount"`
}

// closeIDPrefix starts the id of a business day's close pseudo-transaction.
const closeIDPrefix = "close-"

// CloseID returns the transaction id of the close of business day day
// (YYYY-MM-DD): "close-YYYYMMDD".
func CloseID(day string) string { return closeIDPrefix + strings.ReplaceAll(day, "-", "") }

// Report computes the report kind of business day day ("YYYY-MM-DD" or
// "YYYYMMDD" in JST; "" for today, except that an interim report after
// today's close reports the next day, which began with it). ReportInterim never writes anything.
// ReportDaily of a day not yet closed closes it, journaling its totals in
// one hash-chained entry (nothing is sent); of a closed day it returns the
// journaled totals unchanged (Reprint). Errors: L0003 for a malformed day
// or a day that has not begun, L0004 while a sequence runs (a close waits
// for nothing), L0005 when closed, L0007 when the journal cannot be read
// or written.
func (e *Engine) Report(kind ReportKind, day string) (*Report, error) {
	if kind != ReportInterim && kind != ReportDaily {
		return nil, errorf(paytree.L0003, "report kind %q is neither interim nor daily", kind)
	}
	now := e.clock.Now().In(paytree.JST)
	start, err := parseDay(day, now)
	if err != nil {
		return nil, err
	}
	if day == "" && kind == ReportInterim {
		// Today, unless today is closed: then the business day that began
		// with its close (the next one), and so on. (A daily report without
		// a day stays on today: pressed twice, it reprints.)
		for {
			closed, err := e.closedReport(start.Format(time.DateOnly))
			if err != nil {
				return nil, err
			}
			if closed == nil || !closed.Until.Before(start.AddDate(0, 0, 1)) || closed.Until.After(now) {
				break
			}
			start = start.AddDate(0, 0, 1)
		}
	}
	if from, _, err := e.dayWindow(start, now); err != nil {
		return nil, err
	} else if from.After(now) {
		return nil, errorf(paytree.L0003, "business day %s has not begun", start.Format(time.DateOnly))
	}
	d := start.Format(time.DateOnly)
	if kind == ReportDaily {
		if rep, err := e.closedReport(d); rep != nil || err != nil {
			return rep, err
		}
		return e.closeDay(d, start)
	}
	c, err := e.dayTotals(d, start, now)
	if err != nil {
		return nil, err
	}
	rep := reportOf(c)
	rep.Kind, rep.Closed = ReportInterim, false
	if closed, err := e.closedReport(d); err != nil {
		return nil, err
	} else if closed != nil {
		rep.Closed, rep.ClosedAt, rep.CloseSeq, rep.CloseHash = true, closed.ClosedAt, closed.CloseSeq, closed.CloseHash
	}
	return rep, nil
}

// parseDay reads a business day; "" is now's.
func parseDay(day string, now time.Time) (time.Time, error) {
	if day == "" {
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, paytree.JST), nil
	}
	for _, layout := range []string{time.DateOnly, "20060102"} {
		if t, err := time.ParseInLocation(layout, day, paytree.JST); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errorf(paytree.L0003, "day %q is not YYYY-MM-DD", day)
}

// closedReport returns the report journaled by day's close, or nil when the
// day is not closed.
func (e *Engine) closedReport(day string) (*Report, error) {
	entries, err := e.journal.Entries(CloseID(day))
	switch {
	case errors.Is(err, journal.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, newError(paytree.L0007, "read the close of "+day+": "+err.Error(), err)
	}
	for _, en := range entries {
		if en.Close != nil {
			rep := reportOf(en.Close)
			rep.Kind, rep.Closed, rep.Reprint = ReportDaily, true, true
			rep.ClosedAt, rep.CloseSeq, rep.CloseHash = en.Time.In(paytree.JST), en.Seq, en.Hash
			return rep, nil
		}
	}
	return nil, newError(paytree.L0007, "the close "+CloseID(day)+" holds no totals", nil)
}

// closeDay journals day's close: the totals of its window up to now, as
// one entry of the close pseudo-transaction (see journal/doc.go). It holds
// the engine, so no request starts while the totals are taken.
func (e *Engine) closeDay(day string, start time.Time) (*Report, error) {
	m, err := fsm.New(paytree.OpClose, fsm.StateNew)
	if err != nil {
		return nil, newError(paytree.L0007, err.Error(), err)
	}
	now := e.clock.Now()
	t := &journal.Txn{ID: CloseID(day), Op: paytree.OpClose, State: fsm.StateNew, CreatedAt: now, UpdatedAt: now,
		Request: map[string]string{"_day": day}}
	r := newRunFor(e, t, m, nil, false)
	if err := e.acquire("close of "+day, r); err != nil {
		return nil, err
	}
	defer r.release()
	// Another caller may have closed the day while this one waited.
	if rep, err := e.closedReport(day); rep != nil || err != nil {
		return rep, err
	}
	c, err := e.dayTotals(day, start, now)
	if err != nil {
		return nil, err
	}
	rep := reportOf(c)
	info := journal.Entry{Kind: paytree.OpClose.String(), Note: fmt.Sprintf("日計 %s: net %d yen, %d unfinished or escalated", day, rep.Net, len(c.Open)), Close: c}
	if err := r.step(fsm.EvClose, info, func(s *journal.Txn) { s.Amount = rep.Net }); err != nil {
		return nil, err
	}
	closed, err := e.closedReport(day)
	if err != nil {
		return nil, err
	}
	closed.Reprint = false
	return closed, nil
}

// dayWindow returns the window of business day start (see Report), as far
// as now.
func (e *Engine) dayWindow(start, now time.Time) (from, until time.Time, err error) {
	from, until = start, start.AddDate(0, 0, 1)
	prev, err := e.closedReport(start.AddDate(0, 0, -1).Format(time.DateOnly))
	if err != nil {
		return from, until, err
	}
	if prev != nil && prev.Until.Before(from) {
		from = prev.Until
	}
	if own, err := e.closedReport(start.Format(time.DateOnly)); err != nil {
		return from, until, err
	} else if own != nil && own.Until.Before(until) {
		until = own.Until // closed early: what came later is the next day's
	}
	if now.Before(until) {
		until = now // exclusive: a transaction at the very instant of a close is the next day's
	}
	return from, until, nil
}

// dayTotals computes the close record of business day day up to now.
func (e *Engine) dayTotals(day string, start, now time.Time) (*journal.DayClose, error) {
	from, until, err := e.dayWindow(start, now)
	if err != nil {
		return nil, err
	}
	last, err := e.journal.LastSeq()
	if err != nil {
		return nil, newError(paytree.L0007, "read the journal: "+err.Error(), err)
	}
	c := &journal.DayClose{Day: day, From: from.In(paytree.JST), Until: until.In(paytree.JST), LastSeq: last}
	type key struct {
		payType string
		op      paytree.Operation
	}
	sums := map[key]*journal.CloseLine{}
	orders := map[string][]*journal.Txn{}
	orderOf := func(id string) ([]*journal.Txn, error) {
		if o, ok := orders[id]; ok {
			return o, nil
		}
		o, err := e.journal.ByOrderID(id)
		orders[id] = o
		return o, err
	}
	err = e.journal.ForEachTxn(journal.Query{Since: from, Until: until}, func(t *journal.Txn) error {
		switch t.Op {
		case paytree.OpPay, paytree.OpDeposit, paytree.OpRefund, paytree.OpReverse:
		default:
			return nil // a close, or anything else that moves no money
		}
		var charge *journal.Txn
		if t.Op == paytree.OpRefund || t.Op == paytree.OpReverse {
			order, err := orderOf(t.OrderID)
			if err != nil {
				return err
			}
			charge = chargeOf(t, order)
		}
		payType := t.PayType
		if payType == "" && charge != nil {
			payType = charge.PayType
		}
		switch {
		case t.State == fsm.StateEscalated || !t.State.Terminal():
			c.Open = append(c.Open, journal.CloseOpen{TxnID: t.ID, Op: t.Op, State: t.State, PayType: payType, OrderID: t.OrderID, Amount: t.Amount})
			return nil
		}
		out := journal.Outcome(t)
		if !settled(t.Op, out) {
			return nil // failed, or a pay or deposit undone: nothing moved
		}
		amount := t.Amount
		if t.Op == paytree.OpReverse && amount == 0 && t.State == fsm.StateResolved && charge != nil {
			amount = charge.Amount // a reverse resolved by a person: the gateway never said how much
		}
		k := key{payType, t.Op}
		l := sums[k]
		if l == nil {
			l = &journal.CloseLine{PayType: payType, Op: t.Op}
			sums[k] = l
		}
		l.Count++
		l.Amount += amount
		return nil
	})
	if err != nil {
		return nil, newError(paytree.L0007, "read the day's transactions: "+err.Error(), err)
	}
	for _, l := range sums {
		c.Lines = append(c.Lines, *l)
	}
	slices.SortFunc(c.Lines, func(a, b journal.CloseLine) int {
		if x := channelRank(a.PayType) - channelRank(b.PayType); x != 0 {
			return x
		}
		if a.PayType != b.PayType {
			return strings.Compare(a.PayType, b.PayType)
		}
		return opRank(a.Op) - opRank(b.Op)
	})
	return c, nil
}

// settled reports whether outcome out means op went through.
func settled(op paytree.Operation, out fsm.State) bool {
	switch op {
	case paytree.OpPay:
		return out == fsm.StatePaid
	case paytree.OpDeposit:
		return out == fsm.StateDeposited
	case paytree.OpRefund:
		return out == fsm.StateRefunded
	case paytree.OpReverse:
		return out == fsm.StateReversed
	}
	return false
}

// channelRank orders channels as the spec lists them, unknown ones last.
func channelRank(code string) int {
	if ch, ok := paytree.ChannelFromCode(code); ok {
		return int(ch)
	}
	return 1 << 20
}

// reportOps are the operations of a report, in its order.
var reportOps = []paytree.Operation{paytree.OpPay, paytree.OpDeposit, paytree.OpRefund, paytree.OpReverse}

func opRank(op paytree.Operation) int { return slices.Index(reportOps, op) }

// reportOf renders a close record as a Report (kind, close fields unset).
func reportOf(c *journal.DayClose) *Report {
	rep := &Report{Day: c.Day, From: c.From.In(paytree.JST), Until: c.Until.In(paytree.JST), LastSeq: c.LastSeq,
		Lines: []ReportLine{}, Totals: []ReportLine{}, Unfinished: []ReportOpen{}, Escalated: []ReportOpen{}}
	totals := map[paytree.Operation]*ReportLine{}
	for _, op := range reportOps {
		totals[op] = &ReportLine{Operation: op.String(), OperationJa: operationJa(op)}
	}
	for _, l := range c.Lines {
		rl := ReportLine{PayType: l.PayType, Operation: l.Op.String(), OperationJa: operationJa(l.Op), Count: l.Count, Amount: l.Amount}
		rl.Channel, rl.ChannelJa = channelNames(l.PayType)
		rep.Lines = append(rep.Lines, rl)
		if tl := totals[l.Op]; tl != nil {
			tl.Count += l.Count
			tl.Amount += l.Amount
		}
		switch l.Op {
		case paytree.OpPay, paytree.OpDeposit:
			rep.Net += l.Amount
		case paytree.OpRefund, paytree.OpReverse:
			rep.Net -= l.Amount
		}
	}
	for _, op := range reportOps {
		rep.Totals = append(rep.Totals, *totals[op])
	}
	for _, o := range c.Open {
		ro := ReportOpen{TransactionID: o.TxnID, Operation: o.Op.String(), State: o.State, OrderID: o.OrderID, Amount: o.Amount}
		ro.Channel, _ = channelNames(o.PayType)
		if o.PayType == "" {
			ro.Channel = ""
		}
		if o.State == fsm.StateEscalated {
			rep.Escalated = append(rep.Escalated, ro)
		} else {
			rep.Unfinished = append(rep.Unfinished, ro)
		}
	}
	return rep
}

// channelNames returns the Latin and Japanese names of wire code code;
// "unknown" / "不明" when it names no channel.
func channelNames(code string) (string, string) {
	if ch, ok := paytree.ChannelFromCode(code); ok {
		return ch.String(), ch.JapaneseName()
	}
	return "unknown", "不明"
}
