package sim_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// FuzzStore loads arbitrary bytes as a store file. New never panics: it
// either refuses the file with ErrStore, leaving it as it was, or serves a
// history on which confirms, refunds and reverses of everything it holds
// are answered without a panic, and that it saves in a file a new
// simulator loads again.
func FuzzStore(f *testing.F) {
	gw, client, _ := testKeys(f)
	// Seeds: a real store holding every kind of history, and damaged ones.
	seedPath := filepath.Join(f.TempDir(), "seed.json")
	e := newEnv(f, func(c *sim.Config) { c.Store = seedPath })
	_, oid := e.payOK(1000)
	e.refund(oid, 100)
	e.deposit("LINE", 300)
	e.pay("PAYPAY", classCode(1), 50)
	e.pay("PAYPAY", classCode(2), 60)
	e.pay("PAYPAY", classCode(4), 70)
	e.payV1("281234567890123456", 80)
	e.reverseByRequest("never-sent")
	e.reverseByOrder(oid)
	e.confirm("req-0001", false)
	e.srv.Close()
	seed, err := os.ReadFile(seedPath)
	require.NoError(f, err)
	f.Add(seed)
	f.Add(seed[:len(seed)/3])
	f.Add([]byte(`{"version":1,"orders":[],"requests":[],"tombstones":[]}`))
	f.Add([]byte(`{"version":1,"orders":null,"requests":[{"route":"Pay","terminalUniqueId":"ABCDE0123456T","requestId":"x","answer":{"resultCode":"0000"},"count":1}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "store.json")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		clock := clockwork.NewFakeClockAt(testStart)
		cfg := sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, Clock: clock, Store: path}
		s, err := sim.New(cfg)
		if err != nil {
			require.ErrorIs(t, err, sim.ErrStore)
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			require.Equal(t, data, after, "a refused store is left untouched")
			return
		}
		hc := &http.Client{Transport: s.RoundTripper()}
		l := s.Ledger()
		n := 0
		fe := &env{t: t, clock: clock, terminal: testTerminalID}
		send := func(path string, extra paytree.Fields) {
			n++
			rid := fmt.Sprintf("fz-%d", n)
			body := signRequest(t, client, fe.with(rid, extra))
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://sim"+path, bytes.NewReader(body))
			require.NoError(t, err)
			a := readAnswer(t, hc, req)
			if a.err == nil && a.status == http.StatusOK {
				require.NoError(t, a.sigErr)
			}
		}
		p := sim.DefaultPaths()
		type action struct {
			path  string
			extra paytree.Fields
		}
		var actions []action
		for _, r := range l.Requests {
			tr := paytree.Fields{paytree.FTargetRequestID: r.RequestID}
			actions = append(actions, action{p.Confirm, tr}, action{p.ConfirmV1, tr}, action{p.Reverse, tr})
		}
		for _, o := range l.Orders {
			actions = append(actions,
				action{p.Refund, paytree.Fields{paytree.FOrderID: o.OrderID, paytree.FRefundAmount: "1"}},
				action{p.Reverse, paytree.Fields{paytree.FOrderID: o.OrderID}})
		}
		// Each request is signed twice (RSA): a dozen of them, starting at
		// an offset the input picks, keep an execution short.
		for i := 0; i < len(actions) && i < 12; i++ {
			a := actions[(i+len(data))%len(actions)]
			send(a.path, a.extra)
		}
		clock.Advance(time.Hour)
		send(p.Pay, paytree.Fields{paytree.FPayType: "PAYPAY", paytree.FAmount: "5", paytree.FUserCode: classCode(0)})
		_ = s.Ledger()
		// What it saved loads again.
		_, err = sim.New(cfg)
		require.NoError(t, err, "the simulator's own store loads")
	})
}
