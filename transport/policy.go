package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"

	"github.com/hashicorp/go-retryablehttp"
	"go.uber.org/zap"
)

// exchange is the state of one Send, shared through the request context
// with the trace hook, the attempt counter and the retry policy.
type exchange struct {
	gotConn      atomic.Bool  // net/http handed a connection to the request: it may have been written
	attempts     atomic.Int32 // RoundTrip calls
	retryPending atomic.Bool  // checkRetry chose to retry a not-sent attempt; cleared when the next attempt starts
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// checkRetry replaces retryablehttp's DefaultRetryPolicy, which retries 5xx
// and any connection error whatever the method. It retries only an attempt
// that provably never left the host: no connection was handed to the request
// and the error is a dial error (refused, DNS, unreachable) that is not a
// timeout or a certificate failure. Every response, whatever its status, is
// final. It never returns an error, so the caller sees the real one.
func (c *Client) checkRetry(ctx context.Context, _ *http.Response, err error) (bool, error) {
	if err == nil || ctx.Err() != nil {
		return false, nil
	}
	ex := exchangeFrom(ctx)
	if ex == nil || ex.gotConn.Load() {
		return false, nil
	}
	if !isDialError(err) || isTimeout(err) || isCertError(err) {
		return false, nil
	}
	ex.retryPending.Store(true)
	return true, nil
}

// waitBeforeRetry is retryablehttp's PrepareRetry hook: it waits the
// exponential backoff on the injected clock, or returns the context's error
// if the context ends first (the request is then reported NotSent).
func (c *Client) waitBeforeRetry(r *http.Request) error {
	ctx := r.Context()
	n := 1
	if ex := exchangeFrom(ctx); ex != nil {
		n = int(ex.attempts.Load())
	}
	wait := retryablehttp.DefaultBackoff(c.waitMin, c.waitMax, n-1, nil)
	c.log.Debug("request not sent, reconnecting", zap.Int("attempt", n+1), zap.Duration("wait", wait))
	t := c.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}

// attemptCounter wraps the RoundTripper that does the work (the network
// transport or the caller's) to count attempts.
type attemptCounter struct{ next http.RoundTripper }

// RoundTrip counts the attempt and delegates.
func (a attemptCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if ex := exchangeFrom(r.Context()); ex != nil {
		ex.attempts.Add(1)
		ex.retryPending.Store(false)
	}
	return a.next.RoundTrip(r)
}

// CloseIdleConnections forwards to the wrapped RoundTripper when it has idle
// connections to close.
func (a attemptCounter) CloseIdleConnections() {
	if ci, ok := a.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// isDialError reports whether err says the connection could not be opened:
// a *net.OpError from the "dial" step or a *net.DNSError.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// isCertError reports whether err is a failed verification of the server's
// certificate.
func isCertError(err error) bool {
	var cve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}
