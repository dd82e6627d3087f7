package command

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/keys"
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

// RSA key generation is the slowest part of a test: one client key and one
// gateway key per test binary (generated, never stored).
var (
	keysOnce        sync.Once
	testClient, gwK *rsa.PrivateKey
)

func testKeys(t testing.TB) (client, gateway *rsa.PrivateKey) {
	keysOnce.Do(func() {
		var err error
		if testClient, err = keys.NewKey(); err != nil {
			panic(err)
		}
		if gwK, err = keys.NewKey(); err != nil {
			panic(err)
		}
	})
	return testClient, gwK
}

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
func testModeConf() map[string]string {
	return map[string]string{
		"AppTestMode":       "yes",
		"TestSequenceDelay": "0",
		"PrivateKeyFile":    clientKeyFile,
		"MerchantId":        "123456789012",
		"TerminalUniquId":   "1234501234561",
		"BranchCode":        "B001",
		"TerminalCode":      "T01",
	}
}

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
	client, gw := testKeys(t)
	cfg := sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, Clock: e.clock,
		Logger: zaptest.NewLogger(t).Named("sim"), Seed: 1}
	if simCfg != nil {
		simCfg(&cfg)
	}
	s, err := sim.New(cfg)
	require.NoError(t, err)
	e.sim = s
	e.srv = httptest.NewTLSServer(s)
	t.Cleanup(e.srv.Close)
	e.ca = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(e.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw}), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(e.home, "gateway.pub"), keys.EncodePublicPEM(&gw.PublicKey), 0o644))
	conf := map[string]string{
		"ServerURL":              e.srv.URL,
		"ApiPathPay":             "/api/v3/pay",
		"ApiPathPayV1":           "/api/v1/pay",
		"ApiPathRefund":          "/api/v3/refund",
		"ApiPathReverse":         "/api/v3/reverse",
		"ApiPathConfirm":         "/api/v3/confirm",
		"ApiPathConfirmV1":       "/api/v1/confirm",
		"PrivateKeyFile":         clientKeyFile,
		"PublicKeyFile":          "gateway.pub",
		"MerchantId":             "123456789012",
		"TerminalUniquId":        "1234501234561",
		"BranchCode":             "B001",
		"TerminalCode":           "T01",
		"RequestConfirmInterval": "1",
		"RequestConfirmNum":      "1",
	}
	for k, v := range over {
		conf[k] = v
	}
	e.writeConf(conf)
	return e
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	client, _ := testKeys(t)
	e := &cliEnv{t: t, home: t.TempDir(), clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC))}
	require.NoError(t, os.WriteFile(filepath.Join(e.home, clientKeyFile), keys.EncodePrivatePEM(client), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the time-lapse
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				e.clock.Advance(50 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return e
}

// writeConf writes WbCPSPay.conf from kv, in key order.
func (e *cliEnv) writeConf(kv map[string]string) {
	e.t.Helper()
	names := make([]string, 0, len(kv))
	for k := range kv {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# written by a test\n")
	for _, k := range names {
		fmt.Fprintf(&b, "%s = %s\n", k, kv[k])
	}
	require.NoError(e.t, os.WriteFile(filepath.Join(e.home, "WbCPSPay.conf"), []byte(b.String()), 0o644))
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
