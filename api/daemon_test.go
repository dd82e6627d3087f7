//go:build unix

package api_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/api"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/paytree"
)

// TestDaemonPayClasses pays every simulator class through the API with
// ?wait and checks the answer, the final event and the gateway's ledger.
func TestDaemonPayClasses(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()
	ev := d.events("")
	cases := []struct {
		name       string
		class      int
		state      string
		status     string // transStatus of the answer
		money      bool   // the gateway holds the money afterwards
		finalKind  string
		waitingToo bool // a complete WAITING comes first
	}{
		{"class 0 paid", 0, "paid", "PAID", true, "complete", false},
		{"class 1 waiting then paid", 1, "paid", "PAID", true, "complete", true},
		{"class 2 answer lost, reversed", 2, "reversed", "", false, "error", false},
		{"class 3 E2001", 3, "failed", "", false, "error", false},
		{"class 4 E2002", 4, "failed", "", false, "error", false},
		{"class 5 E2003", 5, "failed", "", false, "error", false},
		{"class 6 waiting then cancelled", 6, "failed", "", false, "error", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1200, "userCode": classCode(c.class), "receiptNo": "R-" + c.name[:7]})
			require.Equal(t, http.StatusAccepted, a.status, "%s", a.raw)
			id := a.str("id")
			require.NotEmpty(t, id)
			assert.Equal(t, "/v1/transactions/"+id, a.header.Get("Location"))
			assert.NotContains(t, string(a.raw), classCode(c.class), "no full userCode in the answer")
			got := ev.until(t, 60*time.Second, finalOf(id))
			last := got[len(got)-1]
			assert.Equal(t, c.finalKind, last.kind)
			assert.Equal(t, c.state, last.txn()["state"])
			// The final event's transaction carries what a slip needs (issue 14.1).
			rc, ok := last.txn()["receipt"].(map[string]any)
			require.True(t, ok, "final event has a receipt: %v", last.txn())
			assert.Equal(t, "PayPay", rc["channelJa"])
			assert.Equal(t, "123456789012", rc["merchantId"])
			assert.Equal(t, "R-"+c.name[:7], rc["receiptNo"])
			assert.NotContains(t, fmt.Sprint(rc), classCode(c.class), "no full userCode on the slip")
			var waiting bool
			for _, g := range got {
				if g.kind == "complete" && g.data["transactionId"] == id && g.txn()["transStatus"] == "WAITING" {
					waiting = true
					assert.Equal(t, false, g.data["final"])
				}
			}
			assert.Equal(t, c.waitingToo, waiting, "a complete WAITING event: %v", kinds(got))
			tx := d.request("GET", "/v1/transactions/"+id, nil)
			require.Equal(t, http.StatusOK, tx.status, "%s", tx.raw)
			assert.Equal(t, c.state, tx.str("state"))
			if c.status != "" {
				assert.Equal(t, c.status, tx.str("transStatus"))
			}
			o, found := e.gw.Sim.Ledger().OrderByRequestID(id)
			held := found && (o.TransStatus == int(paytree.StatusPaid))
			assert.Equal(t, c.money, held, "ledger order %+v (found %v)", o, found)
			if c.money {
				assert.Equal(t, o.OrderID, tx.str("orderId"))
				assert.Equal(t, float64(1200), tx.body["amount"])
			}
		})
	}
}

// TestDaemonRefundReverseDeposit runs the other request methods through the
// API with ?wait and checks the ledger.
func TestDaemonRefundReverseDeposit(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()
	pay := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "AUTO", "amount": 1000, "userCode": "281234567890123456"})
	require.Equal(t, http.StatusOK, pay.status, "%s", pay.raw)
	require.Equal(t, "paid", pay.str("state"))
	assert.Equal(t, "PAYPAY", pay.str("payType"))
	order := pay.str("orderId")

	ref := d.request("POST", "/v1/refund?wait=30", map[string]any{"orderId": order, "refundAmount": 300, "refundReason": "damaged"})
	require.Equal(t, http.StatusOK, ref.status, "%s", ref.raw)
	assert.Equal(t, "refunded", ref.str("state"))
	assert.Equal(t, float64(300), ref.body["refundAmount"])
	assert.Equal(t, float64(300), ref.body["refundedTotal"])
	o, ok := e.gw.Sim.Ledger().OrderByRequestID(pay.str("id"))
	require.True(t, ok)
	assert.Equal(t, int64(300), o.RefundedTotal)

	refunded := d.request("GET", "/v1/transactions/"+pay.str("id"), nil)
	assert.Nil(t, refunded.body["voidUntil"], "a refunded pay can no longer be reversed")

	pay2 := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 700, "userCode": classCode(0)})
	require.Equal(t, "paid", pay2.str("state"))
	created, err := time.Parse(time.RFC3339Nano, pay2.str("createdAt"))
	require.NoError(t, err)
	until, err := time.Parse(time.RFC3339, pay2.str("voidUntil"))
	require.NoError(t, err, "voidUntil of a paid pay: %s", pay2.raw)
	assert.Equal(t, created.Add(24*time.Hour).Truncate(time.Second), until, "creation + ReverseWindow (default 24 h)")
	rev := d.request("POST", "/v1/reverse?wait=30", map[string]any{"orderId": pay2.str("orderId")})
	require.Equal(t, http.StatusOK, rev.status, "%s", rev.raw)
	assert.Equal(t, "reversed", rev.str("state"))
	o2, _ := e.gw.Sim.Ledger().OrderByRequestID(pay2.str("id"))
	assert.Equal(t, int(paytree.StatusReversed), o2.TransStatus)

	dep := d.request("POST", "/v1/deposit?wait=30", map[string]any{"payType": "LINE", "valueType": "BASIC", "amount": 500, "userCode": "3612345678"})
	require.Equal(t, http.StatusOK, dep.status, "%s", dep.raw)
	assert.Equal(t, "deposited", dep.str("state"))
	o3, ok := e.gw.Sim.Ledger().OrderByRequestID(dep.str("id"))
	require.True(t, ok)
	assert.Equal(t, int(paytree.StatusDeposited), o3.TransStatus)

	dep2 := d.request("POST", "/v1/deposit?wait=30", map[string]any{"payType": "PAYPAY", "valueType": "BASIC", "amount": 500, "userCode": "2812345678"})
	require.Equal(t, http.StatusOK, dep2.status, "%s", dep2.raw)
	assert.Equal(t, "failed", dep2.str("state"))
	errObj, _ := dep2.body["error"].(map[string]any)
	assert.Equal(t, "E3006", errObj["code"])

	list := d.request("GET", "/v1/transactions?"+q("orderId", order), nil)
	require.Equal(t, http.StatusOK, list.status)
	txns, _ := list.body["transactions"].([]any)
	assert.Len(t, txns, 2, "the pay and its refund: %s", list.raw)
	list = d.request("GET", "/v1/transactions?"+q("operation", "deposit", "limit", "1"), nil)
	txns, _ = list.body["transactions"].([]any)
	require.Len(t, txns, 1)
	assert.Equal(t, dep2.str("id"), txns[0].(map[string]any)["id"], "newest first")
}

// TestDaemonPayConfirm drives a WAITING pay with pay-confirm when the
// application must confirm (PayConfirmPollingMode no), and checks 409 L0004
// while it waits and 409 L0008 once nothing waits.
func TestDaemonPayConfirm(t *testing.T) {
	e := newEnv(t, map[string]string{"PayConfirmPollingMode": "no"})
	d := e.startDaemon()
	a := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 800, "userCode": classCode(1)})
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	require.Equal(t, "waiting", a.str("state"), "?wait answers when the pay waits for the customer")
	assert.Equal(t, "WAITING", a.str("transStatus"))
	id := a.str("id")

	busy := d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": classCode(0)})
	assert.Equal(t, http.StatusConflict, busy.status, "%s", busy.raw)
	assert.Equal(t, "L0004", busy.errCode())

	var last answer
	poll(t, 30*time.Second, "the pay to be approved", func() bool {
		last = d.request("POST", "/v1/pay-confirm?wait=10", map[string]any{"confirm": true})
		require.Contains(t, []int{http.StatusOK, http.StatusConflict}, last.status, "%s", last.raw)
		return last.status == http.StatusOK && last.str("state") == "paid"
	})
	assert.Equal(t, id, last.str("id"))
	o, ok := e.gw.Sim.Ledger().OrderByRequestID(id)
	require.True(t, ok)
	assert.Equal(t, int(paytree.StatusPaid), o.TransStatus)

	none := d.request("POST", "/v1/pay-confirm", map[string]any{"confirm": true})
	assert.Equal(t, http.StatusConflict, none.status)
	assert.Equal(t, "L0008", none.errCode())

	// confirm false ends a wait: the pay is reversed.
	a = d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 900, "userCode": classCode(7)})
	require.Equal(t, "waiting", a.str("state"), "%s", a.raw)
	var c answer
	poll(t, 10*time.Second, "pay-confirm false to be taken", func() bool {
		c = d.request("POST", "/v1/pay-confirm?wait=30", map[string]any{"confirm": false})
		return c.status != http.StatusConflict
	})
	require.Equal(t, http.StatusOK, c.status, "%s", c.raw)
	got := d.request("GET", "/v1/transactions/"+a.str("id")+"?wait=30", nil)
	assert.Equal(t, "reversed", got.str("state"), "%s", got.raw)
}

// TestDaemonRefusals checks every 4xx of local-api.md and the error object.
func TestDaemonRefusals(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()
	pay := map[string]any{"payType": "PAYPAY", "amount": 100, "userCode": classCode(0)}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range pay {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		code    string
		field   string
	}{
		{"no token", "GET", "/v1/health", nil, []string{"Authorization", ""}, 401, "L0011", ""},
		{"wrong token", "GET", "/v1/health", nil, []string{"Authorization", "Bearer " + strings.Repeat("0", 64)}, 401, "L0011", ""},
		{"not bearer", "GET", "/v1/health", nil, []string{"Authorization", "Basic " + d.token}, 401, "L0011", ""},
		{"foreign host", "GET", "/v1/health", nil, []string{"Host", "evil.example:8791"}, 403, "L0011", ""},
		{"origin", "POST", "/v1/pay", pay, []string{"Origin", "http://127.0.0.1"}, 403, "L0011", ""},
		{"unknown field", "POST", "/v1/pay", with("amonut", 5), nil, 400, "L0003", "amonut"},
		{"missing amount", "POST", "/v1/pay", with("amount", nil), nil, 400, "L0003", "amount"},
		{"fraction amount", "POST", "/v1/pay", with("amount", 10.5), nil, 400, "L0003", "amount"},
		{"string amount", "POST", "/v1/pay", with("amount", "100"), nil, 400, "L0003", "amount"},
		{"zero amount", "POST", "/v1/pay", with("amount", 0), nil, 400, "L0003", "amount"},
		{"16-digit amount", "POST", "/v1/pay", with("amount", 1000000000000000), nil, 400, "L0003", "amount"},
		{"long receipt", "POST", "/v1/pay", with("receiptNo", strings.Repeat("r", 33)), nil, 400, "L0003", "receiptNo"},
		{"long remark", "POST", "/v1/pay", with("remark", strings.Repeat("あ", 129)), nil, 400, "L0003", "remark"},
		{"empty user code", "POST", "/v1/pay", with("userCode", ""), nil, 400, "L0003", "userCode"},
		{"bad pay type", "POST", "/v1/pay", with("payType", "VISA"), nil, 400, "L0003", "payType"},
		{"jcb alipay", "POST", "/v1/pay", with("payType", "JCB_ALIPAY"), nil, 400, "L0003", "payType"},
		{"not an object", "POST", "/v1/pay", "[1,2]", nil, 400, "L0003", ""},
		{"duplicate key", "POST", "/v1/pay", `{"payType":"PAYPAY","amount":1,"amount":2,"userCode":"1"}`, nil, 400, "L0003", "amount"},
		{"huge body", "POST", "/v1/pay", `{"remark":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, nil, 413, "L0003", ""},
		{"deposit auto", "POST", "/v1/deposit", map[string]any{"payType": "AUTO", "valueType": "BASIC", "amount": 1, "userCode": "1"}, nil, 400, "L0003", "payType"},
		{"deposit bonus", "POST", "/v1/deposit", map[string]any{"payType": "LINE", "valueType": "BONUS", "amount": 1, "userCode": "1"}, nil, 400, "L0003", "valueType"},
		{"refund no order", "POST", "/v1/refund", map[string]any{"refundAmount": 1}, nil, 400, "L0003", "orderId"},
		{"reverse long order", "POST", "/v1/reverse", map[string]any{"orderId": strings.Repeat("1", 33)}, nil, 400, "L0003", "orderId"},
		{"confirm not bool", "POST", "/v1/pay-confirm", map[string]any{"confirm": "yes"}, nil, 400, "L0003", "confirm"},
		{"bad idempotency key", "POST", "/v1/pay", pay, []string{"Idempotency-Key", "has space"}, 400, "L0003", "Idempotency-Key"},
		{"long idempotency key", "POST", "/v1/pay", pay, []string{"Idempotency-Key", strings.Repeat("k", 65)}, 400, "L0003", "Idempotency-Key"},
		{"wait too long", "POST", "/v1/pay?wait=301", pay, nil, 400, "L0003", "wait"},
		{"unknown query", "GET", "/v1/transactions?reciptNo=1", nil, nil, 400, "L0003", "reciptNo"},
		{"bad limit", "GET", "/v1/transactions?limit=1001", nil, nil, 400, "L0003", "limit"},
		{"bad since", "GET", "/v1/transactions?since=yesterday", nil, nil, 400, "L0003", "since"},
		{"bad state", "GET", "/v1/transactions?state=done", nil, nil, 400, "L0003", "state"},
		{"bad operation", "GET", "/v1/transactions?operation=confirm", nil, nil, 400, "L0003", "operation"},
		{"bad export format", "GET", "/v1/export?format=xml", nil, nil, 400, "L0003", "format"},
		{"bad event id", "GET", "/v1/events?after=x", nil, nil, 400, "L0003", "after"},
		{"unknown transaction", "GET", "/v1/transactions/nope", nil, nil, 404, "L0003", "id"},
		{"unknown entries", "GET", "/v1/transactions/nope/entries", nil, nil, 404, "L0003", "id"},
		{"unknown route", "GET", "/v1/nothing", nil, nil, 404, "L0003", ""},
		{"wrong method", "GET", "/v1/pay", nil, nil, 405, "L0003", ""},
		{"no pay waiting", "POST", "/v1/pay-confirm", map[string]any{"confirm": true}, nil, 409, "L0008", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := d.request(c.method, c.path, c.body, c.headers...)
			assert.Equal(t, c.status, a.status, "%s", a.raw)
			assert.Equal(t, c.code, a.errCode(), "%s", a.raw)
			assert.Equal(t, c.field, a.errField(), "%s", a.raw)
			eo, _ := a.body["error"].(map[string]any)
			require.NotNil(t, eo, "error object: %s", a.raw)
			for _, k := range []string{"type", "code", "subCode", "message", "action"} {
				assert.Contains(t, eo, k)
			}
			assert.Equal(t, float64(5), eo["type"])
			assert.Equal(t, "application/json", a.header.Get("Content-Type"))
			if c.status == 401 {
				assert.Contains(t, a.header.Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
	// Nothing of the refused requests reached the gateway.
	assert.Empty(t, e.gw.Sim.Ledger().Requests)
}

// TestDaemonStop sends SIGTERM while a pay waits for the customer: the
// daemon exits 0 within 10 s and removes serve.json; the next start serves
// while recovery finishes the pay (health recovering, request methods 503
// L0004), and a client reconnecting from id 0 gets the final event that
// recovery raised.
func TestDaemonStop(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()
	a := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 800, "userCode": classCode(7)})
	require.Equal(t, "waiting", a.str("state"), "%s", a.raw)
	start := time.Now()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	killed, code := d.wait(10 * time.Second)
	assert.False(t, killed)
	assert.Equal(t, 0, code, "stderr:\n%s", d.stderr)
	assert.Less(t, time.Since(start), 10*time.Second)
	_, err := os.Stat(filepath.Join(e.home, api.ServeFile))
	assert.True(t, os.IsNotExist(err), "serve.json removed: %v", err)

	d2 := e.startDaemon()
	h := d2.request("GET", "/v1/health", nil)
	assert.Equal(t, "recovering", h.str("state"), "%s", h.raw)
	assert.Equal(t, float64(1), h.body["unfinished"])
	busy := d2.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": classCode(0)})
	assert.Equal(t, http.StatusServiceUnavailable, busy.status, "%s", busy.raw)
	assert.Equal(t, "L0004", busy.errCode())

	got := d2.request("GET", "/v1/transactions/"+a.str("id")+"?wait=60&state=waiting", nil)
	require.Equal(t, http.StatusOK, got.status)
	assert.NotEqual(t, "waiting", got.str("state"), "?state=waiting holds until the state changes: %s", got.raw)
	ev := d2.events("after=0")
	all := ev.until(t, 30*time.Second, finalOf(a.str("id")))
	assert.Equal(t, true, all[len(all)-1].data["recovered"], "the final event was raised by recovery")
	got = d2.request("GET", "/v1/transactions/"+a.str("id"), nil)
	assert.Equal(t, "failed", got.str("state"), "the expired pay ended with nothing charged: %s", got.raw)
	assert.Equal(t, true, got.body["recovered"])
	assert.Equal(t, "E2005", got.body["error"].(map[string]any)["code"])
	o, _ := e.gw.Sim.Ledger().OrderByRequestID(a.str("id"))
	assert.Equal(t, int64(0), o.MoneyHeld(), "ledger %+v", o)
	poll(t, 10*time.Second, "health ready", func() bool { return d2.request("GET", "/v1/health", nil).str("state") == "ready" })
}

// TestDaemonRefusesNonLoopback: serve refuses a non-loopback --listen with
// L0001 and exit 1, and a second serve on a held home with L0006.
func TestDaemonRefusesNonLoopback(t *testing.T) {
	e := newEnv(t, nil)
	bin := engineBinary(t)
	out, err := exec(bin, "serve", "--home", e.home, "--listen", "0.0.0.0:0")
	assert.Equal(t, 1, err, "%s", out)
	assert.Contains(t, out, "L0001")
	d := e.startDaemon()
	out, err = exec(bin, "serve", "--home", e.home, "--gateway-ca", e.gw.CAFile, "--listen", "127.0.0.1:0")
	assert.Equal(t, 1, err, "%s", out)
	assert.Contains(t, out, "L0006")
	h := d.request("GET", "/v1/health", nil)
	assert.Equal(t, "ready", h.str("state"), "the first daemon still serves")
}

// TestDaemonIdempotency: a repeated Idempotency-Key with the same body
// answers 200 with the same transaction (also after a restart) and sends
// nothing more; with another body or path it gets 409 L0010.
func TestDaemonIdempotency(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()
	body := map[string]any{"payType": "PAYPAY", "amount": 1500, "userCode": classCode(0), "receiptNo": "R-9"}
	first := d.request("POST", "/v1/pay?wait=30", body, "Idempotency-Key", "pos1-R-9")
	require.Equal(t, http.StatusOK, first.status, "%s", first.raw)
	require.Equal(t, "paid", first.str("state"))
	assert.Equal(t, "pos1-R-9", first.str("idempotencyKey"))
	sent := len(e.gw.Sim.Ledger().Requests)

	// The same fields in another order and spacing are the same body.
	again := d.request("POST", "/v1/pay", `{ "receiptNo":"R-9", "userCode":"`+classCode(0)+`", "amount":1500, "payType":"PAYPAY" }`, "Idempotency-Key", "pos1-R-9")
	assert.Equal(t, http.StatusOK, again.status, "%s", again.raw)
	assert.Equal(t, first.str("id"), again.str("id"))
	assert.Equal(t, "paid", again.str("state"))
	assert.Equal(t, "/v1/transactions/"+first.str("id"), again.header.Get("Location"))

	other := d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1501, "userCode": classCode(0), "receiptNo": "R-9"}, "Idempotency-Key", "pos1-R-9")
	assert.Equal(t, http.StatusConflict, other.status, "%s", other.raw)
	assert.Equal(t, "L0010", other.errCode())
	path := d.request("POST", "/v1/reverse", map[string]any{"orderId": first.str("orderId")}, "Idempotency-Key", "pos1-R-9")
	assert.Equal(t, http.StatusConflict, path.status, "%s", path.raw)
	assert.Equal(t, "L0010", path.errCode())

	list := d.request("GET", "/v1/transactions?"+q("idempotencyKey", "pos1-R-9"), nil)
	txns, _ := list.body["transactions"].([]any)
	require.Len(t, txns, 1, "%s", list.raw)
	assert.Equal(t, first.str("id"), txns[0].(map[string]any)["id"])

	d.stop(t)
	d2 := e.startDaemon()
	after := d2.request("POST", "/v1/pay", body, "Idempotency-Key", "pos1-R-9")
	assert.Equal(t, http.StatusOK, after.status, "%s", after.raw)
	assert.Equal(t, first.str("id"), after.str("id"), "the key survives a restart")
	assert.Equal(t, sent, len(e.gw.Sim.Ledger().Requests), "nothing more was sent to the gateway")
}

// TestDaemonWaitsForGateway: a daemon started on a home with an unfinished
// pay while the gateway cannot be reached serves at once, says
// waiting-for-gateway with the time, refuses request methods with 503
// L0004, and finishes the pay once the network is back (the final event
// reaches a client that connected before).
func TestDaemonWaitsForGateway(t *testing.T) {
	e := newEnv(t, nil)
	relay, err := testgw.NewRelay(strings.TrimPrefix(e.gw.URL(), "https://"))
	require.NoError(t, err)
	t.Cleanup(relay.Down)
	e.home = e.writeHome("https://"+relay.Addr, nil)
	d := e.startDaemon("WBPAY_CRASH_AT=transport/send/before#1")
	_, _ = d.tryRequest("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(0)})
	killed, _ := d.wait(30 * time.Second)
	require.True(t, killed, "the daemon died at its crash point")

	relay.Down()
	d2 := e.startDaemon()
	ev := d2.events("after=0")
	var h answer
	poll(t, 30*time.Second, "health waiting-for-gateway", func() bool {
		h = d2.request("GET", "/v1/health", nil)
		return h.str("state") == "waiting-for-gateway"
	})
	assert.NotEmpty(t, h.str("gatewayUnreachableSince"), "%s", h.raw)
	assert.Equal(t, float64(1), h.body["unfinished"])
	busy := d2.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": classCode(0)})
	assert.Equal(t, http.StatusServiceUnavailable, busy.status, "%s", busy.raw)
	assert.Equal(t, "L0004", busy.errCode())

	require.NoError(t, relay.Up())
	list := d2.request("GET", "/v1/transactions?limit=1", nil)
	txns, _ := list.body["transactions"].([]any)
	require.Len(t, txns, 1)
	id := txns[0].(map[string]any)["id"].(string)
	got := ev.until(t, 90*time.Second, finalOf(id))
	last := got[len(got)-1]
	assert.Equal(t, true, last.data["recovered"])
	assert.Contains(t, []any{"reversed", "failed"}, last.txn()["state"], "never sent, so undone or refused: %v", kinds(got))
	poll(t, 10*time.Second, "health ready", func() bool { return d2.request("GET", "/v1/health", nil).str("state") == "ready" })
	d2.stop(t)
	checkHome(t, e, nil, nil)
}
