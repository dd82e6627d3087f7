package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

// fakeRT is an in-process gateway as a RoundTripper (what test mode plugs
// in): it records each request and answers with the step for that attempt.
type fakeRT struct {
	t     *testing.T
	mu    sync.Mutex
	seen  []*http.Request
	body  [][]byte
	steps []func(req paytree.Fields) (*http.Response, error) // one per attempt; the last repeats
}

func (f *fakeRT) RoundTrip(r *http.Request) (*http.Response, error) {
	raw, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	req, _ := paytree.Decode(raw)
	f.mu.Lock()
	n := len(f.seen)
	f.seen = append(f.seen, r)
	f.body = append(f.body, raw)
	f.mu.Unlock()
	step := f.steps[min(n, len(f.steps)-1)]
	return step(req)
}

func (f *fakeRT) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

// answerResp is a 200 carrying the signed paid answer to req.
func answerResp(t *testing.T) func(req paytree.Fields) (*http.Response, error) {
	return func(req paytree.Fields) (*http.Response, error) {
		body, err := paytree.Encode(signed(t, gatewayKey, paidAnswer(req, nil)))
		require.NoError(t, err)
		return &http.Response{
			StatusCode: 200,
			Status:     "200 OK",
			Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {contentType}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}, nil
	}
}

func failWith(err error) func(paytree.Fields) (*http.Response, error) {
	return func(paytree.Fields) (*http.Response, error) { return nil, err }
}

var (
	errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	errNoHost  = &net.DNSError{Err: "no such host", Name: "gateway.example", IsNotFound: true}
)

// TestRoundTripperOption: a caller's RoundTripper replaces the network but
// the request still goes through retryablehttp, signing and verification.
func TestRoundTripperOption(t *testing.T) {
	testKeys(t)
	rt := &fakeRT{t: t, steps: []func(paytree.Fields) (*http.Response, error){answerResp(t)}}
	o := baseOptions(t, "https://gateway.example")
	o.RoundTripper = rt
	c := newClient(t, o)
	req := payRequest(t)

	res := c.Send(context.Background(), payPath, req)

	require.Equal(t, Answered, res.Outcome, "detail %q err %v", res.Detail, res.Err)
	assert.Equal(t, req[paytree.FRequestID], res.Fields[paytree.FRequestID])
	require.Equal(t, 1, rt.count())
	r := rt.seen[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "https://gateway.example"+payPath, r.URL.String())
	assert.Equal(t, contentType, r.Header.Get("Content-Type"))
	wire, err := paytree.Decode(rt.body[0])
	require.NoError(t, err)
	assert.NoError(t, keys.Verify(&clientKey.PublicKey, []byte(paytree.Canonical(wire)), wire[paytree.FSign]))
	assert.Equal(t, paytree.SignTypeRSA, wire[paytree.FSignType])
}

// TestRoundTripperErrors: with a caller's RoundTripper there is no
// connection trace, so the error itself is the proof: only a dial or DNS
// error counts as not sent (and is retried); anything else is Unknown.
func TestRoundTripperErrors(t *testing.T) {
	testKeys(t)
	type step = func(paytree.Fields) (*http.Response, error)
	tests := []struct {
		name         string
		steps        []step
		wantOut      Outcome
		wantCode     string
		wantDetail   string
		wantAttempts int
	}{
		{name: "refused every time", steps: []step{failWith(errRefused)}, wantOut: NotSent, wantCode: paytree.N0001, wantDetail: "connection refused", wantAttempts: 3},
		{name: "DNS failure every time", steps: []step{failWith(errNoHost)}, wantOut: NotSent, wantCode: paytree.N0001, wantDetail: "DNS lookup failed", wantAttempts: 3},
		{name: "refused then answered", steps: []step{failWith(errRefused), answerResp(t)}, wantOut: Answered, wantAttempts: 2},
		{name: "refused then connection reset", steps: []step{failWith(errRefused), failWith(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)})},
			wantOut: Unknown, wantCode: paytree.N0002, wantDetail: "connection closed before the answer", wantAttempts: 2},
		{name: "EOF", steps: []step{failWith(io.EOF)}, wantOut: Unknown, wantCode: paytree.N0002, wantDetail: "connection closed before the answer", wantAttempts: 1},
		{name: "deadline", steps: []step{failWith(context.DeadlineExceeded)}, wantOut: Unknown, wantCode: paytree.N0002, wantDetail: "timeout after 5s", wantAttempts: 1},
		{name: "unclassified error", steps: []step{failWith(errors.New("something odd"))}, wantOut: Unknown, wantCode: paytree.N0002, wantDetail: "no answer", wantAttempts: 1},
		{name: "dial timeout is not retried", steps: []step{failWith(&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded})},
			wantOut: NotSent, wantCode: paytree.N0001, wantDetail: "connect timeout after 5s", wantAttempts: 1},
		{name: "certificate not trusted", steps: []step{failWith(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})},
			wantOut: NotSent, wantCode: paytree.N0006, wantDetail: "TLS certificate not trusted", wantAttempts: 1},
		{name: "HTTP 502", steps: []step{func(paytree.Fields) (*http.Response, error) {
			return &http.Response{StatusCode: 502, Body: io.NopCloser(bytes.NewReader(nil)), Header: http.Header{}}, nil
		}}, wantOut: Unknown, wantCode: paytree.N0003, wantDetail: "HTTP 502", wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &fakeRT{t: t, steps: tt.steps}
			o := baseOptions(t, "https://gateway.example")
			o.RoundTripper = rt
			c := newClient(t, o)
			res := c.Send(context.Background(), payPath, payRequest(t))
			assert.Equal(t, tt.wantOut, res.Outcome, "detail %q err %v", res.Detail, res.Err)
			assert.Equal(t, tt.wantCode, res.Code)
			if tt.wantDetail != "" {
				assert.Equal(t, tt.wantDetail, res.Detail)
			}
			assert.Equal(t, tt.wantAttempts, res.Attempts, "attempts")
			assert.Equal(t, tt.wantAttempts, rt.count(), "requests the RoundTripper saw")
		})
	}
}
