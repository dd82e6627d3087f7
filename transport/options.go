package transport

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/keys"
)

// Defaults applied by New to zero options.
const (
	DefaultTimeout      = 100 * time.Second // library spec 2.6 HttpTimeout
	DefaultRetryMax     = 2
	DefaultRetryWaitMin = 100 * time.Millisecond
	DefaultRetryWaitMax = time.Second
)

// Options configures a Client. PrivateKey, GatewayKey and BaseURL are
// required; every other zero value takes its default.
type Options struct {
	BaseURL            string            // ServerURL; https required unless the host is loopback
	Timeout            time.Duration     // HttpTimeout: whole exchange (DNS, connect, TLS, request, answer), per attempt; 0 = DefaultTimeout
	InsecureSkipVerify bool              // IgnoreCertificateError
	RootCAs            *x509.CertPool    // trusted roots when set (it replaces the system pool); nil = system pool
	RoundTripper       http.RoundTripper // if set, used instead of a network transport (test mode: the simulator's in-process RoundTripper); same retry, signing and verification path
	PrivateKey         *rsa.PrivateKey   // signs requests (required)
	GatewayKey         *rsa.PublicKey    // verifies answers (required)
	Logger             *zap.Logger       // nil = nop
	LogExchanges       bool              // log every exchange at Debug with its fields (userCode masked, sign omitted)
	RetryMax           int               // connect retries when NotSent; 0 = DefaultRetryMax, negative = none
	RetryWaitMin       time.Duration     // backoff lower bound; 0 = DefaultRetryWaitMin
	RetryWaitMax       time.Duration     // backoff upper bound; 0 = DefaultRetryWaitMax
	Clock              clockwork.Clock   // backoff waits and durations; nil = real
}

// withDefaults validates o and returns it with defaults filled in, plus the
// parsed base URL (no trailing slash).
func (o Options) withDefaults() (Options, string, error) {
	base, err := checkBaseURL(o.BaseURL)
	if err != nil {
		return o, "", err
	}
	if o.PrivateKey == nil {
		return o, "", fmt.Errorf("%w: PrivateKey is required", ErrOptions)
	}
	if n := o.PrivateKey.N.BitLen(); n < keys.MinBits {
		return o, "", fmt.Errorf("%w: PrivateKey has %d bits, want at least %d", ErrOptions, n, keys.MinBits)
	}
	if o.GatewayKey == nil || o.GatewayKey.N == nil {
		return o, "", fmt.Errorf("%w: GatewayKey is required", ErrOptions)
	}
	if n := o.GatewayKey.N.BitLen(); n < keys.MinBits {
		return o, "", fmt.Errorf("%w: GatewayKey has %d bits, want at least %d", ErrOptions, n, keys.MinBits)
	}
	switch {
	case o.Timeout < 0:
		return o, "", fmt.Errorf("%w: Timeout %s is negative", ErrOptions, o.Timeout)
	case o.Timeout == 0:
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.RetryMax < 0:
		o.RetryMax = 0
	case o.RetryMax == 0:
		o.RetryMax = DefaultRetryMax
	}
	if o.RetryWaitMin < 0 || o.RetryWaitMax < 0 {
		return o, "", fmt.Errorf("%w: RetryWaitMin/RetryWaitMax must not be negative", ErrOptions)
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin = DefaultRetryWaitMin
	}
	if o.RetryWaitMax == 0 {
		o.RetryWaitMax = DefaultRetryWaitMax
	}
	if o.RetryWaitMax < o.RetryWaitMin {
		return o, "", fmt.Errorf("%w: RetryWaitMax %s is below RetryWaitMin %s", ErrOptions, o.RetryWaitMax, o.RetryWaitMin)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	return o, base, nil
}

// checkBaseURL accepts https://host[:port][/prefix], and http:// only when
// the host is loopback (the simulator). It refuses user info, queries and
// fragments, which would leak into logs or change the request.
func checkBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: BaseURL is required", ErrOptions)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: BaseURL: %v", ErrOptions, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%w: BaseURL %q has no host", ErrOptions, raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("%w: BaseURL %q must not carry user info, a query or a fragment", ErrOptions, raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("%w: BaseURL %q: plain http is allowed only to a loopback host, use https", ErrOptions, raw)
		}
	default:
		return "", fmt.Errorf("%w: BaseURL %q: scheme must be https", ErrOptions, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
