package command

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// simLockedBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
type simLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *simLockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *simLockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// simKeyFiles writes the simulator's and the client's key pairs.
func simKeyFiles(t *testing.T) (simPriv, simPub, clientPub string, client *rsa.PrivateKey, gw *rsa.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	simPriv, simPub = filepath.Join(dir, "sim.pem"), filepath.Join(dir, "sim.pub.pem")
	g, err := generateKeyPair(simPriv, simPub)
	require.NoError(t, err)
	clientPub = filepath.Join(dir, "client.pub.pem")
	client, err = generateKeyPair(filepath.Join(dir, "client.pem"), clientPub)
	require.NoError(t, err)
	return simPriv, simPub, clientPub, client, &g.PublicKey
}

// TestSimCommand runs `sim` in process on 127.0.0.1:0, reads the first
// stdout line, pays through it and reads the ledger.
func TestSimCommand(t *testing.T) {
	simPriv, _, clientPub, client, gw := simKeyFiles(t)
	base, stop := simServe(t, "--key", simPriv, "--client-public", clientPub,
		"--class-pay", "4", "--faults", "extra-field:confirm", "--merchant", "123456789012")
	require.Regexp(t, regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`), base)
	post := func(path string, f paytree.Fields) paytree.Fields {
		t.Helper()
		return simPost(t, base, path, client, gw, f)
	}
	pay := func(rid, userCode, merchant string) paytree.Fields {
		return paytree.Fields{
			paytree.FMerchantID: merchant, paytree.FTerminalUniqueID: "ABCDE0123456T",
			paytree.FBranchCode: "B1", paytree.FTerminalCode: "T1", paytree.FLocale: "JAPAN", paytree.FTimeZone: "p9",
			paytree.FCurrencyCode: "JPY", paytree.FAppVersion: paytree.DefaultAppVersion, paytree.FRequestID: rid,
			paytree.FRequestTime: "20250115100000", paytree.FSignType: "RSA", paytree.FPayType: "PAYPAY",
			paytree.FAmount: "1000", paytree.FUserCode: "281234567890123456",
		}
	}
	paths := sim.DefaultPaths()
	assert.Equal(t, paytree.E2002, post(paths.Pay, pay("cli-1", "", "123456789012"))[paytree.FResultCode], "--class-pay 4")
	f := pay("cli-2", "", "123456789012")
	f[paytree.FUserCode] = "99000000000000000" + "0"
	assert.Equal(t, paytree.CodeOK, post(paths.Pay, f)[paytree.FResultCode], "override class 0")
	assert.Equal(t, paytree.E1003, post(paths.Pay, pay("cli-3", "", "999999999999"))[paytree.FResultCode], "--merchant")
	c := pay("cli-4", "", "123456789012")
	delete(c, paytree.FPayType)
	delete(c, paytree.FAmount)
	delete(c, paytree.FUserCode)
	c[paytree.FTargetRequestID] = "cli-2"
	ans := post(paths.Confirm, c)
	assert.Equal(t, paytree.StatusPaid.Wire(), ans[paytree.FTransStatus])
	assert.Equal(t, sim.ExtraFieldValue, ans[sim.ExtraFieldName], "--faults")

	resp, err := http.Get(base + sim.LedgerPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	var l sim.Ledger
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&l))
	require.Len(t, l.Orders, 1)
	assert.Equal(t, "cli-2", l.Orders[0].RequestID)
	assert.Len(t, l.Requests, 4)

	stderr := stop()
	assert.Contains(t, stderr, "sim: stopped")
	assert.Contains(t, stderr, "cli-1", "requests are logged to stderr")
	_, err = http.Get(base + sim.LedgerPath)
	assert.Error(t, err, "the listener is closed")
}

func TestSimCommandErrors(t *testing.T) {
	simPriv, simPub, clientPub, _, _ := simKeyFiles(t)
	ok := []string{"--key", simPriv, "--client-public", clientPub}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"all interfaces", append([]string{"sim", "--addr", "0.0.0.0:0"}, ok...), ExitUsage, "loopback only"},
		{"empty host", append([]string{"sim", "--addr", ":0"}, ok...), ExitUsage, "loopback only"},
		{"a name", append([]string{"sim", "--addr", "gateway.example:80"}, ok...), ExitUsage, "loopback only"},
		{"no port", append([]string{"sim", "--addr", "127.0.0.1"}, ok...), ExitUsage, "host:port"},
		{"bad faults", append([]string{"sim", "--addr", "127.0.0.1:0", "--faults", "lost:pay,boom:any"}, ok...), ExitUsage, `item 2 "boom:any"`},
		{"bad class", append([]string{"sim", "--addr", "127.0.0.1:0", "--class-pay", "8"}, ok...), ExitUsage, "pay class 8"},
		{"negative duration", append([]string{"sim", "--addr", "127.0.0.1:0", "--reverse-window", "-1h"}, ok...), ExitUsage, "--reverse-window"},
		{"bad merchant", append([]string{"sim", "--addr", "127.0.0.1:0", "--merchant", "12"}, ok...), ExitUsage, "Merchants"},
		{"missing key flag", []string{"sim", "--client-public", clientPub}, ExitUsage, "key"},
		{"key file missing", []string{"sim", "--addr", "127.0.0.1:0", "--key", simPriv + ".nope", "--client-public", clientPub}, ExitLibrary, "--key"},
		{"public key as private", []string{"sim", "--addr", "127.0.0.1:0", "--key", simPub, "--client-public", clientPub}, ExitLibrary, "--key"},
		{"private key as public", []string{"sim", "--addr", "127.0.0.1:0", "--key", simPriv, "--client-public", simPriv}, ExitLibrary, "--client-public"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := simKeysRun(t, tc.args...)
			assert.Equal(t, tc.code, code, "stderr: %s", errs)
			assert.Contains(t, errs, tc.want)
			assert.NotContains(t, out, "listening", "nothing served")
		})
	}
}

func TestSimHelp(t *testing.T) {
	code, out, _ := simKeysRun(t, "sim", "--help")
	require.Equal(t, ExitOK, code)
	for _, want := range []string{"listening http://127.0.0.1:PORT", "/_sim/ledger", "processing", "count=N", "--faults", "--class-pay", "E1003",
		"--store", "only as long as the\nprocess", "tombstone"} {
		assert.Contains(t, out, want)
	}
}

// TestSimCommandSIGTERM: SIGTERM stops the simulator cleanly (exit 0).
func TestSimCommandSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	simPriv, _, clientPub, _, _ := simKeyFiles(t)
	pr, pw := io.Pipe()
	stderr := &simLockedBuffer{}
	g := &globals{stdin: strings.NewReader(""), stdout: pw, stderr: stderr}
	done := make(chan int, 1)
	go func() {
		root := newRoot(g)
		root.SetArgs([]string{"sim", "--addr", "127.0.0.1:0", "--key", simPriv, "--client-public", clientPub, "-q"})
		code := ExitOK
		if err := root.Execute(); err != nil {
			code = ExitLibrary
		}
		done <- code
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	require.True(t, strings.HasPrefix(line, "listening http://127.0.0.1:"))
	// The handler is installed before the first line is printed, so the
	// signal stops the simulator instead of the test binary.
	self, err := os.FindProcess(os.Getpid())
	require.NoError(t, err)
	require.NoError(t, self.Signal(syscall.SIGTERM))
	assert.Equal(t, ExitOK, <-done)
	assert.Contains(t, stderr.String(), "sim: stopped")
}

// simServe runs `sim` with args in process until the returned stop is
// called; it returns the base URL and the stop function, which waits for
// the command and returns its stderr.
func simServe(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	pr, pw := io.Pipe()
	stderr := &simLockedBuffer{}
	g := &globals{stdin: strings.NewReader(""), stdout: pw, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(append([]string{"sim", "--addr", "127.0.0.1:0"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		_ = pw.Close()
	}()
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done)
		}
		return stderr.String()
	}
	t.Cleanup(func() { stop() })
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	require.True(t, strings.HasPrefix(line, "listening http://127.0.0.1:"), line)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return strings.TrimSpace(strings.TrimPrefix(line, "listening ")), stop
}

// simPost signs f with client, posts it and returns the verified answer.
func simPost(t *testing.T, base, path string, client *rsa.PrivateKey, gw *rsa.PublicKey, f paytree.Fields) paytree.Fields {
	t.Helper()
	f = f.Clone()
	sig, err := keys.Sign(client, []byte(paytree.Canonical(f)))
	require.NoError(t, err)
	f[paytree.FSign] = sig
	body, err := paytree.Encode(f)
	require.NoError(t, err)
	resp, err := http.Post(base+path, "application/json; charset=utf-8", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body %q", raw)
	ans, err := paytree.Decode(raw)
	require.NoError(t, err)
	require.NoError(t, keys.Verify(gw, []byte(paytree.Canonical(ans)), ans[paytree.FSign]))
	return ans
}

// TestSimCommandStore: with --store, a second `sim` on the same file knows
// the first one's pay (confirm PAID, same orderId), replays its answer,
// refunds it and keeps its tombstone; a damaged file is refused (exit 1),
// named, and left as it was.
func TestSimCommandStore(t *testing.T) {
	simPriv, _, clientPub, client, gw := simKeyFiles(t)
	store := filepath.Join(t.TempDir(), "history.json")
	args := []string{"--key", simPriv, "--client-public", clientPub, "--store", store, "--approve-after", "1h"}
	req := func(rid string, extra paytree.Fields) paytree.Fields {
		f := paytree.Fields{
			paytree.FMerchantID: "123456789012", paytree.FTerminalUniqueID: "ABCDE0123456T",
			paytree.FBranchCode: "B1", paytree.FTerminalCode: "T1", paytree.FLocale: "JAPAN", paytree.FTimeZone: "p9",
			paytree.FCurrencyCode: "JPY", paytree.FAppVersion: paytree.DefaultAppVersion, paytree.FRequestID: rid,
			paytree.FRequestTime: "20250115100000", paytree.FSignType: "RSA",
		}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	paths := sim.DefaultPaths()
	payReq := req("st-pay", paytree.Fields{paytree.FPayType: "PAYPAY", paytree.FAmount: "1000", paytree.FUserCode: "990000000000000000"})

	base, stop := simServe(t, args...)
	pay := simPost(t, base, paths.Pay, client, gw, payReq)
	require.Equal(t, paytree.CodeOK, pay[paytree.FResultCode])
	oid := pay[paytree.FOrderID]
	waiting := simPost(t, base, paths.Pay, client, gw, req("st-wait", paytree.Fields{paytree.FPayType: "PAYPAY", paytree.FAmount: "50", paytree.FUserCode: "990000000000000001"}))
	require.Equal(t, paytree.StatusWaiting.Wire(), waiting[paytree.FTransStatus])
	rev := simPost(t, base, paths.Reverse, client, gw, req("st-rev", paytree.Fields{paytree.FTargetRequestID: "st-late"}))
	require.Equal(t, paytree.CodeOK, rev[paytree.FResultCode])
	errs := stop()
	assert.Contains(t, errs, "sim: store "+store+": 0 orders, 0 requests kept")

	base, stop = simServe(t, args...)
	c := simPost(t, base, paths.Confirm, client, gw, req("st-c1", paytree.Fields{paytree.FTargetRequestID: "st-pay"}))
	assert.Equal(t, paytree.CodeOK, c[paytree.FTargetResultCode])
	assert.Equal(t, oid, c[paytree.FOrderID], "the same orderId after the restart")
	assert.Equal(t, paytree.StatusPaid.Wire(), c[paytree.FTransStatus])
	c = simPost(t, base, paths.Confirm, client, gw, req("st-c2", paytree.Fields{paytree.FTargetRequestID: "st-wait"}))
	assert.Equal(t, paytree.StatusWaiting.Wire(), c[paytree.FTransStatus], "still waiting: approval due in an hour")
	again := simPost(t, base, paths.Pay, client, gw, payReq)
	assert.Equal(t, oid, again[paytree.FOrderID], "the resend gets the stored answer")
	assert.Equal(t, pay[paytree.FTransTime], again[paytree.FTransTime])
	r := simPost(t, base, paths.Refund, client, gw, req("st-ref", paytree.Fields{paytree.FOrderID: oid, paytree.FRefundAmount: "400"}))
	assert.Equal(t, paytree.CodeOK, r[paytree.FResultCode])
	assert.Equal(t, "400", r[paytree.FRefundedTotal])
	late := simPost(t, base, paths.Pay, client, gw, req("st-late", paytree.Fields{paytree.FPayType: "PAYPAY", paytree.FAmount: "10", paytree.FUserCode: "990000000000000000"}))
	assert.Equal(t, paytree.E3004, late[paytree.FResultCode], "the tombstone survived")
	errs = stop()
	if !assert.Contains(t, errs, "sim: store "+store+": 2 orders, 3 requests kept") {
		raw, _ := os.ReadFile(store)
		t.Logf("store after the second run:\n%s", raw)
	}

	// A third run sees the refund of the second.
	base, stop = simServe(t, args...)
	r = simPost(t, base, paths.Refund, client, gw, req("st-ref2", paytree.Fields{paytree.FOrderID: oid, paytree.FRefundAmount: "600"}))
	assert.Equal(t, "1000", r[paytree.FRefundedTotal])
	stop()

	t.Run("damaged store", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		content := []byte(`{"version": 1, "orders": [`)
		require.NoError(t, os.WriteFile(bad, content, 0o600))
		code, out, errs := simKeysRun(t, "sim", "--addr", "127.0.0.1:0", "--key", simPriv, "--client-public", clientPub, "--store", bad)
		assert.Equal(t, ExitLibrary, code)
		assert.Contains(t, errs, "--store")
		assert.Contains(t, errs, bad)
		assert.Contains(t, errs, "truncated")
		assert.NotContains(t, out, "listening", "nothing served")
		after, err := os.ReadFile(bad)
		require.NoError(t, err)
		assert.Equal(t, content, after, "left untouched")
	})
	t.Run("memory only", func(t *testing.T) {
		_, stop := simServe(t, "--key", simPriv, "--client-public", clientPub, "-q")
		assert.Contains(t, stop(), "the history lives only as long as this process")
	})
}
