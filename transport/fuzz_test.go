package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

// fuzzRequestID is the fixed requestId of the fuzzed exchange, so seeds can
// carry a matching echo.
const fuzzRequestID = "0123456789abcdef0123456789abcdef"

// FuzzAnswer feeds arbitrary answer bodies (HTTP 200) through the whole Send
// path. It must never panic, never report NotSent (the request was
// delivered), and report Answered only for a body whose sign verifies with
// the gateway's key and whose requestId echoes the request's.
func FuzzAnswer(f *testing.F) {
	// Test-only keys from testdata: fuzz workers start often, and generating
	// RSA keys in each would starve them.
	client, err := keys.LoadPrivate("testdata/test-only-client.key")
	if err != nil {
		f.Fatal(err)
	}
	gw, err := keys.LoadPrivate("testdata/test-only-gateway.key")
	if err != nil {
		f.Fatal(err)
	}
	req := payRequest(f)
	req[paytree.FRequestID] = fuzzRequestID
	good, err := paytree.Encode(signed(f, gw, paidAnswer(req, paytree.Fields{"x": "a&b=%"})))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`"1000"`), []byte(`"9000"`), 1))
	f.Add([]byte(`{"requestId":"` + fuzzRequestID + `","sign":"AAAA"}`))
	f.Add([]byte(`{"requestId":"` + fuzzRequestID + `","requestId":"x"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte{0xff, 0xfe})

	var body []byte
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}, nil
	})
	c, err := New(Options{
		BaseURL:      "https://gateway.example",
		PrivateKey:   client,
		GatewayKey:   &gw.PublicKey,
		RoundTripper: rt,
	})
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()

	f.Fuzz(func(t *testing.T, b []byte) {
		body = b
		res := c.Send(context.Background(), payPath, req)
		switch res.Outcome {
		case Answered:
			if res.Fields[paytree.FRequestID] != fuzzRequestID {
				t.Fatalf("answered with requestId %q", res.Fields[paytree.FRequestID])
			}
			if err := keys.Verify(&gw.PublicKey, []byte(paytree.Canonical(res.Fields)), res.Fields[paytree.FSign]); err != nil {
				t.Fatalf("answered with an unverified answer: %v", err)
			}
		case Unknown:
			if res.Code != paytree.N0004 && res.Code != paytree.N0005 {
				t.Fatalf("unexpected code %s (%s) for a 200 answer", res.Code, res.Detail)
			}
			if res.Fields != nil {
				t.Fatal("unverified fields handed out")
			}
		default:
			t.Fatalf("outcome %v for a delivered request", res.Outcome)
		}
	})
}
