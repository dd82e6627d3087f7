package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// rtPost posts a signed request through the in-process RoundTripper.
func (e *env) rtPost(ctx context.Context, path string, f paytree.Fields) answer {
	_, client, _ := testKeys(e.t)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://gateway.invalid"+path, bytes.NewReader(signRequest(e.t, client, f)))
	require.NoError(e.t, err)
	return readAnswer(e.t, &http.Client{Transport: e.sim.RoundTripper()}, req)
}

// TestRoundTripper runs the same code in process, without a socket.
func TestRoundTripper(t *testing.T) {
	t.Run("pay and confirm", func(t *testing.T) {
		e := newEnv(t, nil)
		rid := e.id()
		a := ok(t, e.rtPost(context.Background(), paths.Pay, e.payFields(rid, "PAYPAY", classCode(1), 100)), rid)
		assert.Equal(t, paytree.StatusWaiting.Wire(), a.get(paytree.FTransStatus))
		e.clock.Advance(sim.DefaultApproveAfter)
		cid := e.id()
		c := ok(t, e.rtPost(context.Background(), paths.Confirm, e.with(cid, paytree.Fields{paytree.FTargetRequestID: rid})), cid)
		assert.Equal(t, paytree.StatusPaid.Wire(), c.get(paytree.FTransStatus))
		// The same simulator over HTTP sees the same ledger.
		h := e.confirmOK(rid, false)
		assert.Equal(t, paytree.StatusPaid.Wire(), h.get(paytree.FTransStatus))
	})
	t.Run("lost after processing", func(t *testing.T) {
		e := newEnv(t, withFaults("lost:pay:count=1"))
		rid := e.id()
		f := e.payFields(rid, "PAYPAY", classCode(0), 100)
		a := e.rtPost(context.Background(), paths.Pay, f)
		require.Error(t, a.err)
		assert.ErrorIs(t, a.err, sim.ErrAnswerLost)
		assert.ErrorIs(t, a.err, io.ErrUnexpectedEOF)
		_, held := e.order(rid)
		assert.True(t, held)
		b := ok(t, e.rtPost(context.Background(), paths.Pay, f), rid)
		assert.Equal(t, paytree.CodeOK, b.code())
	})
	t.Run("class 2", func(t *testing.T) {
		e := newEnv(t, nil)
		rid := e.id()
		a := e.rtPost(context.Background(), paths.Pay, e.payFields(rid, "PAYPAY", classCode(2), 100))
		assert.ErrorIs(t, a.err, sim.ErrAnswerLost)
		cid := e.id()
		c := e.rtPost(context.Background(), paths.Confirm, e.with(cid, paytree.Fields{paytree.FTargetRequestID: rid}))
		assert.ErrorIs(t, c.err, sim.ErrAnswerLost)
	})
	t.Run("hold until the context is done", func(t *testing.T) {
		e := newEnv(t, withFaults("hold:pay:delay=1h"))
		rid := e.id()
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan answer, 1)
		f := e.payFields(rid, "PAYPAY", classCode(0), 100)
		go func() { ch <- e.rtPost(ctx, paths.Pay, f) }()
		e.waiters(1)
		cancel()
		a := <-ch
		assert.ErrorIs(t, a.err, context.Canceled)
		_, held := e.order(rid)
		assert.True(t, held)
	})
	t.Run("500 and routing", func(t *testing.T) {
		e := newEnv(t, withFaults("500-before:any"))
		a := e.rtPost(context.Background(), paths.Pay, e.payFields(e.id(), "PAYPAY", classCode(0), 100))
		require.NoError(t, a.err)
		assert.Equal(t, http.StatusInternalServerError, a.status)
		a = e.rtPost(context.Background(), "/nope", paytree.Fields{})
		assert.Equal(t, http.StatusNotFound, a.status)
	})
	t.Run("ledger", func(t *testing.T) {
		e := newEnv(t, nil)
		rid, _ := e.payOK(100)
		resp, err := (&http.Client{Transport: e.sim.RoundTripper()}).Get("http://x" + sim.LedgerPath)
		require.NoError(t, err)
		defer resp.Body.Close()
		var l sim.Ledger
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&l))
		_, found := l.OrderByRequestID(rid)
		assert.True(t, found)
	})
}

// TestLedgerEndpoint: GET /_sim/ledger is the JSON form of Ledger().
func TestLedgerEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	pid, oid := e.payOK(1000)
	fid, f := e.refund(oid, 400)
	ok(t, f, fid)
	vid, v := e.reverseByRequest("ghost")
	ok(t, v, vid)
	resp, err := e.hc.Get(e.srv.URL + sim.LedgerPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var got sim.Ledger
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	want := e.sim.Ledger()
	require.Len(t, got.Orders, 1)
	assert.Equal(t, want.Requests, got.Requests)
	assert.True(t, want.Orders[0].CreatedAt.Equal(got.Orders[0].CreatedAt))
	got.Orders[0].CreatedAt = want.Orders[0].CreatedAt
	assert.Equal(t, want.Orders, got.Orders)

	o := got.Orders[0]
	assert.Equal(t, sim.Order{OrderID: oid, RequestID: pid, Operation: "pay", PayType: "PAYPAY", Amount: 1000,
		TransStatus: int(paytree.StatusPartiallyRefunded), RefundedTotal: 400, CreatedAt: o.CreatedAt}, o)
	assert.Equal(t, int64(600), o.MoneyHeld())
	assert.Equal(t, []sim.Request{
		{RequestID: pid, Operation: "pay", ResultCode: "0000", OrderID: oid, Amount: 1000, Count: 1},
		{RequestID: fid, Operation: "refund", ResultCode: "0000", OrderID: oid, Amount: 400, Count: 1},
		{RequestID: vid, Operation: "reverse", ResultCode: "0000", TargetRequestID: "ghost", Count: 1},
	}, got.Requests)

	t.Run("empty ledger has empty lists", func(t *testing.T) {
		e := newEnv(t, nil)
		resp, err := e.hc.Get(e.srv.URL + sim.LedgerPath)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.JSONEq(t, `{"orders":[],"requests":[]}`, string(b))
	})
}

// TestTLS: the simulator works behind TLS too.
func TestTLS(t *testing.T) {
	e := newEnv(t, withFaults("lost:pay:count=1"))
	tls := httptest.NewTLSServer(e.sim)
	t.Cleanup(tls.Close)
	e.srv, e.hc = tls, tls.Client()
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 100)
	require.Error(t, e.post(paths.Pay, f).err, "lost over TLS closes the connection")
	a := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.CodeOK, a.code())
}

// TestConcurrentPays: many clients at once; every pay is recorded once.
func TestConcurrentPays(t *testing.T) {
	e := newEnv(t, withFaults("lost:pay:p=0.3"))
	const n = 24
	ids := make([]string, n)
	bodies := make([]paytree.Fields, n)
	for i := range ids {
		ids[i] = e.id()
		bodies[i] = e.payFields(ids[i], "PAYPAY", classCode(0), int64(i+1))
	}
	done := make(chan answer, n)
	for i := range ids {
		go func(i int) { done <- e.rtPost(context.Background(), paths.Pay, bodies[i]) }(i)
	}
	for range ids {
		<-done
	}
	l := e.sim.Ledger()
	assert.Len(t, l.Orders, n)
	assert.Equal(t, int64(n*(n+1)/2), l.MoneyHeld())
}
