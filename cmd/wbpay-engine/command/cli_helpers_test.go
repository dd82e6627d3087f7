package command

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/sim"
)

// A test binary re-executed by the demo (its crash step kills a separate
// wbpay-engine process) runs the CLI instead of the tests. Test files'
// init functions run after every verb has registered itself.
func init() {
	if os.Getenv(demoChildEnv) == "1" {
		os.Exit(Execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
}

func testKeys(testing.TB) (client, gateway *rsa.PrivateKey) { return testgw.Keys() }

// cliEnv is one engine home for CLI tests, with a fake clock that a
// background goroutine moves 50x faster than real time (so one-second waits
// of the engine take 20 ms and no test sleeps), and optionally a simulator
// over loopback HTTPS.
type cliEnv struct {
	t     *testing.T
	home  string
	clock *clockwork.FakeClock
	sim   *sim.Sim
	srv   *httptest.Server
	ca    string // PEM of the simulator's certificate
}

// testModeConf is a test-mode configuration: the engine's in-process
// simulator answers at once.
func testModeConf() map[string]string { return testgw.TestModeConf() }

// newTestMode makes a test-mode home with conf overrides.
func newTestMode(t *testing.T, over map[string]string) *cliEnv {
	t.Helper()
	e := newCLIEnv(t)
	conf := testModeConf()
	for k, v := range over {
		conf[k] = v
	}
	e.writeConf(conf)
	return e
}

// newHTTPS makes a live-mode home whose ServerURL is a simulator served over
// loopback HTTPS (trusted through --gateway-ca), sharing the fake clock.
func newHTTPS(t *testing.T, over map[string]string, simCfg func(*sim.Config)) *cliEnv {
	t.Helper()
	e := newCLIEnv(t)
	cfg := sim.Config{Clock: e.clock, Logger: zaptest.NewLogger(t).Named("sim"), Seed: 1}
	if simCfg != nil {
		simCfg(&cfg)
	}
	gw, err := testgw.StartGateway(cfg, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(gw.Close)
	e.sim, e.srv, e.ca = gw.Sim, gw.Server, gw.CAFile
	require.NoError(t, testgw.WriteKeys(e.home))
	conf := testgw.LiveConf(gw.URL())
	delete(conf, "ApiPathDeposit") // optional: the default path is used
	for k, v := range over {
		conf[k] = v
	}
	e.writeConf(conf)
	return e
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	e := &cliEnv{t: t, home: t.TempDir(), clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC))}
	require.NoError(t, testgw.WriteKeys(e.home))
	t.Cleanup(testgw.TimeLapse(e.clock, 50*time.Millisecond))
	return e
}

// writeConf writes WbCPSPay.conf from kv, in key order.
func (e *cliEnv) writeConf(kv map[string]string) {
	e.t.Helper()
	require.NoError(e.t, testgw.WriteConf(e.home, kv))
}

// cliRun is one run of the CLI.
type cliRun struct {
	code           int
	stdout, stderr string
	results        []*wbpay.Result
}

// runOpts are the knobs of one run.
type runOpts struct {
	stdin string
	tty   bool // pretend stdin and stderr are terminals
}

// run runs the CLI in-process on the env's home (and simulator).
func (e *cliEnv) run(args ...string) cliRun {
	e.t.Helper()
	return e.runWith(runOpts{}, args...)
}

func (e *cliEnv) runWith(o runOpts, args ...string) cliRun {
	e.t.Helper()
	var out, errb syncBuffer
	var r cliRun
	g := &globals{stdin: strings.NewReader(o.stdin), stdout: &out, stderr: &errb,
		clock: e.clock, engineOpts: []wbpay.Option{wbpay.WithClock(e.clock)},
		terminal: func(any) bool { return o.tty },
		onResult: func(res *wbpay.Result) { r.results = append(r.results, res) }}
	full := append(append([]string(nil), args...), "--home", e.home)
	if e.srv != nil {
		full = append(full, "--gateway-ca", e.ca, "--http-timeout", "5s")
	}
	r.code = execute(g, full)
	r.stdout, r.stderr = out.String(), errb.String()
	e.t.Logf("wbpay-engine %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// runBare runs the CLI with no home or hooks at all.
func runBare(t *testing.T, args ...string) cliRun {
	t.Helper()
	var out, errb syncBuffer
	code := Execute(args, strings.NewReader(""), &out, &errb)
	t.Logf("wbpay-engine %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	return cliRun{code: code, stdout: out.String(), stderr: errb.String()}
}

// payJSON runs pay -o json and decodes its object.
func (e *cliEnv) payJSON(args ...string) (cliRun, resultJSON) {
	e.t.Helper()
	r := e.run(append([]string{"pay", "-o", "json"}, args...)...)
	var res resultJSON
	require.NoError(e.t, json.Unmarshal([]byte(r.stdout), &res), "stdout: %s", r.stdout)
	return r, res
}

// open opens the engine on the env's home, as a POS would.
func (e *cliEnv) open() *wbpay.Engine {
	e.t.Helper()
	opts := []wbpay.Option{wbpay.WithHome(e.home), wbpay.WithClock(e.clock), wbpay.WithLogTee(zaptest.NewLogger(e.t).Core())}
	if e.srv != nil {
		pool, err := loadCAs(e.ca)
		require.NoError(e.t, err)
		opts = append(opts, wbpay.WithRootCAs(pool), wbpay.WithHTTPTimeout(5*time.Second))
	}
	eng, err := wbpay.Open(context.Background(), opts...)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = eng.Close() })
	return eng
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// command's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
