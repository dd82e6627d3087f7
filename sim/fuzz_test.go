package sim_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// FuzzServe posts arbitrary bodies, unsigned and signed, to every path: the
// simulator never panics and always answers with a signed flat JSON body
// whose resultCode equals errorCode on errors (or closes the connection on
// purpose for a class-2 pay, which it must never do otherwise).
func FuzzServe(f *testing.F) {
	gw, client, _ := testKeys(f)
	e := &env{t: f, terminal: testTerminalID, clock: clockwork.NewFakeClockAt(testStart)}
	for _, seed := range [][]byte{
		[]byte(`{}`), []byte(`not json`), []byte(`{"requestId":"r1"}`), []byte(`{"a":{"b":"c"}}`),
		mustEncode(f, e.payFields("r1", "PAYPAY", classCode(0), 100)),
		mustEncode(f, e.payFields("r2", "", "281234", 100)),
		mustEncode(f, e.refundFields("r3", "PT123", 10)),
		mustEncode(f, e.with("r4", paytree.Fields{paytree.FTargetRequestID: "r1"})),
		mustEncode(f, e.depositFields("r5", "LINE", "BASIC", "36", 100)),
	} {
		for p := uint8(0); p < 7; p++ {
			f.Add(seed, p, true)
		}
		f.Add(seed, uint8(0), false)
	}
	s, err := sim.New(sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, Clock: clockwork.NewFakeClockAt(testStart)})
	require.NoError(f, err)
	srv := httptest.NewServer(s)
	f.Cleanup(srv.Close)
	p := sim.DefaultPaths()
	all := []string{p.Pay, p.PayV1, p.Refund, p.Reverse, p.Confirm, p.ConfirmV1, p.Deposit}

	f.Fuzz(func(t *testing.T, body []byte, pathIdx uint8, sign bool) {
		classTwo := false
		if fields, err := paytree.Decode(body); err == nil && sign {
			delete(fields, paytree.FSign)
			sig, err := keys.Sign(client, []byte(paytree.Canonical(fields)))
			require.NoError(t, err)
			fields[paytree.FSign] = sig
			body, err = paytree.Encode(fields)
			require.NoError(t, err)
			classTwo = bytes.Contains(body, []byte(classCode(2))) || bytes.Contains(body, []byte(`"targetRequestId"`))
		}
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+all[int(pathIdx)%len(all)], bytes.NewReader(body))
		require.NoError(t, err)
		a := readAnswer(t, srv.Client(), req)
		if a.err != nil {
			require.True(t, classTwo, "no answer for %q: %v", body, a.err)
			return
		}
		require.Equal(t, http.StatusOK, a.status, "body %q", a.raw)
		require.NoError(t, a.sigErr)
		code := a.code()
		require.NotEmpty(t, code)
		if code != paytree.CodeOK {
			require.Equal(t, code, a.get(paytree.FErrorCode))
			_, known := paytree.LookupError(code)
			require.True(t, known, "code %s is in the catalog", code)
		}
	})
}

func mustEncode(t testing.TB, f paytree.Fields) []byte {
	b, err := paytree.Encode(f)
	require.NoError(t, err)
	return b
}
