package wbpay_test

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/sim"
)

// harness is one engine home talking over loopback HTTPS to a simulator,
// both on one fake clock that a background goroutine moves forward quickly
// (50 ms of fake time per real millisecond), so second-long waits take
// milliseconds and no test sleeps.
type harness struct {
	t     *testing.T
	home  string
	clock *clockwork.FakeClock
	gw    *testgw.Gateway
	sim   *sim.Sim
	eng   *wbpay.Engine
	extra []wbpay.Option // more options for the next open

	mu     sync.Mutex
	events []wbpay.Event
	notify chan struct{}
}

type harnessOpt struct {
	conf        map[string]string // overrides of WbCPSPay.conf keys
	faults      []sim.Fault
	classes     sim.Classes
	httpTimeout time.Duration
	manualClock bool // no time-lapse: the test moves the clock itself
}

// baseConf is the harness's configuration: polling mode, and every key at
// the value the tests expect unless they override it.
func baseConf(serverURL string) map[string]string {
	return testgw.Merge(testgw.LiveConf(serverURL), map[string]string{
		"PayConfirmPollingMode": "yes",
		"LogLevel":              "Transaction",
	})
}

func writeConf(t testing.TB, home string, kv map[string]string) {
	require.NoError(t, testgw.WriteConf(home, kv))
}

func writeKeys(t testing.TB, home string) { require.NoError(t, testgw.WriteKeys(home)) }

func newHarness(t *testing.T, o harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, home: t.TempDir(), clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)), notify: make(chan struct{}, 1)}
	gw, err := testgw.StartGateway(sim.Config{Clock: h.clock, Logger: zaptest.NewLogger(t).Named("sim"),
		Faults: o.faults, Classes: o.classes, Seed: 1}, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(gw.Close)
	h.gw, h.sim = gw, gw.Sim
	if !o.manualClock {
		t.Cleanup(testgw.TimeLapse(h.clock, 50*time.Millisecond))
	}
	writeKeys(t, h.home)
	writeConf(t, h.home, testgw.Merge(baseConf(gw.URL()), o.conf))
	h.open(o.httpTimeout)
	return h
}

// open (re)opens the engine on the harness's home.
func (h *harness) open(httpTimeout time.Duration) {
	h.t.Helper()
	if httpTimeout == 0 {
		httpTimeout = 2 * time.Second
	}
	eng, err := wbpay.Open(context.Background(), append([]wbpay.Option{wbpay.WithHome(h.home), wbpay.WithClock(h.clock),
		wbpay.WithRootCAs(h.rootCAs()), wbpay.WithHTTPTimeout(httpTimeout), wbpay.WithLogTee(zaptest.NewLogger(h.t).Core()),
		wbpay.WithOnComplete(func(c wbpay.Completion) { h.record(wbpay.Event{Complete: &c}) }),
		wbpay.WithOnError(func(f wbpay.Failure) { h.record(wbpay.Event{Failure: &f}) })}, h.extra...)...)
	require.NoError(h.t, err)
	h.eng = eng
	h.t.Cleanup(func() { _ = eng.Close() })
}

func (h *harness) rootCAs() *x509.CertPool { return h.gw.Pool }

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
	tx, err := h.eng.Audit().Get(id)
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
