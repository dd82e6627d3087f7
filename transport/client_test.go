package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

const payPath = "/api/v3/pay"

// hijack takes the connection away from net/http; the caller closes it.
func hijack(t testing.TB, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
	}
	return conn, buf
}

// holdSilently takes the connection away from net/http and never answers:
// it reads until the client hangs up. (A handler that merely returned once
// the client gave up would let net/http send an empty 200 that can still
// reach the client.)
func holdSilently(t testing.TB, w http.ResponseWriter, partial string) {
	conn, buf := hijack(t, w)
	defer conn.Close()
	if partial != "" {
		_, _ = buf.WriteString(partial)
		_ = buf.Flush()
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.Copy(io.Discard, conn)
}

// warmUp sends until one exchange on warmPath is answered, so that the
// client holds an idle, already handshaken connection to g, then resets the
// gateway's counter. Tests with a tight Timeout use it so that a slow TLS
// handshake on a loaded machine does not eat the budget.
func warmUp(t *testing.T, c *Client, g *gateway) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if res := c.Send(context.Background(), warmPath, payRequest(t)); res.Outcome == Answered {
			g.hits.Store(0)
			return
		}
	}
	t.Fatal("no warm-up exchange succeeded")
}

const warmPath = "/warm"

// warmOr answers warmPath normally and everything else with f.
func warmOr(f answerFunc) answerFunc {
	return func(t testing.TB, w http.ResponseWriter, r *http.Request, req paytree.Fields) {
		if r.URL.Path == warmPath {
			signedAnswer(nil)(t, w, r, req)
			return
		}
		f(t, w, r, req)
	}
}

// TestSendClassifiesAnswers runs one Send against a gateway behaving in each
// way the contract names and checks the outcome, the code, and that the
// request was sent exactly once (never retried once it may have arrived).
func TestSendClassifiesAnswers(t *testing.T) {
	oversized := strings.Repeat("x", paytree.MaxBodyBytes)
	tests := []struct {
		name       string
		answer     answerFunc
		wantOut    Outcome
		wantCode   string
		wantStatus int
		wantErr    error
		wantDetail string
		check      func(t *testing.T, req paytree.Fields, res Result)
	}{
		{
			name:       "paid",
			answer:     signedAnswer(nil),
			wantOut:    Answered,
			wantStatus: 200,
			check: func(t *testing.T, req paytree.Fields, res Result) {
				assert.Equal(t, paytree.CodeOK, res.Fields[paytree.FResultCode])
				assert.Equal(t, "1", res.Fields[paytree.FTransStatus])
				assert.Equal(t, req[paytree.FRequestID], res.Fields[paytree.FRequestID])
				assert.NoError(t, keys.Verify(&gatewayKey.PublicKey, []byte(paytree.Canonical(res.Fields)), res.Fields[paytree.FSign]),
					"the answer is returned with its verified sign")
			},
		},
		{
			name: "business error",
			answer: signedAnswer(func(a paytree.Fields) {
				for _, k := range []string{paytree.FOrderID, paytree.FTransTime, paytree.FTransStatus} {
					delete(a, k)
				}
				a[paytree.FResultCode] = paytree.E2002
				a[paytree.FErrorCode] = paytree.E2002
				a[paytree.FErrorMessage] = "残高不足"
			}),
			wantOut:    Answered,
			wantStatus: 200,
			check: func(t *testing.T, _ paytree.Fields, res Result) {
				assert.Equal(t, paytree.E2002, res.Fields[paytree.FResultCode])
				assert.Equal(t, "残高不足", res.Fields[paytree.FErrorMessage])
			},
		},
		{
			name:       "unknown extra signed field is accepted and kept",
			answer:     signedAnswer(func(a paytree.Fields) { a["zFuture"] = "値 & = %26 ok" }),
			wantOut:    Answered,
			wantStatus: 200,
			check: func(t *testing.T, _ paytree.Fields, res Result) {
				assert.Equal(t, "値 & = %26 ok", res.Fields["zFuture"])
			},
		},
		{
			name: "answer carrying signType is accepted",
			answer: signedAnswer(func(a paytree.Fields) {
				a[paytree.FSignType] = paytree.SignTypeRSA
			}),
			wantOut:    Answered,
			wantStatus: 200,
		},
		{
			name: "signed by another key",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, req paytree.Fields) {
				reply(t, w, 200, signed(t, strangerKey, paidAnswer(req, nil)))
			},
			wantOut: Unknown, wantCode: paytree.N0005, wantStatus: 200, wantErr: ErrSignature, wantDetail: "bad signature",
		},
		{
			name: "field changed after signing",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, req paytree.Fields) {
				a := signed(t, gatewayKey, paidAnswer(req, nil))
				a[paytree.FTransStatus] = "4"
				reply(t, w, 200, a)
			},
			wantOut: Unknown, wantCode: paytree.N0005, wantStatus: 200, wantErr: keys.ErrSignature, wantDetail: "bad signature",
		},
		{
			name: "sign missing",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, req paytree.Fields) {
				reply(t, w, 200, paidAnswer(req, nil))
			},
			wantOut: Unknown, wantCode: paytree.N0005, wantStatus: 200, wantErr: ErrSignature, wantDetail: "answer not signed",
		},
		{
			name: "sign not base64",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, req paytree.Fields) {
				reply(t, w, 200, paidAnswer(req, paytree.Fields{paytree.FSign: "!!!not base64!!!"}))
			},
			wantOut: Unknown, wantCode: paytree.N0005, wantStatus: 200, wantErr: ErrSignature,
		},
		{
			name:    "requestId of another request",
			answer:  signedAnswer(func(a paytree.Fields) { a[paytree.FRequestID] = "0000000000000000000000000000beef" }),
			wantOut: Unknown, wantCode: paytree.N0004, wantStatus: 200, wantErr: ErrUnreadable, wantDetail: "answer requestId does not match",
		},
		{
			name: "requestId empty (E1001 to an unparseable request)",
			answer: signedAnswer(func(a paytree.Fields) {
				a[paytree.FRequestID] = ""
				a[paytree.FResultCode] = paytree.E1001
			}),
			wantOut: Unknown, wantCode: paytree.N0004, wantStatus: 200, wantErr: ErrUnreadable, wantDetail: "answer has no requestId",
		},
		{
			name: "HTTP 500 with a signed body",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, req paytree.Fields) {
				reply(t, w, 500, signed(t, gatewayKey, paidAnswer(req, nil)))
			},
			wantOut: Unknown, wantCode: paytree.N0003, wantStatus: 500, wantErr: ErrHTTPStatus, wantDetail: "HTTP 500",
		},
		{
			name: "HTTP 503",
			answer: func(_ testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(503)
			},
			wantOut: Unknown, wantCode: paytree.N0003, wantStatus: 503, wantErr: ErrHTTPStatus, wantDetail: "HTTP 503",
		},
		{
			name: "HTTP 404",
			answer: func(_ testing.TB, w http.ResponseWriter, r *http.Request, _ paytree.Fields) {
				http.NotFound(w, r)
			},
			wantOut: Unknown, wantCode: paytree.N0003, wantStatus: 404, wantErr: ErrHTTPStatus, wantDetail: "HTTP 404",
		},
		{
			name: "307 redirect is not followed (it would resend the pay)",
			answer: func(_ testing.TB, w http.ResponseWriter, r *http.Request, _ paytree.Fields) {
				http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			},
			wantOut: Unknown, wantCode: paytree.N0003, wantStatus: 307, wantErr: ErrHTTPStatus, wantDetail: "HTTP 307",
		},
		{
			name: "oversized answer",
			answer: signedAnswer(func(a paytree.Fields) {
				a["padding"] = oversized
			}),
			wantOut: Unknown, wantCode: paytree.N0004, wantStatus: 200, wantErr: ErrUnreadable,
			wantDetail: fmt.Sprintf("answer larger than %d bytes", paytree.MaxBodyBytes),
		},
		{
			name: "garbled JSON",
			answer: func(_ testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
				_, _ = w.Write([]byte(`{"requestId":"abc",`))
			},
			wantOut: Unknown, wantCode: paytree.N0004, wantStatus: 200, wantErr: paytree.ErrMalformed, wantDetail: "answer is not flat JSON",
		},
		{
			name: "nested JSON",
			answer: func(_ testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
				_, _ = w.Write([]byte(`{"requestId":{"a":"b"}}`))
			},
			wantOut: Unknown, wantCode: paytree.N0004, wantStatus: 200, wantErr: ErrUnreadable,
		},
		{
			name:    "empty body",
			answer:  func(_ testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) { w.WriteHeader(200) },
			wantOut: Unknown, wantCode: paytree.N0004, wantStatus: 200, wantErr: ErrUnreadable,
		},
		{
			name: "connection closed before the answer",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
				conn, _ := hijack(t, w)
				_ = conn.Close()
			},
			wantOut: Unknown, wantCode: paytree.N0002, wantStatus: 0, wantErr: ErrNoAnswer, wantDetail: "connection closed before the answer",
		},
		{
			name: "connection closed in the middle of the answer",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
				conn, buf := hijack(t, w)
				_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"requestId\":\"")
				_ = buf.Flush()
				_ = conn.Close()
			},
			wantOut: Unknown, wantCode: paytree.N0004, wantStatus: 200, wantErr: ErrUnreadable, wantDetail: "answer truncated: connection closed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, tt.answer)
			c := clientFor(t, g, nil)
			req := payRequest(t)

			res := c.Send(context.Background(), payPath, req)

			assert.Equal(t, tt.wantOut, res.Outcome, "outcome (detail %q, err %v)", res.Detail, res.Err)
			assert.Equal(t, tt.wantCode, res.Code, "code")
			assert.Equal(t, tt.wantStatus, res.HTTPStatus, "HTTP status")
			assert.EqualValues(t, 1, g.hits.Load(), "requests the gateway saw")
			assert.Equal(t, 1, res.Attempts, "attempts")
			if tt.wantDetail != "" {
				assert.Equal(t, tt.wantDetail, res.Detail, "detail")
			}
			if tt.wantOut == Answered {
				assert.NoError(t, res.Err)
				assert.NotNil(t, res.Fields)
			} else {
				assert.Nil(t, res.Fields, "no unverified answer is handed out")
				assert.ErrorIs(t, res.Err, tt.wantErr)
				assert.NotEmpty(t, res.Detail)
			}
			if tt.check != nil {
				tt.check(t, req, res)
			}
		})
	}
}

// TestRequestOnTheWire checks that the gateway receives exactly the caller's
// fields plus signType=RSA and a sign that verifies with the client's public
// key, as a POST of flat JSON, and that the caller's map is left alone.
func TestRequestOnTheWire(t *testing.T) {
	g := newGateway(t, signedAnswer(nil))
	c := clientFor(t, g, nil)
	req := payRequest(t)
	req[paytree.FSign] = "stale-signature"
	req[paytree.FSignType] = "MD5"
	before := req.Clone()

	res := c.Send(context.Background(), payPath, req)
	require.Equal(t, Answered, res.Outcome, "detail %q err %v", res.Detail, res.Err)

	assert.Equal(t, before, req, "Send must not mutate the caller's fields")
	got := g.lastRequest()
	require.NotNil(t, got, "the gateway decoded the request")
	want := before.Clone()
	delete(want, paytree.FSign)
	want[paytree.FSignType] = paytree.SignTypeRSA
	sig := got[paytree.FSign]
	delete(got, paytree.FSign)
	assert.Equal(t, want, got, "fields on the wire")
	assert.NoError(t, keys.Verify(&clientKey.PublicKey, []byte(paytree.Canonical(got)), sig), "request signature")

	g.mu.Lock()
	defer g.mu.Unlock()
	assert.Equal(t, http.MethodPost, g.method)
	assert.Equal(t, payPath, g.path)
	assert.Equal(t, "application/json; charset=utf-8", g.header.Get("Content-Type"))
}

// TestHTTP1Only: even to a gateway offering HTTP/2, the client speaks
// HTTP/1.1, whose connection semantics the not-sent proof relies on.
func TestHTTP1Only(t *testing.T) {
	var proto atomic.Value
	testKeys(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(r.Proto)
		raw, _ := io.ReadAll(r.Body)
		req, _ := paytree.Decode(raw)
		signedAnswer(nil)(t, w, r, req)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	o := baseOptions(t, srv.URL)
	o.RootCAs = pool
	c := newClient(t, o)
	res := c.Send(context.Background(), payPath, payRequest(t))
	require.Equal(t, Answered, res.Outcome, "detail %q err %v", res.Detail, res.Err)
	assert.Equal(t, "HTTP/1.1", proto.Load())
}

// TestBaseURLPrefix checks that a BaseURL with a path prefix (and a trailing
// slash) is joined to the operation path.
func TestBaseURLPrefix(t *testing.T) {
	g := newGateway(t, signedAnswer(nil))
	c := clientFor(t, g, func(o *Options) { o.BaseURL = g.srv.URL + "/gw/" })
	res := c.Send(context.Background(), payPath, payRequest(t))
	require.Equal(t, Answered, res.Outcome, "detail %q", res.Detail)
	g.mu.Lock()
	defer g.mu.Unlock()
	assert.Equal(t, "/gw"+payPath, g.path)
}

// TestTimeouts: the gateway holds the answer until the client gives up. The
// request may have been processed, so the outcome is Unknown and it is not
// retried.
func TestTimeouts(t *testing.T) {
	tests := []struct {
		name       string
		answer     answerFunc
		wantStatus int
		wantDetail string
	}{
		{
			name: "no status",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
				holdSilently(t, w, "")
			},
			wantDetail: "timeout after 50ms",
		},
		{
			name: "status sent, body held",
			answer: func(t testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
				holdSilently(t, w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"requestId\":")
			},
			wantStatus: 200,
			wantDetail: "timeout after 50ms while reading the answer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, warmOr(tt.answer))
			c := clientFor(t, g, func(o *Options) { o.Timeout = 50 * time.Millisecond })
			warmUp(t, c, g)
			res := c.Send(context.Background(), payPath, payRequest(t))
			assert.Equal(t, Unknown, res.Outcome, "detail %q err %v", res.Detail, res.Err)
			assert.Equal(t, paytree.N0002, res.Code)
			assert.Equal(t, tt.wantDetail, res.Detail)
			assert.Equal(t, tt.wantStatus, res.HTTPStatus)
			assert.ErrorIs(t, res.Err, ErrNoAnswer)
			assert.Equal(t, 1, res.Attempts)
			assert.EqualValues(t, 1, g.hits.Load())
		})
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestConnectionRefusedIsRetriedThenNotSent: a refused connection provably
// sent nothing, so it is retried RetryMax times with backoff on the clock,
// then reported NotSent.
func TestConnectionRefusedIsRetriedThenNotSent(t *testing.T) {
	tests := []struct {
		name         string
		retryMax     int
		wantAttempts int
	}{
		{name: "default retries", retryMax: 0, wantAttempts: 1 + DefaultRetryMax},
		{name: "three retries", retryMax: 3, wantAttempts: 4},
		{name: "retries disabled", retryMax: -1, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := clockwork.NewFakeClock()
			o := baseOptions(t, "https://"+closedPort(t))
			o.RetryMax = tt.retryMax
			o.RetryWaitMin, o.RetryWaitMax = 100*time.Millisecond, time.Second
			o.Clock = clock
			c := newClient(t, o)

			done := make(chan Result, 1)
			go func() { done <- c.Send(context.Background(), payPath, payRequest(t)) }()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for i := 1; i < tt.wantAttempts; i++ {
				// The client waits on the fake clock before each retry.
				require.NoError(t, clock.BlockUntilContext(ctx, 1), "backoff wait %d", i)
				clock.Advance(time.Second)
			}
			var res Result
			select {
			case res = <-done:
			case <-ctx.Done():
				t.Fatal("Send did not return")
			}
			assert.Equal(t, NotSent, res.Outcome, "detail %q err %v", res.Detail, res.Err)
			assert.Equal(t, paytree.N0001, res.Code)
			assert.Equal(t, "connection refused", res.Detail)
			assert.Equal(t, tt.wantAttempts, res.Attempts)
			assert.Equal(t, 0, res.HTTPStatus)
			assert.ErrorIs(t, res.Err, ErrNotSent)
		})
	}
}

// TestCancelWhileWaitingToReconnect: the caller gives up during the backoff
// after a refused connection: nothing was sent.
func TestCancelWhileWaitingToReconnect(t *testing.T) {
	clock := clockwork.NewFakeClock()
	o := baseOptions(t, "https://"+closedPort(t))
	o.Clock = clock
	c := newClient(t, o)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() { done <- c.Send(ctx, payPath, payRequest(t)) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	require.NoError(t, clock.BlockUntilContext(wctx, 1))
	cancel()
	res := <-done
	assert.Equal(t, NotSent, res.Outcome, "detail %q err %v", res.Detail, res.Err)
	assert.Equal(t, paytree.N0001, res.Code)
	assert.Equal(t, "cancelled while waiting to reconnect", res.Detail)
	assert.Equal(t, 1, res.Attempts)
}

// TestCancellation covers a context cancelled before Send (nothing sent) and
// one cancelled while the gateway holds the request (Unknown).
func TestCancellation(t *testing.T) {
	t.Run("before sending", func(t *testing.T) {
		g := newGateway(t, signedAnswer(nil))
		c := clientFor(t, g, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := c.Send(ctx, payPath, payRequest(t))
		assert.Equal(t, NotSent, res.Outcome)
		assert.Equal(t, paytree.N0001, res.Code)
		assert.Equal(t, 0, res.Attempts)
		assert.EqualValues(t, 0, g.hits.Load())
	})
	t.Run("while waiting for the answer", func(t *testing.T) {
		arrived := make(chan struct{})
		g := newGateway(t, func(t testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
			close(arrived)
			holdSilently(t, w, "")
		})
		c := clientFor(t, g, nil)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		res := c.Send(ctx, payPath, payRequest(t))
		assert.Equal(t, Unknown, res.Outcome, "detail %q err %v", res.Detail, res.Err)
		assert.Equal(t, paytree.N0002, res.Code)
		assert.Equal(t, "cancelled while waiting for the answer", res.Detail)
		assert.Equal(t, 1, res.Attempts)
		assert.EqualValues(t, 1, g.hits.Load())
	})
	t.Run("while reading the answer", func(t *testing.T) {
		g := newGateway(t, func(t testing.TB, w http.ResponseWriter, _ *http.Request, _ paytree.Fields) {
			holdSilently(t, w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"requestId\":")
		})
		ctx, cancel := context.WithCancel(context.Background())
		// A network transport wrapped to cancel the caller's context as soon
		// as the status and headers have arrived.
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: g.pool()}}
		t.Cleanup(tr.CloseIdleConnections)
		c := clientFor(t, g, func(o *Options) {
			o.RoundTripper = roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := tr.RoundTrip(r)
				cancel()
				return resp, err
			})
		})
		res := c.Send(ctx, payPath, payRequest(t))
		assert.Equal(t, Unknown, res.Outcome, "detail %q err %v", res.Detail, res.Err)
		assert.Equal(t, paytree.N0002, res.Code)
		assert.Equal(t, 200, res.HTTPStatus)
		assert.Equal(t, "cancelled while reading the answer", res.Detail)
	})
}

// TestUntrustedCertificate: the certificate fails verification during the
// handshake, before any request byte is written: NotSent with N0006, not
// retried; InsecureSkipVerify (IgnoreCertificateError) accepts it.
func TestUntrustedCertificate(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		g := newGateway(t, signedAnswer(nil))
		c := clientFor(t, g, func(o *Options) { o.RootCAs = x509EmptyPool() })
		res := c.Send(context.Background(), payPath, payRequest(t))
		assert.Equal(t, NotSent, res.Outcome, "detail %q err %v", res.Detail, res.Err)
		assert.Equal(t, paytree.N0006, res.Code)
		assert.ErrorIs(t, res.Err, ErrCertificate)
		assert.Equal(t, 1, res.Attempts, "a bad certificate is not retried")
		assert.EqualValues(t, 0, g.hits.Load())
	})
	t.Run("system pool does not know the test CA", func(t *testing.T) {
		g := newGateway(t, signedAnswer(nil))
		c := clientFor(t, g, func(o *Options) { o.RootCAs = nil })
		res := c.Send(context.Background(), payPath, payRequest(t))
		assert.Equal(t, NotSent, res.Outcome, "detail %q err %v", res.Detail, res.Err)
		assert.Equal(t, paytree.N0006, res.Code)
		assert.EqualValues(t, 0, g.hits.Load())
	})
	t.Run("InsecureSkipVerify accepts it", func(t *testing.T) {
		g := newGateway(t, signedAnswer(nil))
		c := clientFor(t, g, func(o *Options) {
			o.RootCAs = nil
			o.InsecureSkipVerify = true
		})
		res := c.Send(context.Background(), payPath, payRequest(t))
		assert.Equal(t, Answered, res.Outcome, "detail %q err %v", res.Detail, res.Err)
		assert.EqualValues(t, 1, g.hits.Load())
	})
}

// TestHandshakeTimeoutIsNotSent: a peer that accepts TCP but never finishes
// the TLS handshake gets no request byte: NotSent (N0001), not retried.
func TestHandshakeTimeoutIsNotSent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	var received int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() { // read and discard, to count any bytes that come
				defer wg.Done()
				buf := make([]byte, 4096)
				for {
					n, err := conn.Read(buf)
					mu.Lock()
					received += n
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})

	o := baseOptions(t, "https://"+l.Addr().String())
	o.Timeout = 50 * time.Millisecond
	c := newClient(t, o)
	res := c.Send(context.Background(), payPath, payRequest(t))
	assert.Equal(t, NotSent, res.Outcome, "detail %q err %v", res.Detail, res.Err)
	assert.Equal(t, paytree.N0001, res.Code)
	assert.Equal(t, "connect timeout after 50ms", res.Detail)
	assert.Equal(t, 1, res.Attempts, "a timeout is not retried")
}

// TestSendRefusesBadInput: what cannot be sent is not attempted.
func TestSendRefusesBadInput(t *testing.T) {
	g := newGateway(t, signedAnswer(nil))
	c := clientFor(t, g, nil)
	tests := []struct {
		name     string
		path     string
		edit     func(paytree.Fields)
		wantCode string
	}{
		{name: "path without slash", path: "api/v3/pay", wantCode: paytree.L0003},
		{name: "path with query", path: "/api/v3/pay?x=1", wantCode: paytree.L0003},
		{name: "path with space", path: "/api/v3 pay", wantCode: paytree.L0003},
		{name: "requestId missing", path: payPath, edit: func(f paytree.Fields) { delete(f, paytree.FRequestID) }, wantCode: paytree.L0003},
		{name: "requestId invalid", path: payPath, edit: func(f paytree.Fields) { f[paytree.FRequestID] = "bad id!" }, wantCode: paytree.L0003},
		{name: "field name invalid", path: payPath, edit: func(f paytree.Fields) { f["bad-name"] = "x" }, wantCode: paytree.L0003},
		{name: "request too large", path: payPath, edit: func(f paytree.Fields) { f[paytree.FRemark] = strings.Repeat("r", paytree.MaxBodyBytes) }, wantCode: paytree.L0003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := payRequest(t)
			if tt.edit != nil {
				tt.edit(req)
			}
			res := c.Send(context.Background(), tt.path, req)
			assert.Equal(t, NotSent, res.Outcome)
			assert.Equal(t, tt.wantCode, res.Code)
			assert.ErrorIs(t, res.Err, ErrRequest)
			assert.Equal(t, 0, res.Attempts)
		})
	}
	assert.EqualValues(t, 0, g.hits.Load(), "nothing reached the gateway")
}

// TestCrashPoints: Send passes transport/send/before then
// transport/receive/after; a hook failing at either stops the exchange there
// with the matching outcome.
func TestCrashPoints(t *testing.T) {
	tests := []struct {
		name     string
		failAt   string
		wantOut  Outcome
		wantCode string
		wantHits int32
		wantSeen []string
	}{
		{name: "none armed", wantOut: Answered, wantHits: 1, wantSeen: []string{PointSendBefore, PointReceiveAfter}},
		{name: "fail before send", failAt: PointSendBefore, wantOut: NotSent, wantCode: paytree.N0001, wantHits: 0, wantSeen: []string{PointSendBefore}},
		{name: "fail after receive", failAt: PointReceiveAfter, wantOut: Unknown, wantCode: paytree.N0002, wantHits: 1, wantSeen: []string{PointSendBefore, PointReceiveAfter}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, signedAnswer(nil))
			c := clientFor(t, g, nil)
			var mu sync.Mutex
			var seen []string
			boom := errors.New("crash here")
			restore := crashpoint.Set(func(name string) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, name)
				if name == tt.failAt {
					return boom
				}
				return nil
			})
			res := c.Send(context.Background(), payPath, payRequest(t))
			restore()
			assert.Equal(t, tt.wantOut, res.Outcome, "detail %q err %v", res.Detail, res.Err)
			assert.Equal(t, tt.wantCode, res.Code)
			assert.Equal(t, tt.wantHits, g.hits.Load())
			assert.Equal(t, tt.wantSeen, seen)
			if tt.failAt != "" {
				assert.ErrorIs(t, res.Err, boom)
			}
		})
	}
}

// TestConcurrentSends: one Client serves concurrent Sends, each getting its
// own answer.
func TestConcurrentSends(t *testing.T) {
	g := newGateway(t, signedAnswer(nil))
	c := clientFor(t, g, nil)
	const n = 8
	var wg sync.WaitGroup
	results := make([]Result, n)
	reqs := make([]paytree.Fields, n)
	for i := range n {
		reqs[i] = payRequest(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.Send(context.Background(), payPath, reqs[i])
		}()
	}
	wg.Wait()
	for i, res := range results {
		assert.Equal(t, Answered, res.Outcome, "send %d: %q", i, res.Detail)
		assert.Equal(t, reqs[i][paytree.FRequestID], res.Fields[paytree.FRequestID], "send %d echo", i)
	}
	assert.EqualValues(t, n, g.hits.Load())
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Answered: "answered", NotSent: "not-sent", Unknown: "unknown", 0: "Outcome(0)", 9: "Outcome(9)"} {
		assert.Equal(t, want, o.String())
	}
}
