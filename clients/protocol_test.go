package clients_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/layout"
)

// The protocol tests run each client's "protocol" program against a
// scripted stand-in of the daemon (a fake below the client, which is the
// unit under test), to reach the cases the real daemon cannot be made to
// produce on cue: an answer lost after the daemon received the request,
// an event that arrives before the request's answer, duplicate event ids,
// a daemon that moves to another port, error answers of every kind.

const protoToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeDaemon serves the local API's routes from a script keyed by amount.
type fakeDaemon struct {
	t    *testing.T
	home string

	mu      sync.Mutex
	srv     [2]*httptest.Server // A, then B after the "restart"
	frames  chan string         // SSE frames to write on the current stream
	keys    map[string][]string
	posts   []string
	lastIDs []string // Last-Event-ID of each stream connection ("" for none)
	errs    []string
}

var keyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func newFakeDaemon(t *testing.T) *fakeDaemon {
	f := &fakeDaemon{t: t, home: t.TempDir(), frames: make(chan string, 64), keys: map[string][]string{}}
	for i := range f.srv {
		f.srv[i] = httptest.NewServer(http.HandlerFunc(f.serve))
		t.Cleanup(f.srv[i].Close)
	}
	f.writeServeJSON(0)
	require.NoError(t, os.WriteFile(layout.Home(f.home).Token(), []byte(protoToken+"\n"), 0o600))
	return f
}

func (f *fakeDaemon) writeServeJSON(i int) {
	b, _ := json.Marshal(map[string]any{"url": f.srv[i].URL, "pid": 4242 + i, "startedAt": "2026-12-01T10:00:00+09:00"})
	tmp := filepath.Join(f.home, "serve.json.tmp")
	require.NoError(f.t, os.WriteFile(tmp, b, 0o600))
	require.NoError(f.t, os.Rename(tmp, layout.Home(f.home).Serve()))
}

func (f *fakeDaemon) fail(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// event queues one SSE frame.
func (f *fakeDaemon) event(id uint64, kind, txnID string, final bool, txn, errObj map[string]any) {
	data, _ := json.Marshal(map[string]any{"transactionId": txnID, "requestType": requestTypeOf(txn), "final": final,
		"recovered": txn != nil && txn["recovered"] == true, "transaction": txn, "error": errObj})
	f.frames <- fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", id, kind, data)
}

func requestTypeOf(txn map[string]any) string {
	if txn == nil {
		return "Pay"
	}
	op, _ := txn["operation"].(string)
	if op == "" {
		return "Pay"
	}
	return strings.ToUpper(op[:1]) + op[1:]
}

func payTxn(id, order string, amount int64, status string) map[string]any {
	order += strings.Repeat("0", 32-len(order)) // orderIds are 32 characters
	return map[string]any{"id": id, "operation": "pay", "state": "paid", "transStatus": status, "orderId": order, "amount": amount,
		"payType": "LINE", "transTime": "2026-12-01T01:15:00Z", "recovered": false, "error": nil}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(code string, typ int, action, field, msg string) map[string]any {
	e := map[string]any{"type": typ, "code": code, "subCode": "", "message": msg, "action": action}
	if field != "" {
		e["field"] = field
	}
	return map[string]any{"error": e}
}

func (f *fakeDaemon) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+protoToken {
		writeJSON(w, 401, apiError("L0011", 5, "VendorCall", "", "token"))
		return
	}
	if r.Header.Get("Origin") != "" {
		f.fail("%s %s carries an Origin header", r.Method, r.URL.Path)
	}
	switch r.URL.Path {
	case "/v1/health":
		writeJSON(w, 200, map[string]any{"state": "ready", "unfinished": 0, "version": "fake"})
	case "/v1/events":
		f.events(w, r)
	case "/v1/pay", "/v1/refund", "/v1/pay-confirm":
		f.request(w, r)
	default:
		writeJSON(w, 404, apiError("L0003", 5, "VendorCall", "", "no route "+r.URL.Path))
	}
}

func (f *fakeDaemon) events(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.lastIDs = append(f.lastIDs, r.Header.Get("Last-Event-ID")+r.URL.Query().Get("after"))
	n := len(f.lastIDs)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fl := w.(http.Flusher)
	_, _ = io.WriteString(w, ": hello\n\n")
	fl.Flush()
	if n == 2 {
		// The reconnect after the "restart": first a replayed frame the
		// client has already seen, then a comment, then the news.
		_, _ = io.WriteString(w, "id: 24\nevent: complete\ndata: {\"transactionId\":\"T3\",\"transaction\":{\"id\":\"T3\"}}\n\n: keep-alive\n\n")
		done := payTxn("T3", "O3", 1003, "PAID")
		done["recovered"] = true
		data, _ := json.Marshal(map[string]any{"transactionId": "T3", "requestType": "Pay", "final": true, "recovered": true, "transaction": done, "error": nil})
		// A multi-line data field and a field without a space after the colon.
		_, _ = fmt.Fprintf(w, "id:33\nevent: complete\ndata: %s\ndata: \n\n", data)
		fl.Flush()
	}
	for {
		select {
		case fr := <-f.frames:
			if _, err := io.WriteString(w, fr); err != nil {
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func (f *fakeDaemon) request(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	if !keyRE.MatchString(key) {
		f.fail("%s: Idempotency-Key %q is not 1-64 [A-Za-z0-9_-]", r.URL.Path, key)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.fail("%s: Content-Type %q", r.URL.Path, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.fail("%s: body is not JSON: %s", r.URL.Path, raw)
	}
	f.mu.Lock()
	f.keys[key] = append(f.keys[key], r.URL.Path+" "+string(raw))
	f.posts = append(f.posts, key)
	attempt := len(f.keys[key])
	f.mu.Unlock()
	if r.URL.Path == "/v1/pay-confirm" {
		if body["confirm"] != true {
			f.fail("pay-confirm body %s", raw)
		}
		writeJSON(w, 409, apiError("L0008", 5, "VendorCall", "", "no payment is waiting for the customer"))
		return
	}
	if r.URL.Path == "/v1/refund" {
		txn := map[string]any{"id": "T9", "operation": "refund", "state": "refunded", "transStatus": "PARTIALLY_REFUNDED", "orderId": body["orderId"],
			"amount": 1, "refundAmount": body["refundAmount"], "refundedTotal": 1, "transTime": "2026-12-01T10:15:00+09:00"}
		w.Header().Set("Location", "/v1/transactions/T9")
		writeJSON(w, 202, txn)
		f.event(72, "complete", "T9", true, txn, nil)
		return
	}
	amount, _ := body["amount"].(float64)
	switch int(amount) {
	case 1001: // the answer is lost once; a foreign event passes meanwhile
		if attempt == 1 {
			hj, ok := w.(http.Hijacker)
			require.True(f.t, ok)
			c, _, err := hj.Hijack()
			require.NoError(f.t, err)
			_ = c.Close()
			return
		}
		f.event(8, "complete", "T-foreign", true, payTxn("T-foreign", "OFOREIGN", 5, "PAID"), nil)
		txn := payTxn("T1", "O1", 1001, "PAID")
		w.Header().Set("Location", "/v1/transactions/T1")
		writeJSON(w, 200, txn) // an idempotent replay answers 200
		f.event(16, "complete", "T1", true, txn, nil)
		f.event(16, "complete", "T1", true, txn, nil) // delivered twice: the client drops the copy
	case 1002: // the event reaches the client before the answer
		txn := payTxn("T2", "O2", 1002, "PAID")
		f.event(17, "complete", "T2", true, txn, nil)
		time.Sleep(200 * time.Millisecond)
		writeJSON(w, 202, txn)
	case 1003: // accepted, then the daemon "restarts" on another port
		txn := payTxn("T3", "O3", 1003, "WAITING")
		writeJSON(w, 202, txn)
		f.event(24, "complete", "T3", false, txn, nil)
		go func() {
			time.Sleep(300 * time.Millisecond)
			f.writeServeJSON(1)
			f.srv[0].CloseClientConnections()
			f.srv[0].Close() // from now on only B answers
		}()
	case 1007: // every answer is lost; the client gives up, the pay goes on
		if attempt == 1 {
			go func() {
				time.Sleep(3 * time.Second) // the program's RequestTimeout is 2 s
				txn := payTxn("T7", "O7", 1007, "PAID")
				txn["idempotencyKey"] = key
				f.event(80, "complete", "T7", true, txn, nil)
			}()
		}
		hj, ok := w.(http.Hijacker)
		require.True(f.t, ok)
		c, _, err := hj.Hijack()
		require.NoError(f.t, err)
		_ = c.Close()
	case 1004:
		writeJSON(w, 409, apiError("L0004", 5, "Retry", "", "a request sequence is still running"))
	case 1005: // a failed pay whose reverse was not achieved: two ErrorEvents
		txn := payTxn("T5", "O5", 1005, "PROCESSING")
		writeJSON(w, 202, txn)
		f.event(40, "error", "T5", false, txn, map[string]any{"type": 2, "code": "N0002", "subCode": "", "message": "timed out", "action": "CPSCall"})
		f.event(41, "error", "T5", true, txn, map[string]any{"type": 6, "code": "P0001", "subCode": "", "message": "reverse not achieved", "action": "CPSCall"})
	case 1006:
		writeJSON(w, 400, apiError("L0003", 5, "VendorCall", "userCode", "is required"))
	default:
		writeJSON(w, 503, apiError("L0005", 5, "VendorCall", "", "closing"))
	}
}

// check asserts what the fake saw once the program has ended.
func (f *fakeDaemon) check(t *testing.T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Empty(t, f.errs, "protocol violations")
	retried := 0
	for key, bodies := range f.keys {
		if len(bodies) > 1 {
			retried++
			for _, b := range bodies[1:] {
				assert.Equal(t, bodies[0], b, "a retry with key %s must resend the same request", key)
			}
		}
	}
	assert.Equal(t, 2, retried, "exactly the two requests whose answers were lost are retried, with their keys: %v", f.keys)
	assert.Len(t, f.keys, 10, "every call has its own key")
	require.GreaterOrEqual(t, len(f.lastIDs), 2, "the client reconnected to the moved daemon")
	assert.Equal(t, "", f.lastIDs[0], "the first stream asks for live events only")
	assert.Equal(t, "24", f.lastIDs[1], "the reconnect carries Last-Event-ID of the last event seen")
}

func runProtocolProgram(t *testing.T, f *fakeDaemon, name string, argv ...string) {
	t.Helper()
	cmd := execCommand(argv...)
	cmd.Env = append(os.Environ(), "WBPAY_HOME="+f.home)
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	m := regexp.MustCompile(`^(\d+) passed, (\d+) failed$`).FindStringSubmatch(last)
	require.NotNil(t, m, "%s: no final 'N passed, M failed' line (%v):\n%s", name, err, out)
	assert.Equal(t, "0", m[2], "%s:\n%s", name, out)
	assert.NotEqual(t, "0", m[1], "%s:\n%s", name, out)
	assert.NoError(t, err, "%s:\n%s", name, out)
	f.check(t)
	if !t.Failed() {
		t.Logf("%s: %s", name, last)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "FAIL") {
			t.Log(sc.Text())
		}
	}
}

// TestDotnetClientProtocol runs WbPayTest.exe's protocol mode against the
// scripted daemon.
func TestDotnetClientProtocol(t *testing.T) {
	needTools(t, monoPackages, "mcs", "mono")
	build(t, repoDir(t, "dotnet/build.sh"), "--test")
	f := newFakeDaemon(t)
	runProtocolProgram(t, f, "WbPayTest.exe protocol", "mono", "--debug", repoDir(t, "dotnet/bin/WbPayTest.exe"), "protocol")
}

// TestJavaClientProtocol runs the Java test program's protocol mode against
// the scripted daemon.
func TestJavaClientProtocol(t *testing.T) {
	needTools(t, jdkPackages, "javac", "java")
	build(t, repoDir(t, "java/build.sh"), "--test")
	f := newFakeDaemon(t)
	runProtocolProgram(t, f, "WbPayTest.java protocol", "java", "-cp", javaClassPath(t), "jp.wellba.wbpay.test.WbPayTest", "protocol")
}

// TestClientsExcludeEachOther: while a C# instance is open on the host, a
// Java one cannot open (both lock WbCPSPay.client.lock in the home); once it
// is closed, a new one opens (try-open exits 1 after opening).
func TestClientsExcludeEachOther(t *testing.T) {
	needTools(t, monoPackages, "mcs", "mono")
	needTools(t, jdkPackages, "javac", "java")
	build(t, repoDir(t, "dotnet/build.sh"), "--test")
	build(t, repoDir(t, "java/build.sh"), "--test")
	f := newFakeDaemon(t)
	exe := repoDir(t, "dotnet/bin/WbPayTest.exe")
	env := append(os.Environ(), "WBPAY_HOME="+f.home)

	hold := execCommand("mono", exe, "hold")
	hold.Env = env
	stdin, err := hold.StdinPipe()
	require.NoError(t, err)
	stdout, err := hold.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, hold.Start())
	sc := bufio.NewScanner(stdout)
	held := false
	for sc.Scan() {
		if sc.Text() == "@@HOLDING" {
			held = true
			break
		}
	}
	require.True(t, held, "the C# instance did not open")
	try := execCommand("java", "-cp", javaClassPath(t), "jp.wellba.wbpay.test.WbPayTest", "try-open")
	try.Env = env
	out, err := try.CombinedOutput()
	assert.NoError(t, err, "a Java instance opened while a C# one is open: %s", out)
	require.NoError(t, stdin.Close())
	require.NoError(t, hold.Wait())

	try = execCommand("mono", exe, "try-open")
	try.Env = env
	out, err = try.CombinedOutput()
	assert.Error(t, err, "with the C# instance closed, another opens: %s", out)
	assert.Contains(t, string(out), "opened")
}
