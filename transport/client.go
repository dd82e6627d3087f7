package transport

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

// Crash points passed by Send (see internal/crashpoint).
const (
	PointSendBefore   = crashpoint.TransportSendBefore
	PointReceiveAfter = crashpoint.TransportReceiveAfter
)

const (
	contentType = "application/json; charset=utf-8"
	userAgent   = "wbpay-transport/1"
)

// Client sends signed requests to one gateway. It is safe for concurrent use.
type Client struct {
	base         string
	timeout      time.Duration
	priv         *rsa.PrivateKey
	gateway      *rsa.PublicKey
	log          *zap.Logger
	logExchanges bool
	clock        clockwork.Clock
	waitMin      time.Duration
	waitMax      time.Duration
	ownTransport bool                                  // true: our own *http.Transport, where httptrace proves "not sent"
	proxy        func(*http.Request) (*url.URL, error) // the network transport's proxy rule (Reachable probes the proxy)
	http         *retryablehttp.Client
}

// New validates opts and builds a Client. Without a RoundTripper it uses its
// own HTTP/1.1 transport with TLS 1.2 or later; http:// is refused unless the
// host is loopback. Errors wrap ErrOptions and name the option at fault.
func New(opts Options) (*Client, error) {
	o, base, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:         base,
		timeout:      o.Timeout,
		priv:         o.PrivateKey,
		gateway:      o.GatewayKey,
		log:          o.Logger.Named("transport"),
		logExchanges: o.LogExchanges,
		clock:        o.Clock,
		waitMin:      o.RetryWaitMin,
		waitMax:      o.RetryWaitMax,
		ownTransport: o.RoundTripper == nil,
		proxy:        http.ProxyFromEnvironment,
	}
	next := o.RoundTripper
	if next == nil {
		next = newNetTransport(o)
		if o.InsecureSkipVerify {
			c.log.Warn("gateway TLS certificate is not verified (IgnoreCertificateError)", zap.String("server-url", base))
		}
	}
	c.http = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: attemptCounter{next: next},
			Timeout:   o.Timeout,
			// Never follow a redirect: a 307/308 would resend the pay to
			// another URL, a 301/302/303 would turn it into a GET. The 3xx
			// itself is reported as N0003 (Unknown).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Logger:       leveledLogger{s: c.log.Named("retryablehttp").Sugar()},
		RetryMax:     o.RetryMax,
		RetryWaitMin: o.RetryWaitMin,
		RetryWaitMax: o.RetryWaitMax,
		CheckRetry:   c.checkRetry,
		// retryablehttp sleeps between attempts on a real timer of the
		// duration Backoff returns and offers no clock hook, so Backoff
		// returns 0 and PrepareRetry, which runs right after that sleep with
		// the request (and so its context) in hand, waits on the injected
		// clock instead. Tests drive the backoff with a fake clock.
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		PrepareRetry: c.waitBeforeRetry,
		// Keep the real error and response of the last attempt (the default
		// handler would replace the error with "giving up after N attempts").
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
}

// newNetTransport builds the network transport: HTTP/1.1 only (its
// "nothing written" semantics are the ones the not-sent proof relies on),
// TLS 1.2 or later, no compression (the body cap then counts wire bytes).
func newNetTransport(o Options) *http.Transport {
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: dialer.DialContext,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			RootCAs:            o.RootCAs,
			InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // IgnoreCertificateError, warned about in New
		},
		TLSHandshakeTimeout: o.Timeout,
		// A non-nil empty map disables HTTP/2.
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableCompression:  true,
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 2,
		// A request written on a kept-alive connection that the gateway
		// closes at the same moment comes back as Unknown (never resent);
		// dropping idle connections early makes that rarer.
		IdleConnTimeout: 30 * time.Second,
	}
}

// Close closes idle connections. The Client stays usable.
func (c *Client) Close() { c.http.HTTPClient.CloseIdleConnections() }

// Send signs a copy of req (signType=RSA, sign over paytree.Canonical), POSTs
// it as flat JSON to BaseURL+path and classifies the result (see Outcome). It
// never mutates req and never resends a request that may have left the host.
func (c *Client) Send(ctx context.Context, path string, req paytree.Fields) Result {
	start := c.clock.Now()
	ex := &exchange{}
	res, wire, answer := c.send(ctx, ex, path, req)
	res.Attempts = int(ex.attempts.Load())
	res.Duration = c.clock.Since(start)
	c.report(path, req, wire, answer, res)
	return res
}

// send does the work of Send; it also returns the signed wire fields and the
// decoded (maybe unverified) answer for the exchange log.
func (c *Client) send(ctx context.Context, ex *exchange, path string, req paytree.Fields) (res Result, wire, answer paytree.Fields) {
	if err := checkPath(path); err != nil {
		return fail(NotSent, paytree.L0003, ErrRequest, err, "invalid path"), nil, nil
	}
	id := req[paytree.FRequestID]
	if !paytree.ValidRequestID(id) {
		return fail(NotSent, paytree.L0003, ErrRequest, nil, "requestId missing or invalid"), nil, nil
	}
	wire = req.Clone()
	delete(wire, paytree.FSign)
	wire[paytree.FSignType] = paytree.SignTypeRSA
	sig, err := keys.Sign(c.priv, []byte(paytree.Canonical(wire)))
	if err != nil {
		return fail(NotSent, paytree.L0002, ErrRequest, err, "request could not be signed"), nil, nil
	}
	wire[paytree.FSign] = sig
	body, err := paytree.Encode(wire)
	if err != nil {
		return fail(NotSent, paytree.L0003, ErrRequest, err, "request could not be encoded"), nil, nil
	}
	if len(body) > paytree.MaxBodyBytes {
		return fail(NotSent, paytree.L0003, ErrRequest, nil, fmt.Sprintf("request of %d bytes exceeds %d", len(body), paytree.MaxBodyBytes)), wire, nil
	}
	if err := ctx.Err(); err != nil {
		return fail(NotSent, paytree.N0001, ErrNotSent, err, "cancelled before sending"), wire, nil
	}

	tctx := httptrace.WithClientTrace(context.WithValue(ctx, exchangeKey{}, ex), &httptrace.ClientTrace{
		// net/http calls GotConn (HTTP/1) once a connection, dialled and
		// TLS-handshaken, is handed to this request; the request is only
		// ever written to such a connection.
		GotConn: func(httptrace.GotConnInfo) { ex.gotConn.Store(true) },
	})
	hreq, err := retryablehttp.NewRequestWithContext(tctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return fail(NotSent, paytree.L0003, ErrRequest, err, "invalid URL"), wire, nil
	}
	hreq.Header.Set("Content-Type", contentType)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", userAgent)

	if err := crashpoint.Hit(PointSendBefore); err != nil {
		return fail(NotSent, paytree.N0001, ErrNotSent, err, "stopped before sending"), wire, nil
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		if resp != nil { // not expected with PassthroughErrorHandler and no response handler, but never leak a body
			_ = resp.Body.Close()
		}
		return c.classify(ctx, ex, err), wire, nil
	}
	defer resp.Body.Close()
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, paytree.MaxBodyBytes+1))
	if err := crashpoint.Hit(PointReceiveAfter); err != nil {
		res = fail(Unknown, paytree.N0002, ErrNoAnswer, err, "stopped after receiving")
		res.HTTPStatus = resp.StatusCode
		return res, wire, nil
	}
	res, answer = c.judge(ctx, id, resp.StatusCode, raw, readErr)
	res.HTTPStatus = resp.StatusCode
	return res, wire, answer
}

// judge classifies a received response: status, body, signature, echo.
func (c *Client) judge(ctx context.Context, id string, status int, raw []byte, readErr error) (Result, paytree.Fields) {
	if status != http.StatusOK {
		return fail(Unknown, paytree.N0003, ErrHTTPStatus, nil, fmt.Sprintf("HTTP %d", status)), nil
	}
	if readErr != nil {
		switch {
		case errors.Is(ctx.Err(), context.Canceled):
			return fail(Unknown, paytree.N0002, ErrNoAnswer, readErr, "cancelled while reading the answer"), nil
		case ctx.Err() != nil:
			return fail(Unknown, paytree.N0002, ErrNoAnswer, readErr, "caller's deadline passed while reading the answer"), nil
		case isTimeout(readErr):
			return fail(Unknown, paytree.N0002, ErrNoAnswer, readErr, fmt.Sprintf("timeout after %s while reading the answer", c.timeout)), nil
		}
		return fail(Unknown, paytree.N0004, ErrUnreadable, readErr, "answer truncated: connection closed"), nil
	}
	if len(raw) > paytree.MaxBodyBytes {
		return fail(Unknown, paytree.N0004, ErrUnreadable, nil, fmt.Sprintf("answer larger than %d bytes", paytree.MaxBodyBytes)), nil
	}
	answer, err := paytree.Decode(raw)
	if err != nil {
		return fail(Unknown, paytree.N0004, ErrUnreadable, err, "answer is not flat JSON"), nil
	}
	sig := answer[paytree.FSign]
	if sig == "" {
		return fail(Unknown, paytree.N0005, ErrSignature, nil, "answer not signed"), answer
	}
	if err := keys.Verify(c.gateway, []byte(paytree.Canonical(answer)), sig); err != nil {
		return fail(Unknown, paytree.N0005, ErrSignature, err, "bad signature"), answer
	}
	switch echo := answer[paytree.FRequestID]; {
	case echo == "":
		return fail(Unknown, paytree.N0004, ErrUnreadable, nil, "answer has no requestId"), answer
	case echo != id:
		return fail(Unknown, paytree.N0004, ErrUnreadable, nil, "answer requestId does not match"), answer
	}
	return Result{Outcome: Answered, Fields: answer}, answer
}

// classify turns an error from the HTTP exchange (no response) into a Result.
func (c *Client) classify(ctx context.Context, ex *exchange, err error) Result {
	cert := isCertError(err)
	// Provably not sent: no connection was ever handed to the request (our
	// own transport, where GotConn is traced), or the error itself says the
	// attempt died in dialling or in the TLS handshake, or the last attempt
	// was not sent and the context ended while waiting to retry.
	notSent := !ex.gotConn.Load() &&
		(c.ownTransport || cert || ex.retryPending.Load() || isDialError(err))
	if cert {
		// The certificate is verified during the TLS handshake, which
		// completes before net/http hands the connection to the request,
		// so no byte of the request was written: NotSent. It is not
		// retried (checkRetry): an untrusted certificate does not become
		// trusted in a second, and retrying would only hide a
		// misconfiguration or an interception.
		o := NotSent
		if !notSent {
			o = Unknown
		}
		return fail(o, paytree.N0006, ErrCertificate, err, "TLS certificate not trusted")
	}
	if notSent {
		return fail(NotSent, paytree.N0001, ErrNotSent, err, c.describeNotSent(ctx, ex, err))
	}
	return fail(Unknown, paytree.N0002, ErrNoAnswer, err, c.describeNoAnswer(ctx, err))
}

func (c *Client) describeNotSent(ctx context.Context, ex *exchange, err error) string {
	var dns *net.DNSError
	switch {
	case ctx.Err() != nil && ex.retryPending.Load():
		return "cancelled while waiting to reconnect"
	case ctx.Err() != nil:
		return "cancelled before the request was sent"
	case isTimeout(err):
		return fmt.Sprintf("connect timeout after %s", c.timeout)
	case isRefused(err):
		return "connection refused"
	case errors.As(err, &dns):
		return "DNS lookup failed"
	case isDialError(err):
		return "could not connect"
	}
	return "connection setup failed"
}

func (c *Client) describeNoAnswer(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "cancelled while waiting for the answer"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "caller's deadline passed while waiting for the answer"
	case isTimeout(err):
		return fmt.Sprintf("timeout after %s", c.timeout)
	case isClosed(err):
		return "connection closed before the answer"
	}
	return "no answer"
}

// fail builds a non-Answered Result whose Err wraps sentinel and cause.
func fail(o Outcome, code string, sentinel, cause error, detail string) Result {
	err := fmt.Errorf("%w: %s", sentinel, detail)
	if cause != nil {
		err = fmt.Errorf("%w: %s: %w", sentinel, detail, cause)
	}
	return Result{Outcome: o, Code: code, Detail: detail, Err: err}
}

// checkPath accepts an absolute path of printable ASCII without query,
// fragment or spaces.
func checkPath(p string) error {
	if p == "" || p[0] != '/' {
		return fmt.Errorf("path %q must start with '/'", p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '?' || c == '#' {
			return fmt.Errorf("path %q: character %q not allowed", p, c)
		}
	}
	return nil
}

// Reachable reports whether the gateway (or the proxy the environment sets
// for it) accepts a TCP connection within the timeout. It sends nothing:
// recovery uses it to learn that an unreachable gateway is back before it
// journals another attempt. With a RoundTripper (test mode) there is no
// network to probe and it returns nil.
func (c *Client) Reachable(ctx context.Context) error {
	if !c.ownTransport {
		return nil
	}
	u, err := url.Parse(c.base)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotSent, err)
	}
	req := &http.Request{Method: http.MethodPost, URL: u, Header: http.Header{}}
	if p, err := c.proxy(req); err == nil && p != nil {
		u = p
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotSent, u.Host, err)
	}
	return conn.Close()
}
