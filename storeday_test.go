package wbpay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// line returns the report line of channel and op (zero when absent).
func line(rep *wbpay.Report, channel, op string) wbpay.ReportLine {
	for _, l := range rep.Lines {
		if l.Channel == channel && l.Operation == op {
			return l
		}
	}
	return wbpay.ReportLine{}
}

func total(rep *wbpay.Report, op string) wbpay.ReportLine {
	for _, l := range rep.Totals {
		if l.Operation == op {
			return l
		}
	}
	return wbpay.ReportLine{}
}

// TestDayTotals (issue 14.2): interim and daily totals against a history
// with every operation and outcome — paid, failed, refunded, reversed,
// deposited, a pay undone by the engine, an escalated pay and refund, a
// resolved refund, and a pay finished by recovery after a restart; the daily report closes the day in a hash-chained entry, later
// activity goes to the next business day, and the closed day reprints
// identically.
func TestDayTotals(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	ctx := context.Background()
	pay := func(ch wbpay.Channel, amount int64, code string) *wbpay.Result {
		t.Helper()
		res, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: ch, Amount: amount, UserCode: code})
		require.NoError(t, err)
		return res
	}
	a := pay(wbpay.PayPay, 1000, classCode(0))
	b := pay(wbpay.LinePay, 2000, classCode(0))
	failed := pay(wbpay.PayPay, 5555, classCode(3))
	require.Equal(t, fsm.StateFailed, failed.State)
	ref, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: a.OrderID, RefundAmount: 300})
	require.NoError(t, err)
	require.Equal(t, fsm.StateRefunded, ref.State)
	rev, err := h.eng.ReverseSync(ctx, &wbpay.ReverseRequest{OrderID: b.OrderID})
	require.NoError(t, err)
	require.Equal(t, fsm.StateReversed, rev.State)
	dep, err := h.eng.DepositSync(ctx, &wbpay.DepositRequest{PayType: wbpay.LinePay, Amount: 5000, UserCode: "3600000000000001"})
	require.NoError(t, err)
	require.Equal(t, fsm.StateDeposited, dep.State)

	// An escalated refund (every answer lost) stays open; another one is
	// resolved by a person as refunded and counts.
	c := pay(wbpay.PayPay, 700, classCode(0))
	e := pay(wbpay.PayPay, 400, classCode(0))
	h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Probability: 1}})
	escalated, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: c.OrderID, RefundAmount: 200})
	require.NoError(t, err)
	require.Equal(t, fsm.StateEscalated, escalated.State)
	toResolve, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: e.OrderID, RefundAmount: 100})
	require.NoError(t, err)
	require.Equal(t, fsm.StateEscalated, toResolve.State)
	escalatedPay := pay(wbpay.PayPay, 3333, classCode(0)) // confirm and reverse unanswered too
	require.Equal(t, fsm.StateEscalated, escalatedPay.State)
	h.sim.SetFaults(nil)
	_, err = h.eng.Resolve(toResolve.TransactionID, fsm.StateRefunded, "tanaka", "CPS: refunded")
	require.NoError(t, err)

	// A pay the channel never settled is undone by the engine: nothing moved.
	h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultProcessing, Op: paytree.OpPay, Count: 1, Settle: time.Hour}})
	undone := pay(wbpay.PayPay, 4444, classCode(0))
	require.Equal(t, fsm.StateReversed, undone.State)
	h.sim.SetFaults(nil)

	// A pay whose answer cannot be journaled stays sending (unfinished)
	// until the next Open recovers it as paid.
	commits := 0
	restore := crashpoint.Set(func(name string) error {
		if strings.HasSuffix(name, "/journal-before") { // the driver's point before every journal commit
			if commits++; commits >= 2 {
				return errors.New("disk full (injected)")
			}
		}
		return nil
	})
	f, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 600, UserCode: classCode(0)})
	restore()
	require.NoError(t, err)
	require.Equal(t, fsm.StateSending, h.txn(f.TransactionID).State)

	interim, err := h.eng.Report(wbpay.ReportInterim, "")
	require.NoError(t, err)
	assert.Equal(t, "2026-11-25", interim.Day, "18:00 JST on the harness clock")
	assert.False(t, interim.Closed)
	require.Len(t, interim.Unfinished, 1, "the pay the journal could not finish")
	assert.Equal(t, f.TransactionID, interim.Unfinished[0].TransactionID)
	require.Len(t, interim.Escalated, 2)
	assert.Equal(t, escalated.TransactionID, interim.Escalated[0].TransactionID)
	assert.Equal(t, escalatedPay.TransactionID, interim.Escalated[1].TransactionID)
	assert.EqualValues(t, 3333, interim.Escalated[1].Amount)
	assert.EqualValues(t, 3, line(interim, "PayPay", "pay").Count, "a, c, e (the failed pay moved nothing)")
	assert.EqualValues(t, 2100, line(interim, "PayPay", "pay").Amount)

	require.NoError(t, h.eng.Close())
	h.open(0)
	require.NoError(t, h.eng.WaitRecovered(ctx))
	require.Eventually(t, func() bool { return h.txn(f.TransactionID).State == fsm.StatePaid }, 20*time.Second, 5*time.Millisecond)
	assert.True(t, h.txn(f.TransactionID).Recovered)

	daily, err := h.eng.Report(wbpay.ReportDaily, "")
	require.NoError(t, err)
	assert.True(t, daily.Closed)
	assert.False(t, daily.Reprint, "this call closed the day")
	for _, tc := range []struct {
		channel, op  string
		count, yenAt int64
	}{
		{"PayPay", "pay", 4, 2700}, // a 1000, c 700, e 400, f 600 (recovered)
		{"LinePay", "pay", 1, 2000},
		{"LinePay", "deposit", 1, 5000},
		{"PayPay", "refund", 2, 400}, // 300, and 100 resolved; the escalated 200 is not money known to have moved
		{"LinePay", "reverse", 1, 2000},
	} {
		l := line(daily, tc.channel, tc.op)
		assert.Equal(t, tc.count, l.Count, "%s %s count", tc.channel, tc.op)
		assert.Equal(t, tc.yenAt, l.Amount, "%s %s amount", tc.channel, tc.op)
	}
	assert.Len(t, daily.Lines, 5, "no other line: %+v", daily.Lines)
	assert.Equal(t, "LINE Pay", line(daily, "LinePay", "pay").ChannelJa)
	assert.EqualValues(t, 4700, total(daily, "pay").Amount)
	assert.EqualValues(t, 2400, total(daily, "refund").Amount+total(daily, "reverse").Amount)
	assert.EqualValues(t, 2700+2000+5000-400-2000, daily.Net)
	assert.Empty(t, daily.Unfinished, "recovery finished the pay")
	require.Len(t, daily.Escalated, 2, "the refund and the pay still escalated")
	assert.EqualValues(t, 200, daily.Escalated[0].Amount)
	assert.Equal(t, "refund", daily.Escalated[0].Operation)
	assert.Equal(t, "PayPay", daily.Escalated[0].Channel, "on its order's channel")

	// The close is one hash-chained entry of its own pseudo-transaction.
	entries, err := h.eng.Audit().Entries(wbpay.CloseID("2026-11-25"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, fsm.EvClose, entries[0].Event)
	assert.Equal(t, entries[0].Hash, daily.CloseHash)
	_, err = h.eng.Audit().Verify()
	require.NoError(t, err)

	// Later activity the same calendar day goes to the next business day;
	// the closed day reprints identically, even after a restart.
	h.clock.Advance(time.Minute)
	pay(wbpay.PayPay, 999, classCode(0))
	_, err = h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: a.OrderID, RefundAmount: 100})
	require.NoError(t, err)
	again, err := h.eng.Report(wbpay.ReportDaily, "2026-11-25")
	require.NoError(t, err)
	assert.True(t, again.Reprint)
	again.Reprint = false
	assert.Equal(t, mustJSON(t, daily), mustJSON(t, again), "a closed day never changes")
	pressedTwice, err := h.eng.Report(wbpay.ReportDaily, "")
	require.NoError(t, err)
	assert.True(t, pressedTwice.Reprint, "daily without a date stays on today: a reprint, not a close of the next day")
	assert.Equal(t, "2026-11-25", pressedTwice.Day)
	require.NoError(t, h.eng.Close())
	h.open(0)
	again, err = h.eng.Report(wbpay.ReportDaily, "20261125")
	require.NoError(t, err)
	again.Reprint = false
	assert.Equal(t, mustJSON(t, daily), mustJSON(t, again), "nor after a restart")

	next, err := h.eng.Report(wbpay.ReportInterim, "")
	require.NoError(t, err)
	assert.Equal(t, "2026-11-26", next.Day, "after the close, the current business day is the next one")
	assert.True(t, next.From.Equal(daily.Until), "it began with the close")
	assert.EqualValues(t, 1, line(next, "PayPay", "pay").Count)
	assert.EqualValues(t, 999, line(next, "PayPay", "pay").Amount)
	assert.EqualValues(t, 100, line(next, "PayPay", "refund").Amount)
	entries, err = h.eng.Audit().Entries(wbpay.CloseID("2026-11-25"))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "a day is closed once")

	// Refusals: a malformed day, a day that has not begun.
	_, err = h.eng.Report(wbpay.ReportDaily, "2026-13-01")
	requireCode(t, err, paytree.L0003)
	_, err = h.eng.Report(wbpay.ReportDaily, "2026-11-28")
	requireCode(t, err, paytree.L0003)
	_, err = h.eng.Report("weekly", "")
	requireCode(t, err, paytree.L0003)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestVoidDeadline (issue 14.3): a paid pay states until when it can be
// reversed (ReverseWindow after it was journaled); a reverse at the
// deadline is sent and succeeds, one a second past it is refused before
// sending with L0003 naming the order and saying to refund.
func TestVoidDeadline(t *testing.T) {
	h := newHarness(t, harnessOpt{manualClock: true})
	ctx := context.Background()
	early, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 800, UserCode: classCode(0)})
	require.NoError(t, err)
	require.NotNil(t, early.Receipt)
	created := h.txn(early.TransactionID).CreatedAt
	assert.True(t, early.Receipt.ReversibleUntil.Equal(created.Add(24*time.Hour)), "deadline %v", early.Receipt.ReversibleUntil)

	h.clock.Advance(time.Second)
	late, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 900, UserCode: classCode(0)})
	require.NoError(t, err)

	// One second past early's deadline, exactly at late's.
	h.clock.Advance(24 * time.Hour)
	sent := len(h.sim.Ledger().Requests)
	_, err = h.eng.ReverseSync(ctx, &wbpay.ReverseRequest{OrderID: early.OrderID})
	we := requireCode(t, err, paytree.L0003)
	assert.Contains(t, we.Message, early.OrderID)
	assert.Contains(t, we.Message, "refund")
	assert.Len(t, h.sim.Ledger().Requests, sent, "nothing was sent")
	rec, err := h.eng.Receipt(early.TransactionID)
	require.NoError(t, err)
	assert.False(t, rec.ReversibleUntil.IsZero(), "the deadline stays on the receipt")

	res, err := h.eng.ReverseSync(ctx, &wbpay.ReverseRequest{OrderID: late.OrderID})
	require.NoError(t, err)
	assert.Equal(t, fsm.StateReversed, res.State, "at the deadline the reverse is still sent: %v", res.Err())
	require.NotNil(t, res.Receipt)
	assert.EqualValues(t, 900, res.Receipt.Amount)
	assert.Equal(t, "PayPay", res.Receipt.Channel, "a reverse is on its order's channel")
	rec, err = h.eng.Receipt(late.TransactionID)
	require.NoError(t, err)
	assert.True(t, rec.ReversibleUntil.IsZero(), "a reversed pay has no deadline")

	// The refund the message recommends goes through.
	ref, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: early.OrderID, RefundAmount: 800})
	require.NoError(t, err)
	assert.Equal(t, fsm.StateRefunded, ref.State)
}

// TestReceipt (issue 14.1): every final result carries its receipt, and
// PrintReceipt records each slip durably, so that every slip after the
// first of a copy is a reprint, also after a restart.
func TestReceipt(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	ctx := context.Background()
	paid, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.RakutenPay, Amount: 1234, UserCode: classCode(0), ReceiptNo: "R-77"})
	require.NoError(t, err)
	r := paid.Receipt
	require.NotNil(t, r)
	assert.Equal(t, "RakutenPay", r.Channel)
	assert.Equal(t, "楽天ペイ", r.ChannelJa)
	assert.Equal(t, "支払", r.OperationJa)
	assert.EqualValues(t, 1234, r.Amount)
	assert.Equal(t, paid.OrderID, r.OrderID)
	assert.Equal(t, "R-77", r.ReceiptNo)
	assert.NotContains(t, r.UserCodeMasked, classCode(0), "masked")
	assert.NotEmpty(t, r.UserCodeMasked)
	assert.Equal(t, "123456789012", r.MerchantID)
	_, off := r.TransTime.Zone()
	assert.Equal(t, 9*3600, off, "JST")
	assert.True(t, r.Settled)

	ref, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 234})
	require.NoError(t, err)
	require.NotNil(t, ref.Receipt)
	assert.EqualValues(t, 234, ref.Receipt.RefundedTotal)
	assert.Equal(t, "楽天ペイ", ref.Receipt.ChannelJa)
	rec, err := h.eng.Receipt(paid.TransactionID)
	require.NoError(t, err)
	assert.True(t, rec.ReversibleUntil.IsZero(), "a partly refunded pay can only be refunded")

	for i, want := range []struct {
		copy    wbpay.Copy
		reprint bool
		count   int
	}{{wbpay.CustomerCopy, false, 1}, {wbpay.CustomerCopy, true, 2}, {wbpay.MerchantCopy, false, 1}} {
		p, err := h.eng.PrintReceipt(paid.TransactionID, want.copy)
		require.NoError(t, err)
		assert.Equal(t, want.reprint, p.Reprint, "print %d", i)
		assert.Equal(t, want.count, p.Count, "print %d", i)
	}
	require.NoError(t, h.eng.Close())
	h.open(0)
	p, err := h.eng.PrintReceipt(paid.TransactionID, wbpay.MerchantCopy)
	require.NoError(t, err)
	assert.True(t, p.Reprint, "the count survives a restart")
	assert.Equal(t, 2, p.Count)

	_, err = h.eng.PrintReceipt(paid.TransactionID, "office")
	requireCode(t, err, paytree.L0003)
	_, err = h.eng.Receipt("0000000000000000000000000000dead")
	requireCode(t, err, paytree.L0003)
}

// TestVoidDeadlineOff: with ReverseWindow = 0 the engine states no deadline
// and sends the reverse; the gateway decides (E3003 past its own window).
func TestVoidDeadlineOff(t *testing.T) {
	h := newHarness(t, harnessOpt{manualClock: true, conf: map[string]string{"ReverseWindow": "0"}})
	ctx := context.Background()
	paid, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 800, UserCode: classCode(0)})
	require.NoError(t, err)
	require.NotNil(t, paid.Receipt)
	assert.True(t, paid.Receipt.ReversibleUntil.IsZero(), "no local deadline")
	h.clock.Advance(25 * time.Hour)
	sent := len(h.sim.Ledger().Requests)
	res, err := h.eng.ReverseSync(ctx, &wbpay.ReverseRequest{OrderID: paid.OrderID})
	require.NoError(t, err)
	assert.Equal(t, fsm.StateFailed, res.State)
	require.NotNil(t, res.Err())
	assert.Equal(t, paytree.E3003, res.Err().Code, "the gateway refused it")
	assert.Greater(t, len(h.sim.Ledger().Requests), sent, "it was sent")
}
