package transport

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Test-only keys, generated once per test binary (never written to disk).
var (
	keysOnce                           sync.Once
	clientKey, gatewayKey, strangerKey *rsa.PrivateKey
	errKeys                            error
)

// A customer's code (PayPay prefix) and its masked form in logs.
const (
	testUserCode       = "281234567890123456"
	testUserCodeMasked = "28************3456"
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		for _, k := range []**rsa.PrivateKey{&clientKey, &gatewayKey, &strangerKey} {
			if *k, errKeys = keys.NewKey(); errKeys != nil {
				return
			}
		}
	})
	require.NoError(t, errKeys)
}

// newRequestID returns a fresh 32-hex-digit requestId.
func newRequestID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// payRequest returns the fields of a pay request as the engine would build them.
func payRequest(t testing.TB) paytree.Fields {
	return paytree.Fields{
		paytree.FMerchantID:       "123456789012",
		paytree.FTerminalUniqueID: "ABCDE0123456T",
		paytree.FBranchCode:       "B001",
		paytree.FTerminalCode:     "T01",
		paytree.FLocale:           paytree.FixedLocale,
		paytree.FTimeZone:         paytree.FixedTimeZone,
		paytree.FCurrencyCode:     paytree.FixedCurrencyCode,
		paytree.FAppVersion:       paytree.DefaultAppVersion,
		paytree.FRequestID:        newRequestID(t),
		paytree.FRequestTime:      "20250102030405",
		paytree.FPayType:          "PAYPAY",
		paytree.FAmount:           "1000",
		paytree.FUserCode:         testUserCode,
		paytree.FRemark:           "a&b=c%d 日本",
	}
}

// signed returns a copy of f signed with key.
func signed(t testing.TB, key *rsa.PrivateKey, f paytree.Fields) paytree.Fields {
	out := f.Clone()
	delete(out, paytree.FSign)
	sig, err := keys.Sign(key, []byte(paytree.Canonical(out)))
	if err != nil {
		t.Errorf("sign: %v", err)
	}
	out[paytree.FSign] = sig
	return out
}

// paidAnswer is the gateway's success answer to req, plus extra fields,
// unsigned.
func paidAnswer(req paytree.Fields, extra paytree.Fields) paytree.Fields {
	a := paytree.Fields{
		paytree.FRequestID:    req[paytree.FRequestID],
		paytree.FResponseTime: "20250102030406",
		paytree.FResultCode:   paytree.CodeOK,
		paytree.FOrderID:      "0123456789abcdef0123456789abcdef",
		paytree.FTransTime:    "20250102030406",
		paytree.FAmount:       req[paytree.FAmount],
		paytree.FTransStatus:  "1",
		paytree.FPayType:      req[paytree.FPayType],
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// reply writes f as the answer body with the given status.
func reply(t testing.TB, w http.ResponseWriter, status int, f paytree.Fields) {
	body, err := paytree.Encode(f)
	if err != nil {
		t.Errorf("encode answer: %v", err)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// answerFunc is the behaviour of the fake gateway for one test; req is the
// decoded request (nil when it did not decode).
type answerFunc func(t testing.TB, w http.ResponseWriter, r *http.Request, req paytree.Fields)

// signedAnswer answers every request with a 200 and the paid answer signed
// by the gateway's key, after edit (if any) changed the unsigned fields.
func signedAnswer(edit func(a paytree.Fields)) answerFunc {
	return func(t testing.TB, w http.ResponseWriter, _ *http.Request, req paytree.Fields) {
		a := paidAnswer(req, nil)
		if edit != nil {
			edit(a)
		}
		reply(t, w, http.StatusOK, signed(t, gatewayKey, a))
	}
}

// gateway is a tiny signed PAYTREE stand-in on a loopback TLS server with a
// throwaway CA (httptest). It records what it received.
type gateway struct {
	srv    *httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	reqs   []paytree.Fields
	header http.Header
	method string
	path   string
}

func newGateway(t *testing.T, answer answerFunc) *gateway {
	t.Helper()
	testKeys(t)
	g := &gateway{}
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.hits.Add(1)
		raw, err := io.ReadAll(io.LimitReader(r.Body, paytree.MaxBodyBytes+1))
		if err != nil {
			t.Errorf("gateway read: %v", err)
		}
		req, _ := paytree.Decode(raw)
		g.mu.Lock()
		g.reqs = append(g.reqs, req)
		g.header = r.Header.Clone()
		g.method, g.path = r.Method, r.URL.Path
		g.mu.Unlock()
		answer(t, w, r, req)
	}))
	g.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected in some tests
	g.srv.StartTLS()
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) lastRequest() paytree.Fields {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) == 0 {
		return nil
	}
	return g.reqs[len(g.reqs)-1]
}

func (g *gateway) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(g.srv.Certificate())
	return p
}

// baseOptions returns options for a client of g (or of url when g is nil)
// with tiny retry waits and a test logger; mod adjusts them.
func baseOptions(t *testing.T, url string) Options {
	testKeys(t)
	return Options{
		BaseURL:      url,
		Timeout:      5 * time.Second,
		PrivateKey:   clientKey,
		GatewayKey:   &gatewayKey.PublicKey,
		Logger:       zaptest.NewLogger(t),
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 2 * time.Millisecond,
	}
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// clientFor returns a client that trusts g's certificate.
func clientFor(t *testing.T, g *gateway, mod func(*Options)) *Client {
	t.Helper()
	o := baseOptions(t, g.srv.URL)
	o.RootCAs = g.pool()
	if mod != nil {
		mod(&o)
	}
	return newClient(t, o)
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// x509EmptyPool trusts nothing.
func x509EmptyPool() *x509.CertPool { return x509.NewCertPool() }
