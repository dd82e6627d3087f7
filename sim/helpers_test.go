package sim_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// Keys are generated once per test binary (2048-bit generation is slow).
var (
	keyOnce            sync.Once
	gwKey, clientKey   *rsa.PrivateKey
	otherKey           *rsa.PrivateKey
	errKeys            error
	testMerchantID     = "123456789012"
	testTerminalID     = "ABCDE0123456T"
	otherTerminalID    = "ABCDE0999999Z"
	testStart          = time.Date(2025, 1, 15, 10, 0, 0, 0, paytree.JST)
	overrideCodePrefix = "99000000000000000"
)

func testKeys(t testing.TB) (gw, client, other *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		if gwKey, errKeys = keys.NewKey(); errKeys != nil {
			return
		}
		clientKey, errKeys = keys.NewKey()
		otherKey = gwKey // a key the simulator does not accept for requests
	})
	require.NoError(t, errKeys)
	return gwKey, clientKey, otherKey
}

// env is one simulator behind a real loopback HTTP server, a fake clock and
// a small signing client written from the contract.
type env struct {
	t        testing.TB
	sim      *sim.Sim
	clock    *clockwork.FakeClock
	srv      *httptest.Server
	hc       *http.Client
	terminal string
	mu       sync.Mutex
	seq      int
}

// newEnv starts a simulator over HTTP; mod adjusts its Config.
func newEnv(t testing.TB, mod func(*sim.Config)) *env {
	t.Helper()
	gw, client, _ := testKeys(t)
	clock := clockwork.NewFakeClockAt(testStart)
	cfg := sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, Clock: clock}
	if tt, ok := t.(*testing.T); ok {
		cfg.Logger = zaptest.NewLogger(tt)
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := sim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: s, clock: clock, srv: srv, hc: srv.Client(), terminal: testTerminalID}
}

// id returns a fresh requestId.
func (e *env) id() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return fmt.Sprintf("req-%04d", e.seq)
}

// common returns the fields every request carries.
func (e *env) common(rid string) paytree.Fields {
	return paytree.Fields{
		paytree.FMerchantID:       testMerchantID,
		paytree.FTerminalUniqueID: e.terminal,
		paytree.FBranchCode:       "B001",
		paytree.FTerminalCode:     "T01",
		paytree.FLocale:           paytree.FixedLocale,
		paytree.FTimeZone:         paytree.FixedTimeZone,
		paytree.FCurrencyCode:     paytree.FixedCurrencyCode,
		paytree.FAppVersion:       paytree.DefaultAppVersion,
		paytree.FRequestID:        rid,
		paytree.FRequestTime:      paytree.FormatTime(e.clock.Now()),
		paytree.FSignType:         paytree.SignTypeRSA,
	}
}

// with returns the common fields plus extra.
func (e *env) with(rid string, extra paytree.Fields) paytree.Fields {
	f := e.common(rid)
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// answer is what the client saw.
type answer struct {
	status int
	fields paytree.Fields
	raw    []byte
	err    error // the request failed: no answer (connection closed, context done)
	sigErr error // the answer's signature did not verify
}

func (a answer) code() string { return a.fields[paytree.FResultCode] }
func (a answer) get(k string) string {
	return a.fields[k]
}

// signRequest signs f with key (sets sign).
func signRequest(t testing.TB, key *rsa.PrivateKey, f paytree.Fields) []byte {
	t.Helper()
	f = f.Clone()
	delete(f, paytree.FSign)
	sig, err := keys.Sign(key, []byte(paytree.Canonical(f)))
	require.NoError(t, err)
	f[paytree.FSign] = sig
	body, err := paytree.Encode(f)
	require.NoError(t, err)
	return body
}

// post signs f with the client key and posts it to path.
func (e *env) post(path string, f paytree.Fields) answer {
	e.t.Helper()
	_, client, _ := testKeys(e.t)
	return e.postRaw(context.Background(), path, signRequest(e.t, client, f))
}

// postCtx is post with a context.
func (e *env) postCtx(ctx context.Context, path string, f paytree.Fields) answer {
	e.t.Helper()
	_, client, _ := testKeys(e.t)
	return e.postRaw(ctx, path, signRequest(e.t, client, f))
}

// postRaw posts body as is and reads and verifies the answer.
func (e *env) postRaw(ctx context.Context, path string, body []byte) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return readAnswer(e.t, e.hc, req)
}

func readAnswer(t testing.TB, hc *http.Client, req *http.Request) answer {
	resp, err := hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{status: resp.StatusCode, err: err}
	}
	a := answer{status: resp.StatusCode, raw: raw}
	if resp.StatusCode != http.StatusOK {
		return a
	}
	f, err := paytree.Decode(raw)
	require.NoError(t, err, "answer body %q", raw)
	a.fields = f
	gw, _, _ := testKeys(t)
	a.sigErr = keys.Verify(&gw.PublicKey, []byte(paytree.Canonical(f)), f[paytree.FSign])
	return a
}

// ok asserts a signed HTTP 200 answer echoing rid, and returns it.
func ok(t testing.TB, a answer, rid string) answer {
	t.Helper()
	require.NoError(t, a.err, "the request got no answer")
	require.Equal(t, http.StatusOK, a.status, "body %q", a.raw)
	require.NoError(t, a.sigErr, "answer signature")
	require.Equal(t, rid, a.get(paytree.FRequestID), "requestId echo")
	require.Len(t, a.get(paytree.FResponseTime), 14, "responseTime")
	if c := a.code(); c != paytree.CodeOK {
		require.Equal(t, c, a.get(paytree.FErrorCode), "resultCode equals errorCode on an error")
		require.NotEmpty(t, a.get(paytree.FErrorMessage))
	}
	return a
}

var paths = sim.DefaultPaths()

func (e *env) payFields(rid, payType, userCode string, amount int64) paytree.Fields {
	f := e.with(rid, paytree.Fields{paytree.FAmount: strconv.FormatInt(amount, 10), paytree.FUserCode: userCode})
	if payType != "" {
		f[paytree.FPayType] = payType
	}
	return f
}

// pay sends a V3 pay and returns its requestId and answer.
func (e *env) pay(payType, userCode string, amount int64) (string, answer) {
	rid := e.id()
	return rid, e.post(paths.Pay, e.payFields(rid, payType, userCode, amount))
}

// payV1 sends an auto-detect pay.
func (e *env) payV1(userCode string, amount int64) (string, answer) {
	rid := e.id()
	return rid, e.post(paths.PayV1, e.payFields(rid, "", userCode, amount))
}

func classCode(n int) string { return overrideCodePrefix + strconv.Itoa(n) }

// payOK pays amount in class 0 and returns the requestId and orderId.
func (e *env) payOK(amount int64) (string, string) {
	e.t.Helper()
	rid, a := e.pay("PAYPAY", classCode(0), amount)
	ok(e.t, a, rid)
	require.Equal(e.t, paytree.CodeOK, a.code(), "pay: %v", a.fields)
	return rid, a.get(paytree.FOrderID)
}

func (e *env) refundFields(rid, orderID string, amount int64) paytree.Fields {
	return e.with(rid, paytree.Fields{paytree.FOrderID: orderID, paytree.FRefundAmount: strconv.FormatInt(amount, 10)})
}

func (e *env) refund(orderID string, amount int64) (string, answer) {
	rid := e.id()
	return rid, e.post(paths.Refund, e.refundFields(rid, orderID, amount))
}

func (e *env) reverseByRequest(target string) (string, answer) {
	rid := e.id()
	return rid, e.post(paths.Reverse, e.with(rid, paytree.Fields{paytree.FTargetRequestID: target}))
}

func (e *env) reverseByOrder(orderID string) (string, answer) {
	rid := e.id()
	return rid, e.post(paths.Reverse, e.with(rid, paytree.Fields{paytree.FOrderID: orderID}))
}

func (e *env) confirm(target string, v1 bool) (string, answer) {
	rid := e.id()
	p := paths.Confirm
	if v1 {
		p = paths.ConfirmV1
	}
	return rid, e.post(p, e.with(rid, paytree.Fields{paytree.FTargetRequestID: target}))
}

func (e *env) depositFields(rid, payType, valueType, userCode string, amount int64) paytree.Fields {
	return e.with(rid, paytree.Fields{
		paytree.FPayType: payType, paytree.FValueType: valueType,
		paytree.FAmount: strconv.FormatInt(amount, 10), paytree.FUserCode: userCode,
	})
}

func (e *env) deposit(payType string, amount int64) (string, answer) {
	rid := e.id()
	return rid, e.post(paths.Deposit, e.depositFields(rid, payType, "BASIC", "3612345678", amount))
}

// order returns the ledger's order of the pay or deposit rid.
func (e *env) order(rid string) (sim.Order, bool) {
	return e.sim.Ledger().OrderByRequestID(rid)
}

// request returns the ledger's record of rid.
func (e *env) request(rid string) (sim.Request, bool) {
	return e.sim.Ledger().RequestByID(rid)
}

// confirmStatus confirms target and returns the answer, asserting 0000.
func (e *env) confirmOK(target string, v1 bool) answer {
	e.t.Helper()
	rid, a := e.confirm(target, v1)
	ok(e.t, a, rid)
	require.Equal(e.t, paytree.CodeOK, a.code(), "confirm: %v", a.fields)
	require.Equal(e.t, target, a.get(paytree.FTargetRequestID))
	return a
}
