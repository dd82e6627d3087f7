package wbpay_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/sim"
)

// gatewayKey and clientKey are generated once per test binary: RSA key
// generation is the slowest part of a test, and nothing depends on which
// keys they are.
var (
	keyOnce              sync.Once
	gatewayKey, clientKy *rsa.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keyOnce.Do(func() {
		var err error
		if gatewayKey, err = keys.NewKey(); err != nil {
			panic(err)
		}
		if clientKy, err = keys.NewKey(); err != nil {
			panic(err)
		}
	})
	return gatewayKey, clientKy
}

// harness is one engine home talking over loopback HTTPS to a simulator,
// both on one fake clock that a background goroutine moves forward quickly
// (50 ms of fake time per real millisecond), so second-long waits take
// milliseconds and no test sleeps.
type harness struct {
	t     *testing.T
	home  string
	clock *clockwork.FakeClock
	sim   *sim.Sim
	srv   *httptest.Server
	eng   *wbpay.Engine

	mu     sync.Mutex
	events []wbpay.Event
	notify chan struct{}
}

type harnessOpt struct {
	conf        map[string]string // overrides of WbCPSPay.conf keys
	faults      []sim.Fault
	classes     sim.Classes
	httpTimeout time.Duration
	simCfg      func(*sim.Config)
	manualClock bool // no time-lapse: the test moves the clock itself
}

func baseConf(serverURL string) map[string]string {
	return map[string]string{
		"ServerURL":              serverURL,
		"ApiPathPay":             "/api/v3/pay",
		"ApiPathPayV1":           "/api/v1/pay",
		"ApiPathRefund":          "/api/v3/refund",
		"ApiPathReverse":         "/api/v3/reverse",
		"ApiPathConfirm":         "/api/v3/confirm",
		"ApiPathConfirmV1":       "/api/v1/confirm",
		"ApiPathDeposit":         "/api/v3/deposit",
		"PrivateKeyFile":         "client.pem",
		"PublicKeyFile":          "gateway.pub",
		"MerchantId":             "123456789012",
		"TerminalUniquId":        "1234501234561",
		"BranchCode":             "B001",
		"TerminalCode":           "T01",
		"RequestConfirmInterval": "1",
		"RequestConfirmNum":      "1",
		"PayConfirmPollingMode":  "yes",
		"LogLevel":               "Transaction",
	}
}

func writeConf(t testing.TB, home string, kv map[string]string) {
	var b strings.Builder
	b.WriteString("# written by a test\n")
	for k, v := range kv {
		if v == "" {
			continue
		}
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	require.NoError(t, os.WriteFile(filepath.Join(home, "WbCPSPay.conf"), []byte(b.String()), 0o644))
}

func writeKeys(t testing.TB, home string) {
	gw, cl := testKeys(t)
	require.NoError(t, os.WriteFile(filepath.Join(home, "client.pem"), keys.EncodePrivatePEM(cl), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, "gateway.pub"), keys.EncodePublicPEM(&gw.PublicKey), 0o644))
}

func newHarness(t *testing.T, o harnessOpt) *harness {
	t.Helper()
	gw, cl := testKeys(t)
	h := &harness{t: t, home: t.TempDir(), clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)), notify: make(chan struct{}, 1)}
	scfg := sim.Config{PrivateKey: gw, ClientPublicKey: &cl.PublicKey, Clock: h.clock, Logger: zaptest.NewLogger(t).Named("sim"),
		Faults: o.faults, Classes: o.classes, Seed: 1}
	if o.simCfg != nil {
		o.simCfg(&scfg)
	}
	s, err := sim.New(scfg)
	require.NoError(t, err)
	h.sim = s
	h.srv = httptest.NewTLSServer(s)
	t.Cleanup(h.srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if o.manualClock {
		cancel()
	}
	wg.Add(1)
	go func() { // the time-lapse: fake time runs 50x faster than real time
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				h.clock.Advance(50 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })

	conf := baseConf(h.srv.URL)
	for k, v := range o.conf {
		conf[k] = v
	}
	writeKeys(t, h.home)
	writeConf(t, h.home, conf)
	h.open(o.httpTimeout)
	return h
}

// open (re)opens the engine on the harness's home.
func (h *harness) open(httpTimeout time.Duration) {
	h.t.Helper()
	if httpTimeout == 0 {
		httpTimeout = 2 * time.Second
	}
	eng, err := wbpay.Open(context.Background(), wbpay.WithHome(h.home), wbpay.WithClock(h.clock),
		wbpay.WithRootCAs(h.rootCAs()), wbpay.WithHTTPTimeout(httpTimeout), wbpay.WithLogTee(zaptest.NewLogger(h.t).Core()),
		wbpay.WithOnComplete(func(c wbpay.Completion) { h.record(wbpay.Event{Complete: &c}) }),
		wbpay.WithOnError(func(f wbpay.Failure) { h.record(wbpay.Event{Failure: &f}) }))
	require.NoError(h.t, err)
	h.eng = eng
	h.t.Cleanup(func() { _ = eng.Close() })
}

func (h *harness) rootCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(h.srv.Certificate())
	return p
}

func (h *harness) record(ev wbpay.Event) {
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

// waitEvents waits until at least n events have arrived and returns them.
func (h *harness) waitEvents(n int) []wbpay.Event {
	h.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		h.mu.Lock()
		if len(h.events) >= n {
			out := append([]wbpay.Event(nil), h.events...)
			h.mu.Unlock()
			return out
		}
		h.mu.Unlock()
		select {
		case <-h.notify:
		case <-deadline:
			h.t.Fatalf("waited for %d events, got %d: %s", n, len(h.events), describe(h.events))
		}
	}
}

// txn returns the journal's snapshot of id.
func (h *harness) txn(id string) *journal.Txn {
	h.t.Helper()
	tx, err := h.eng.Journal().Get(id)
	require.NoError(h.t, err)
	return tx
}

// txn2 reads id's snapshot straight from the journal file (engine closed).
func (h *harness) txn2(id string) *journal.Txn {
	h.t.Helper()
	j, err := journal.Open(filepath.Join(h.home, wbpay.JournalFile), journal.Options{ReadOnly: true})
	require.NoError(h.t, err)
	defer j.Close()
	tx, err := j.Get(id)
	require.NoError(h.t, err)
	return tx
}

// describe renders events as "complete:PAID error:E2002/Customer".
func describe(evs []wbpay.Event) string {
	var parts []string
	for _, ev := range evs {
		switch {
		case ev.Complete != nil:
			parts = append(parts, "complete:"+ev.Complete.TransStatus.String())
		case ev.Failure != nil:
			parts = append(parts, "error:"+ev.Failure.Err.Code+"/"+ev.Failure.Err.Action.String())
		}
	}
	return strings.Join(parts, " ")
}
