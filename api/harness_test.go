//go:build unix

package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/api"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/sim"
)

// The daemon tests run the real wbpay-engine binary (built once per test
// process with the "crashpoints" tag, inert unless WBPAY_CRASH_AT is set)
// as a child serving a home whose gateway is the simulator over loopback
// TLS, and talk to it over real HTTP.

func engineBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the daemon tests build and run wbpay-engine (skipped with -short)")
	}
	bin, err := testgw.EngineBinary()
	require.NoError(t, err, "build wbpay-engine")
	return bin
}

// env is one test's simulator and home.
type env struct {
	t    testing.TB
	dir  string
	gw   *testgw.Gateway
	home string
}

// newEnv starts a simulator and writes a home for it; over changes the
// home's WbCPSPay.conf.
func newEnv(t testing.TB, over map[string]string) *env {
	t.Helper()
	dir := t.TempDir()
	gw, err := testgw.StartGateway(sim.Config{ApproveAfter: 300 * time.Millisecond, ApprovalTimeout: 5 * time.Second, Seed: 1}, dir)
	require.NoError(t, err)
	t.Cleanup(gw.Close)
	e := &env{t: t, dir: dir, gw: gw}
	e.home = e.writeHome(gw.URL(), over)
	return e
}

func (e *env) writeHome(serverURL string, over map[string]string) string {
	home := filepath.Join(e.dir, "home")
	require.NoError(e.t, os.MkdirAll(home, 0o755))
	require.NoError(e.t, testgw.WriteKeys(home))
	conf := testgw.Merge(testgw.LiveConf(serverURL), map[string]string{
		"HttpTimeout":               "15",
		"RequestConfirmInterval":    "0",
		"PayConfirmPollingMode":     "yes",
		"PayConfirmPollingWait":     "1",
		"PayConfirmPollingInterval": "1",
		"PayConfirmPollingTimeout":  "30",
		"LogLevel":                  "Sequence",
	})
	require.NoError(e.t, testgw.WriteConf(home, testgw.Merge(conf, over)))
	return home
}

// daemon is a running wbpay-engine serve child.
type daemon struct {
	t      testing.TB
	env    *env
	cmd    *osexec.Cmd
	url    string
	token  string
	stderr *syncBuffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

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

// startDaemon runs serve on a free port with extra environment (e.g. a
// crash point) and waits until serve.json names it.
func (e *env) startDaemon(extraEnv ...string) *daemon {
	e.t.Helper()
	return e.startDaemonArgs(extraEnv, "--keep-alive", "200ms")
}

func (e *env) startDaemonArgs(extraEnv []string, args ...string) *daemon {
	e.t.Helper()
	bin := engineBinary(e.t)
	full := append([]string{"serve", "--home", e.home, "--gateway-ca", e.gw.CAFile, "--listen", "127.0.0.1:0"}, args...)
	cmd := osexec.Command(bin, full...)
	cmd.Env = append(os.Environ(), extraEnv...)
	d := &daemon{t: e.t, env: e, cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = d.stderr
	// A killed child's home lock is released by the kernel; a new one may
	// race it for a moment.
	require.NoError(e.t, cmd.Start())
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	e.t.Cleanup(func() { d.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := api.ReadServeFile(e.home)
		if err == nil && info.PID == cmd.Process.Pid {
			d.url = info.URL
			break
		}
		select {
		case <-d.exited:
			e.t.Fatalf("serve exited before it listened: %v\nstderr:\n%s", d.err, d.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("serve did not write serve.json\nstderr:\n%s", d.stderr)
		}
	}
	tok, err := api.ReadToken(e.home)
	require.NoError(e.t, err)
	d.token = tok
	return d
}

// kill SIGKILLs the child (if it still runs) and waits for it.
func (d *daemon) kill() {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

// wait waits up to d for the child to exit and reports whether it was
// killed by SIGKILL, and its exit code.
func (d *daemon) wait(within time.Duration) (killed bool, code int) {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(within):
		d.t.Fatalf("serve did not exit within %s\nstderr:\n%s", within, d.stderr)
	}
	var ee *osexec.ExitError
	if errors.As(d.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal() == syscall.SIGKILL, -1
		}
		return false, ee.ExitCode()
	}
	return false, 0
}

// answer is one HTTP answer, its body decoded as JSON when it is.
type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (a answer) errCode() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (a answer) errField() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

// request sends method path with body (nil: none) and the daemon's token,
// plus headers (pairs).
func (d *daemon) request(method, path string, body any, headers ...string) answer {
	d.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		require.NoError(d.t, err)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, d.url+path, rd)
	require.NoError(d.t, err)
	req.Header.Set("Authorization", "Bearer "+d.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(d.t, err, "%s %s", method, path)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(d.t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// sseEvent is one event read from /v1/events.
type sseEvent struct {
	id   uint64
	kind string
	data map[string]any
}

func (e sseEvent) txn() map[string]any { m, _ := e.data["transaction"].(map[string]any); return m }

// sse is an open /v1/events stream.
type sse struct {
	resp       *http.Response
	events     chan sseEvent
	keepAlives chan struct{}
	done       chan struct{}
	cancel     context.CancelFunc
}

// events connects to /v1/events with query (e.g. "after=0") and headers.
func (d *daemon) events(query string, headers ...string) *sse {
	d.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u := d.url + "/v1/events"
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	require.NoError(d.t, err)
	req.Header.Set("Authorization", "Bearer "+d.token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(d.t, err)
	require.Equal(d.t, http.StatusOK, resp.StatusCode)
	require.Equal(d.t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &sse{resp: resp, events: make(chan sseEvent, 4096), keepAlives: make(chan struct{}, 4096), done: make(chan struct{}), cancel: cancel}
	go s.read(d.t)
	d.t.Cleanup(s.close)
	return s
}

func (s *sse) read(t testing.TB) {
	defer close(s.done)
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.kind != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case line == ": keep-alive":
			select {
			case s.keepAlives <- struct{}{}:
			default:
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.id, _ = strconv.ParseUint(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			ev.kind = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
				t.Errorf("event data is not JSON: %q", line)
			}
		}
	}
}

func (s *sse) close() {
	s.cancel()
	_ = s.resp.Body.Close()
	<-s.done
}

// until reads events until ok returns true for one, and returns all read.
func (s *sse) until(t testing.TB, within time.Duration, ok func(sseEvent) bool) []sseEvent {
	t.Helper()
	var got []sseEvent
	deadline := time.After(within)
	for {
		select {
		case ev, open := <-s.events:
			if !open {
				t.Fatalf("event stream ended; read %d events: %v", len(got), kinds(got))
			}
			got = append(got, ev)
			if ok(ev) {
				return got
			}
		case <-deadline:
			t.Fatalf("no awaited event within %s; read %d: %v", within, len(got), kinds(got))
		}
	}
}

// finalOf is a predicate: the final event of txn id.
func finalOf(id string) func(sseEvent) bool {
	return func(ev sseEvent) bool { return ev.data["transactionId"] == id && ev.data["final"] == true }
}

func kinds(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		st := ""
		if tx := e.txn(); tx != nil {
			st, _ = tx["state"].(string)
		}
		out[i] = fmt.Sprintf("%d:%s/%s", e.id, e.kind, st)
	}
	return out
}

// poll calls f until it returns true, failing after within.
func poll(t testing.TB, within time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// classCode is the simulator's userCode that selects pay class n.
func classCode(n int) string { return "99" + strings.Repeat("0", 15) + strconv.Itoa(n) }

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// exec runs the binary to its end and returns its stderr and stdout, and
// its exit code.
func exec(bin string, args ...string) (string, int) {
	cmd := osexec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		return err.Error(), -1
	}
	return string(out), 0
}

// TestMain removes the binary built for the daemon tests.
func TestMain(m *testing.M) {
	code := m.Run()
	testgw.RemoveEngineBinary()
	os.Exit(code)
}
