//go:build unix

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api/client"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// today is the JST business day of now.
func today() string { return time.Now().In(paytree.JST).Format(time.DateOnly) }

// escalatedRefund refunds amount of order with every answer of the
// simulator lost, until the engine gives up and escalates the refund; it
// returns the refund's transaction object.
func escalatedRefund(t *testing.T, e *env, d *daemon, order string, amount int64) answer {
	t.Helper()
	e.gw.Sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Probability: 1}})
	defer e.gw.Sim.SetFaults(nil)
	a := d.request("POST", "/v1/refund?wait=120", map[string]any{"orderId": order, "refundAmount": amount})
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	require.Equal(t, "escalated", a.str("state"), "%s", a.raw)
	require.Equal(t, true, a.body["needsPerson"])
	return a
}

// decode decodes an answer's raw JSON into v.
func decode(t *testing.T, a answer, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(a.raw, v), "%s", a.raw)
}

// openEngine opens the stopped daemon's home in this process.
func (e *env) openEngine() *wbpay.Engine {
	e.t.Helper()
	eng, err := wbpay.Open(context.Background(), wbpay.WithHome(e.home), wbpay.WithRootCAs(e.gw.Pool))
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = eng.Close() })
	require.NoError(e.t, eng.WaitRecovered(context.Background()))
	return eng
}

// TestStoreDayRoutes: the reports, receipts and resolve of the daemon
// answer what the engine itself answers on the same journal. After a pay,
// a refund, a second pay, a refund escalated by lost answers, its resolve
// (which sends nothing and lifts L0012) and a refund after it, the interim
// totals, a daily close and its reprint equal Engine.Report's on the home
// once the daemon stopped; the receipt equals Engine.Receipt's, a second
// print is a reprint, and the prints are in the journal.
func TestStoreDayRoutes(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()

	p1 := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(0), "receiptNo": "R-1"})
	require.Equal(t, "paid", p1.str("state"), "%s", p1.raw)
	r1 := d.request("POST", "/v1/refund?wait=30", map[string]any{"orderId": p1.str("orderId"), "refundAmount": 300})
	require.Equal(t, "refunded", r1.str("state"), "%s", r1.raw)
	p2 := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 500, "userCode": classCode(0)})
	require.Equal(t, "paid", p2.str("state"), "%s", p2.raw)

	// A refund escalated: listed in the interim report, blocking its order.
	esc := escalatedRefund(t, e, d, p2.str("orderId"), 200)
	escID := esc.str("id")
	var mid wbpay.Report
	decode(t, d.request("GET", "/v1/reports/interim", nil), &mid)
	require.Len(t, mid.Escalated, 1)
	assert.Equal(t, escID, mid.Escalated[0].TransactionID)
	assert.EqualValues(t, 200, mid.Escalated[0].Amount)
	blocked := d.request("POST", "/v1/refund", map[string]any{"orderId": p2.str("orderId"), "refundAmount": 100})
	assert.Equal(t, http.StatusConflict, blocked.status, "%s", blocked.raw)
	assert.Equal(t, paytree.L0012, blocked.errCode())

	// Resolve: refusals first, then the resolution, which sends nothing.
	for _, c := range []struct {
		name   string
		id     string
		body   any
		status int
		field  string
	}{
		{"unknown field", escID, map[string]any{"outcome": "refunded", "operator": "sato", "note": "n", "x": 1}, 400, "x"},
		{"no note", escID, map[string]any{"outcome": "refunded", "operator": "sato"}, 400, "note"},
		{"blank operator", escID, map[string]any{"outcome": "refunded", "operator": "  ", "note": "n"}, 400, "operator"},
		{"not an outcome", escID, map[string]any{"outcome": "lost", "operator": "sato", "note": "n"}, 400, "outcome"},
		{"outcome unfit for a refund", escID, map[string]any{"outcome": "paid", "operator": "sato", "note": "n"}, 400, "outcome"},
		{"not escalated", p1.str("id"), map[string]any{"outcome": "paid", "operator": "sato", "note": "n"}, 400, "id"},
		{"unknown id", strings.Repeat("0", 32), map[string]any{"outcome": "paid", "operator": "sato", "note": "n"}, 404, "id"},
		{"not JSON", escID, "outcome=refunded", 400, ""},
	} {
		a := d.request("POST", "/v1/transactions/"+c.id+"/resolve", c.body)
		assert.Equal(t, c.status, a.status, "%s: %s", c.name, a.raw)
		assert.Equal(t, paytree.L0003, a.errCode(), c.name)
		assert.Equal(t, c.field, a.errField(), c.name)
	}
	sent := len(e.gw.Sim.Ledger().Requests)
	res := d.request("POST", "/v1/transactions/"+escID+"/resolve", map[string]any{"outcome": "refunded", "operator": "sato", "note": "CPS ticket 7: refunded"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, "resolved", res.str("state"))
	assert.Equal(t, escID, res.str("id"))
	assert.Equal(t, false, res.body["needsPerson"])
	assert.Equal(t, "/v1/transactions/"+escID, res.header.Get("Location"))
	assert.Len(t, e.gw.Sim.Ledger().Requests, sent, "resolve sends nothing")
	again := d.request("POST", "/v1/transactions/"+escID+"/resolve", map[string]any{"outcome": "refunded", "operator": "sato", "note": "twice"})
	assert.Equal(t, http.StatusBadRequest, again.status, "a resolved transaction is not escalated: %s", again.raw)
	assert.Equal(t, "id", again.errField())
	r3 := d.request("POST", "/v1/refund?wait=30", map[string]any{"orderId": p2.str("orderId"), "refundAmount": 100})
	require.Equal(t, "refunded", r3.str("state"), "L0012 is lifted: %s", r3.raw)

	// Receipts: refusals, the data, two prints of a copy, another copy.
	id := p1.str("id")
	assert.Equal(t, http.StatusNotFound, d.request("GET", "/v1/transactions/"+strings.Repeat("0", 32)+"/receipt", nil).status)
	assert.Equal(t, http.StatusNotFound, d.request("POST", "/v1/transactions/"+strings.Repeat("0", 32)+"/receipt", nil).status)
	for _, c := range []struct{ query, field string }{{"copy=shop", "copy"}, {"width=40", "width"}, {"width=x", "width"}, {"size=32", "size"}} {
		a := d.request("POST", "/v1/transactions/"+id+"/receipt?"+c.query, nil)
		assert.Equal(t, http.StatusBadRequest, a.status, "%s: %s", c.query, a.raw)
		assert.Equal(t, c.field, a.errField(), c.query)
	}
	var rc wbpay.Receipt
	rcA := d.request("GET", "/v1/transactions/"+id+"/receipt", nil)
	require.Equal(t, http.StatusOK, rcA.status, "%s", rcA.raw)
	decode(t, rcA, &rc)
	var first, second, merchant client.Slip
	decode(t, d.request("POST", "/v1/transactions/"+id+"/receipt", nil), &first)
	decode(t, d.request("POST", "/v1/transactions/"+id+"/receipt?copy=customer&width=32", nil), &second)
	decode(t, d.request("POST", "/v1/transactions/"+id+"/receipt?copy=merchant&width=42", nil), &merchant)
	assert.Equal(t, []any{1, false, 2, true, 1, false}, []any{first.Count, first.Reprint, second.Count, second.Reprint, merchant.Count, merchant.Reprint})
	assert.NotContains(t, first.Text, "再発行")
	assert.Contains(t, second.Text, "再発行", "the second slip of a copy is marked a reprint")
	assert.Contains(t, first.Text, "お客様控え")
	assert.Contains(t, merchant.Text, "加盟店控え")
	assert.Equal(t, 32, first.Width)
	assert.Equal(t, 42, merchant.Width)
	assert.Contains(t, first.Text, p1.str("orderId"))
	assert.NotContains(t, first.Text+string(rcA.raw), classCode(0), "no full userCode")
	assert.Equal(t, first.First, second.First, "a reprint names the first print's time")

	// Reports: refusals, interim, the close and its reprint.
	for _, q := range []string{"date=2026-13-01", "date=20261201", "date=2099-01-01", "day=" + today()} {
		a := d.request("GET", "/v1/reports/interim?"+q, nil)
		assert.Equal(t, http.StatusBadRequest, a.status, "%s: %s", q, a.raw)
		assert.Equal(t, paytree.L0003, a.errCode(), q)
		assert.Equal(t, strings.SplitN(q, "=", 2)[0], a.errField(), q)
		b := d.request("POST", "/v1/reports/daily?"+q, nil)
		assert.Equal(t, http.StatusBadRequest, b.status, "%s: %s", q, b.raw)
	}
	var interim wbpay.Report
	decode(t, d.request("GET", "/v1/reports/interim?date="+today(), nil), &interim)
	assert.Equal(t, wbpay.ReportInterim, interim.Kind)
	assert.False(t, interim.Closed)
	var closed, reprint wbpay.Report
	cA := d.request("POST", "/v1/reports/daily", nil)
	require.Equal(t, http.StatusOK, cA.status, "%s", cA.raw)
	decode(t, cA, &closed)
	rpA := d.request("POST", "/v1/reports/daily?date="+today(), nil)
	decode(t, rpA, &reprint)
	assert.False(t, closed.Reprint)
	assert.True(t, reprint.Reprint, "a second daily report of the day reprints")
	assert.NotZero(t, closed.CloseSeq)
	want := map[string][2]int64{"pay": {2, 1500}, "deposit": {0, 0}, "refund": {3, 600}, "reverse": {0, 0}}
	for _, l := range closed.Totals {
		assert.Equal(t, want[l.Operation], [2]int64{l.Count, l.Amount}, "total of %s", l.Operation)
	}
	assert.EqualValues(t, 900, closed.Net, "1000 + 500 − 300 − 200 (resolved) − 100")
	assert.Empty(t, closed.Escalated, "the resolved refund is counted, not listed")
	reprint.Reprint = false
	assert.Equal(t, closed, reprint, "the reprint is the close, unchanged")
	assert.Equal(t, closed.Lines, interim.Lines)
	assert.Equal(t, closed.Totals, interim.Totals)
	assert.Equal(t, closed.Net, interim.Net)
	assert.Equal(t, http.StatusMethodNotAllowed, d.request("GET", "/v1/reports/daily", nil).status)
	assert.Equal(t, http.StatusMethodNotAllowed, d.request("POST", "/v1/reports/interim", nil).status)

	// The engine's own answers on the same home, once the daemon stopped.
	d.stop(t)
	eng := e.openEngine()
	engInterim, err := eng.Report(wbpay.ReportInterim, today())
	require.NoError(t, err)
	assert.Equal(t, engInterim.Lines, interim.Lines)
	assert.Equal(t, engInterim.Totals, interim.Totals)
	assert.Equal(t, engInterim.Net, interim.Net)
	engDaily, err := eng.Report(wbpay.ReportDaily, today())
	require.NoError(t, err)
	require.True(t, engDaily.Reprint)
	assert.JSONEq(t, sameJSON(t, engDaily), string(rpA.raw), "the engine reprints the close the API made, as the API reprinted it")
	engRc, err := eng.Receipt(id)
	require.NoError(t, err)
	assert.JSONEq(t, sameJSON(t, engRc), string(rcA.raw), "the receipt is the engine's")
	third, err := eng.PrintReceipt(id, wbpay.CustomerCopy)
	require.NoError(t, err)
	assert.Equal(t, 3, third.Count, "the API's two customer prints are in the journal")
	assert.Equal(t, first.First.UnixNano(), third.First.UnixNano())
}

// sameJSON is v as JSON.
func sameJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestStoreDayCLIBesideDaemon: while a daemon holds the home, report,
// receipt and resolve go through its API (saying so on stderr) instead of
// failing with L0006, and print what they print without a daemon: the
// daily reprint, the interim table and its CSV are byte for byte the same
// once the daemon stopped. repair refuses beside the daemon with a clear
// message instead of L0006.
func TestStoreDayCLIBesideDaemon(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()
	p := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(0), "receiptNo": "R-9"})
	require.Equal(t, "paid", p.str("state"), "%s", p.raw)
	r := d.request("POST", "/v1/refund?wait=30", map[string]any{"orderId": p.str("orderId"), "refundAmount": 250})
	require.Equal(t, "refunded", r.str("state"), "%s", r.raw)
	id := p.str("id")
	const via = "going through its API"

	// receipt: the slip, then a reprint; -o json is the engine's Printed.
	out, errs, code := e.cli("receipt", id)
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, errs, via)
	assert.Contains(t, out, "お客様控え")
	assert.NotContains(t, out, "再発行")
	out, _, code = e.cli("receipt", id, "--width", "42")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "再発行", "the second slip is a reprint")
	assert.Len(t, strings.SplitN(out, "\n", 2)[0], 42, "a 42-column slip")
	out, errs, code = e.cli("receipt", id, "--copy", "merchant", "-o", "json")
	require.Equal(t, 0, code, errs)
	var printed wbpay.Printed
	require.NoError(t, json.Unmarshal([]byte(out), &printed), out)
	assert.Equal(t, wbpay.MerchantCopy, printed.Copy)
	assert.Equal(t, 1, printed.Count)
	assert.Equal(t, id, printed.Receipt.TransactionID)
	_, errs, code = e.cli("receipt", strings.Repeat("0", 32))
	assert.Equal(t, 1, code, errs)
	assert.Contains(t, errs, "L0003")
	assert.NotContains(t, errs, "L0006")
	_, _, code = e.cli("receipt", id, "--width", "40")
	assert.Equal(t, 2, code, "a usage error, checked before anything is printed")

	// resolve an escalated refund.
	esc := escalatedRefund(t, e, d, p.str("orderId"), 100)
	sent := len(e.gw.Sim.Ledger().Requests)
	out, errs, code = e.cli("resolve", esc.str("id"), "--outcome", "paid", "--note", "x", "--operator", "sato")
	assert.Equal(t, 1, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, errs, "does not fit")
	out, errs, code = e.cli("resolve", esc.str("id"), "--outcome", "refunded", "--note", "CPS ticket 12: refunded", "--operator", "sato", "-o", "json")
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, errs, via)
	var resolved struct {
		TransactionID string         `json:"transactionId"`
		State         string         `json:"state"`
		Receipt       *wbpay.Receipt `json:"receipt"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &resolved), out)
	assert.Equal(t, esc.str("id"), resolved.TransactionID)
	assert.Equal(t, "resolved", resolved.State)
	require.NotNil(t, resolved.Receipt, "as the engine's Result, with the receipt")
	assert.Equal(t, "refunded", string(resolved.Receipt.State))
	assert.Len(t, e.gw.Sim.Ledger().Requests, sent, "resolve sends nothing")
	assert.Equal(t, "resolved", d.request("GET", "/v1/transactions/"+esc.str("id"), nil).str("state"))

	// report: interim (table, CSV, JSON), then the close and its reprint.
	out, errs, code = e.cli("report", "interim", "-o", "json")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, via)
	var interim wbpay.Report
	require.NoError(t, json.Unmarshal([]byte(out), &interim), out)
	assert.EqualValues(t, 1000-250-100, interim.Net)
	out, _, code = e.cli("report", "interim", "--csv")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "record,day,channel,"), out)
	out, errs, code = e.cli("report", "daily", "--date", strings.ReplaceAll(today(), "-", ""))
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, out, "the day is now closed")
	daily, _, code := e.cli("report", "daily", "-o", "json")
	require.Equal(t, 0, code)
	assert.Contains(t, daily, `"reprint": true`)
	table, _, code := e.cli("report", "interim", "--date", today())
	require.Equal(t, 0, code)
	assert.Contains(t, table, "中間計")
	csvOut, _, code := e.cli("report", "interim", "--date", today(), "--csv")
	require.Equal(t, 0, code)
	_, errs, code = e.cli("report", "interim", "--date", "2099-01-01")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "has not begun")

	// repair refuses beside the daemon.
	out, errs, code = e.cli("repair")
	assert.Equal(t, 1, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, errs, "stop it first")
	assert.NotContains(t, errs, "L0006")

	// Without the daemon, the same output.
	d.stop(t)
	out, errs, code = e.cli("report", "daily", "-o", "json")
	require.Equal(t, 0, code, errs)
	assert.NotContains(t, errs, via)
	assert.Equal(t, daily, out, "the daily reprint is the same without the daemon")
	out, _, code = e.cli("report", "interim", "--date", today())
	require.Equal(t, 0, code)
	assert.Equal(t, table, out, "the interim table is the same without the daemon")
	out, _, code = e.cli("report", "interim", "--date", today(), "--csv")
	require.Equal(t, 0, code)
	assert.Equal(t, csvOut, out)
	out, errs, code = e.cli("receipt", id, "--copy", "merchant", "-o", "json")
	require.Equal(t, 0, code, errs)
	require.NoError(t, json.Unmarshal([]byte(out), &printed), out)
	assert.Equal(t, 2, printed.Count, "the print made through the daemon counts")
	assert.NotContains(t, daily+table+csvOut, classCode(0), "no full userCode in any output")
}
