//go:build unix

package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const specPath = "../docs/api/openapi.yaml"

func init() {
	// Streams are checked by the test itself (events line by line); the
	// validator only needs to accept them as strings.
	plain := func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	}
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", plain)
	openapi3filter.RegisterBodyDecoder("text/event-stream", plain)
	openapi3filter.RegisterBodyDecoder("text/csv", plain)
}

// loadSpec loads and validates docs/api/openapi.yaml, its server set to
// the daemon's URL.
func loadSpec(t testing.TB, serverURL string) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "the OpenAPI file is valid")
	doc.Servers = openapi3.Servers{{URL: serverURL}}
	r, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return doc, r
}

// exchange is one validated request and answer.
type exchange struct {
	op         string // operationId; "" when no route of the file matches
	reqErr     error  // the request's validation error
	respErr    error  // the answer's validation error
	status     int
	method     string
	path       string
	query      string
	bodyPrefix string
}

// checker is an http.RoundTripper that validates every request and answer
// against the file and records them.
type checker struct {
	t      testing.TB
	router routers.Router
	mu     sync.Mutex
	log    []exchange
	// semantic holds the requests ("METHOD path?query") that are valid
	// for the file but refused for what they name (400 L0003: a
	// transaction not finished or not escalated, an outcome that does not
	// fit, a day that has not begun).
	semantic map[string]bool
}

// refusedFor marks method path (with its query) as refused for what it
// names, not for its form.
func (c *checker) refusedFor(method, pathQuery string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.semantic == nil {
		c.semantic = map[string]bool{}
	}
	c.semantic[method+" "+pathQuery] = true
}

var authOK = func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(strings.ToLower(h), "bearer ") {
		return fmt.Errorf("no bearer token")
	}
	return nil
}

func (c *checker) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	ex := exchange{status: resp.StatusCode, method: req.Method, path: req.URL.Path, query: req.URL.RawQuery}
	route, params, rerr := c.router.FindRoute(req)
	sse := resp.Header.Get("Content-Type") == "text/event-stream"
	var respBody []byte
	if !sse {
		respBody, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
	}
	ex.bodyPrefix = string(respBody[:min(len(respBody), 200)])
	if rerr == nil {
		ex.op = route.Operation.OperationID
		vreq := req.Clone(req.Context())
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
		in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: authOK, MultiError: true}}
		ex.reqErr = openapi3filter.ValidateRequest(context.Background(), in)
		rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: sse}}
		rin.SetBodyBytes(respBody)
		ex.respErr = openapi3filter.ValidateResponse(context.Background(), rin)
	}
	c.mu.Lock()
	c.log = append(c.log, ex)
	c.mu.Unlock()
	return resp, nil
}

// TestOpenAPI runs every route of the daemon, with valid requests and with
// each kind of refusal, through a validator of docs/api/openapi.yaml: every
// answer must match the file, a request the file calls invalid must be
// refused by the daemon (4xx) and a valid one must not be refused for its
// form (400), and every operation of the file must have been answered.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, map[string]string{"PayConfirmPollingMode": "no"})
	d := e.startDaemon()
	doc, router := loadSpec(t, d.url)
	chk := &checker{t: t, router: router}
	old := http.DefaultClient
	http.DefaultClient = &http.Client{Transport: chk}
	defer func() { http.DefaultClient = old }()

	// Events: validate every data line against EventData.
	evSchema := doc.Components.Schemas["EventData"].Value
	stream := d.events("after=0")

	pay := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(0), "receiptNo": "R1", "remark": "ok"}, "Idempotency-Key", "k-1")
	require.Equal(t, "paid", pay.str("state"), "%s", pay.raw)
	id, order := pay.str("id"), pay.str("orderId")
	d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(0), "receiptNo": "R1", "remark": "ok"}, "Idempotency-Key", "k-1")
	d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1001, "userCode": classCode(0)}, "Idempotency-Key", "k-1")
	d.request("POST", "/v1/refund?wait=30", map[string]any{"orderId": order, "refundAmount": 100, "refundReason": "r", "remark": "m"})
	d.request("POST", "/v1/deposit?wait=30", map[string]any{"payType": "LINE", "valueType": "BASIC", "amount": 500, "userCode": "3612345678", "receiptNo": "D1"})
	p2 := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "AUTO", "amount": 300, "userCode": "281234567890123456"})
	d.request("POST", "/v1/reverse?wait=30", map[string]any{"orderId": p2.str("orderId")})
	d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 5, "userCode": classCode(3)})
	d.request("GET", "/v1/transactions?wait=0", nil) // unknown parameter for the list: refused
	w := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 700, "userCode": classCode(1)})
	require.Equal(t, "waiting", w.str("state"), "%s", w.raw)
	// While the pay waits, its sequence holds the engine: no close.
	busy := d.request("POST", "/v1/reports/daily", nil)
	assert.Equal(t, http.StatusConflict, busy.status, "%s", busy.raw)
	assert.Equal(t, "L0004", busy.errCode())
	chk.refusedFor("GET", "/v1/transactions/"+w.str("id")+"/receipt")
	unfinished := d.request("GET", "/v1/transactions/"+w.str("id")+"/receipt", nil)
	assert.Equal(t, http.StatusBadRequest, unfinished.status, "no receipt before the end: %s", unfinished.raw)
	assert.Equal(t, "id", unfinished.errField())
	d.request("GET", "/v1/reports/interim", nil)
	d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": classCode(0)}) // 409 L0004
	poll(t, 30*time.Second, "the waiting pay to be approved", func() bool {
		a := d.request("POST", "/v1/pay-confirm?wait=10", map[string]any{"confirm": true})
		return a.str("state") == "paid"
	})
	d.request("POST", "/v1/pay-confirm", map[string]any{"confirm": true}) // 409 L0008
	for _, p := range []string{
		"/v1/transactions", "/v1/transactions?" + q("receiptNo", "R1"), "/v1/transactions?" + q("orderId", order),
		"/v1/transactions?" + q("idempotencyKey", "k-1"), "/v1/transactions?" + q("state", "paid", "operation", "pay", "limit", "2"),
		"/v1/transactions?" + q("since", "2020-01-01T00:00:00+09:00", "until", "2099-01-01T00:00:00+09:00"),
		"/v1/transactions/" + id, "/v1/transactions/" + id + "?wait=1", "/v1/transactions/" + id + "?wait=1&state=sending",
		"/v1/transactions/" + id + "/entries", "/v1/transactions/" + strings.Repeat("0", 32), "/v1/transactions/" + strings.Repeat("0", 32) + "/entries",
		"/v1/verify", "/v1/health", "/v1/export", "/v1/export?format=csv", "/v1/export?" + q("format", "jsonl", "since", "2020-01-01T00:00:00Z"),
		"/v1/export?format=xml", "/v1/transactions?limit=0", "/v1/transactions?state=nope",
	} {
		d.request("GET", p, nil)
	}
	// Refusals of the form: each is invalid for the file and refused.
	for _, b := range []any{
		map[string]any{"payType": "PAYPAY", "amount": 0, "userCode": "1"},
		map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": "1", "x": 1},
		map[string]any{"payType": "VISA", "amount": 1, "userCode": "1"},
		map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": "1", "receiptNo": strings.Repeat("r", 33)},
		map[string]any{"payType": "PAYPAY", "amount": 1.5, "userCode": "1"},
		map[string]any{"amount": 1, "userCode": "1"},
	} {
		d.request("POST", "/v1/pay", b)
	}
	d.request("POST", "/v1/refund", map[string]any{"orderId": order, "refundAmount": 1000000000000000})
	d.request("POST", "/v1/reverse", map[string]any{"orderId": ""})
	d.request("POST", "/v1/deposit", map[string]any{"payType": "LINE", "valueType": "POINT", "amount": 1, "userCode": "1"})
	d.request("POST", "/v1/pay-confirm", map[string]any{})
	d.request("POST", "/v1/pay?wait=301", map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": "1"})
	d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 1, "userCode": "1"}, "Idempotency-Key", "bad key")
	storeDayExchanges(t, e, d, chk, id, order)
	d.request("GET", "/v1/health", nil, "Authorization", "")
	d.request("GET", "/v1/health", nil, "Authorization", "Bearer "+strings.Repeat("f", 64))
	d.request("GET", "/v1/health", nil, "Origin", "http://localhost")
	d.request("GET", "/v1/events?after=x", nil)

	got := stream.until(t, 30*time.Second, func(ev sseEvent) bool {
		return ev.kind == "complete" && ev.txn()["transStatus"] == "PAID" && ev.txn()["amount"] == float64(700)
	})
	for _, ev := range got {
		assert.NoError(t, evSchema.VisitJSON(ev.data), "event %d data matches EventData", ev.id)
	}
	// And one raw look at a stream: every line is a field or a comment.
	checkStreamLines(t, d)

	ops := map[string]bool{}
	for _, ex := range chk.log {
		name := fmt.Sprintf("%s %s -> %d", ex.method, ex.path, ex.status)
		if ex.op == "" {
			t.Errorf("%s: no route of the file matches", name)
			continue
		}
		ops[ex.op] = true
		assert.NoError(t, ex.respErr, "%s: the answer matches the file (%s)", name, ex.bodyPrefix)
		if ex.reqErr != nil {
			assert.True(t, ex.status >= 400 && ex.status < 500, "%s: a request the file calls invalid was not refused (%v)", name, ex.reqErr)
		} else if pq := ex.path + "?" + ex.query; !strings.Contains(ex.bodyPrefix, "unknown query parameter") && // OpenAPI cannot forbid extra parameters
			!chk.semantic[ex.method+" "+strings.TrimSuffix(pq, "?")] {
			assert.NotEqual(t, http.StatusBadRequest, ex.status, "%s: a request valid for the file was refused: %s", name, ex.bodyPrefix)
		}
	}
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !ops[op.OperationID] {
				missing = append(missing, method+" "+path)
			}
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "every operation of the file was answered")
}

// checkStreamLines reads a replayed stream raw and checks its framing.
func checkStreamLines(t *testing.T, d *daemon) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", d.url+"/v1/events?"+url.Values{"after": {"0"}}.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := old(t).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() && n < 60 {
		line := sc.Text()
		n++
		ok := line == "" || strings.HasPrefix(line, ":") || strings.HasPrefix(line, "id: ") || strings.HasPrefix(line, "event: ") || strings.HasPrefix(line, "data: ")
		assert.True(t, ok, "line %q is an SSE field, comment or separator", line)
		if strings.HasPrefix(line, "data: ") {
			assert.True(t, json.Valid([]byte(line[6:])), "data is one line of JSON")
		}
	}
	assert.Equal(t, 60, n)
}

// old is a client that does not validate (for raw reads).
func old(testing.TB) *http.Client { return &http.Client{} }

// storeDayExchanges runs the store-day routes for TestOpenAPI: receipts
// and prints of pay id, an escalated refund of order resolved, reports,
// and each kind of refusal.
func storeDayExchanges(t *testing.T, e *env, d *daemon, chk *checker, id, order string) {
	t.Helper()
	none := "/v1/transactions/" + strings.Repeat("0", 32)
	rc := "/v1/transactions/" + id + "/receipt"
	d.request("GET", rc, nil)
	d.request("GET", none+"/receipt", nil)
	d.request("POST", rc, nil)
	d.request("POST", rc+"?"+q("copy", "merchant", "width", "42"), nil)
	reprint := d.request("POST", rc+"?"+q("copy", "merchant", "width", "42"), nil)
	assert.Equal(t, true, reprint.body["reprint"], "%s", reprint.raw)
	d.request("POST", rc+"?copy=shop", nil)
	d.request("POST", rc+"?width=40", nil)
	d.request("POST", none+"/receipt", nil)

	esc := escalatedRefund(t, e, d, order, 100)
	res := "/v1/transactions/" + esc.str("id") + "/resolve"
	d.request("POST", res, map[string]any{"outcome": "refunded", "operator": "sato", "note": "n", "extra": true})
	d.request("POST", res, map[string]any{"outcome": "refunded", "operator": "sato"})
	d.request("POST", res, map[string]any{"outcome": "lost", "operator": "sato", "note": "n"})
	chk.refusedFor("POST", res)
	unfit := d.request("POST", res, map[string]any{"outcome": "paid", "operator": "sato", "note": "n"})
	assert.Equal(t, "outcome", unfit.errField(), "%s", unfit.raw)
	d.request("POST", none+"/resolve", map[string]any{"outcome": "paid", "operator": "sato", "note": "n"})
	ok := d.request("POST", res, map[string]any{"outcome": "refunded", "operator": "sato", "note": "CPS ticket 1"})
	assert.Equal(t, "resolved", ok.str("state"), "%s", ok.raw)
	d.request("POST", res, map[string]any{"outcome": "refunded", "operator": "sato", "note": "again"}) // no longer escalated

	d.request("GET", "/v1/reports/interim", nil)
	d.request("GET", "/v1/reports/interim?"+q("date", today()), nil)
	d.request("GET", "/v1/reports/interim?date=1-2-3", nil)
	d.request("GET", "/v1/reports/interim?dat="+today(), nil)
	chk.refusedFor("GET", "/v1/reports/interim?date=2099-01-01")
	d.request("GET", "/v1/reports/interim?date=2099-01-01", nil)
	d.request("POST", "/v1/reports/daily?date=20261201", nil)
	closed := d.request("POST", "/v1/reports/daily?"+q("date", today()), nil)
	assert.Equal(t, false, closed.body["reprint"], "%s", closed.raw)
	again := d.request("POST", "/v1/reports/daily", nil)
	assert.Equal(t, true, again.body["reprint"], "%s", again.raw)
}
