package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func TestPayPaidJSON(t *testing.T) {
	e := newTestMode(t, nil)
	r, res := e.payJSON("--amount", "1000.9", "--user-code", "281234567890123456", "--pay-type", "PAYPAY", "--receipt-no", "R-1")
	require.Equal(t, ExitOK, r.code)
	assert.Equal(t, "pay", res.Operation)
	assert.Equal(t, "paid", res.State)
	assert.Equal(t, int64(1000), res.Amount, "the fraction is truncated")
	assert.Equal(t, "PAYPAY", res.PayType)
	assert.Equal(t, "PAID", res.TransStatus)
	assert.NotEmpty(t, res.OrderID)
	assert.Len(t, res.TransactionID, 32)
	require.Len(t, res.Events, 1)
	assert.Equal(t, eventJSON{Kind: "complete", Request: "pay", Code: paytree.CodeOK, Message: "pay PAID 1,000 yen",
		OrderID: res.OrderID, TransStatus: "PAID", Amount: 1000, PayType: "PAYPAY", TransTime: res.Events[0].TransTime}, res.Events[0])
	assert.NotContains(t, r.stdout+r.stderr, "281234567890123456", "the user code is never printed in full")

	// The JSON keys are the documented ones.
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &raw))
	for _, k := range []string{"transactionId", "operation", "state", "orderId", "transStatus", "amount", "payType", "events"} {
		assert.Contains(t, raw, k)
	}
	ev := raw["events"].([]any)[0].(map[string]any)
	for _, k := range []string{"kind", "type", "code", "subCode", "message", "action"} {
		assert.Contains(t, ev, k)
	}
}

func TestPayTableForTheCashier(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("pay", "--amount", "1980", "--user-code", "281234567890123456")
	require.Equal(t, ExitOK, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "PAID: 1,980 yen with PayPay\n"), r.stdout)
	require.Len(t, r.results, 1)
	assert.Contains(t, r.stdout, r.results[0].TransactionID)
	assert.Contains(t, r.stdout, r.results[0].OrderID)
}

func TestPayDeclinedExits3WithWhomToCall(t *testing.T) {
	e := newTestMode(t, map[string]string{"TestClassPay": "4"})
	r := e.run("pay", "--amount", "50000", "--user-code", "281234567890123456")
	assert.Equal(t, ExitRefused, r.code)
	assert.Contains(t, r.stdout, "REFUSED: nothing was charged")
	assert.Contains(t, r.stdout, "E2002 insufficient balance")
	assert.Contains(t, r.stdout, "残高不足です")
	assert.Contains(t, r.stdout, "what to do: ask the customer")
	assert.Contains(t, r.stdout, "(Customer)")
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StateFailed, r.results[0].State)
}

func TestPayLostAnswerIsReversed(t *testing.T) {
	e := newTestMode(t, map[string]string{"TestClassPay": "2"})
	r, res := e.payJSON("--amount", "1200", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	assert.Equal(t, ExitRefused, r.code, "undone: nothing moved")
	assert.Equal(t, "reversed", res.State)
	require.NotEmpty(t, res.Events)
	last := res.Events[len(res.Events)-1]
	assert.Equal(t, "error", last.Kind)
	assert.Equal(t, "Retry", last.Action)
	assert.Equal(t, 2, last.Type, "a network error")
}

func TestPayUserCodeFromStdin(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.runWith(runOpts{stdin: "281234567890123456\n"}, "pay", "--amount", "100", "--user-code", "-", "-o", "json")
	require.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, `"state": "paid"`)

	r = e.runWith(runOpts{stdin: ""}, "pay", "--amount", "100", "--user-code", "-")
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, "no line on stdin")
}

func TestPayUsageErrors(t *testing.T) {
	e := newTestMode(t, nil)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"letters", []string{"--amount", "abc"}, "not an amount"},
		{"negative", []string{"--amount", "-5"}, "not an amount"},
		{"zero", []string{"--amount", "0"}, "less than 1 yen"},
		{"exponent", []string{"--amount", "1e3"}, "not an amount"},
		{"separator", []string{"--amount", "1,000"}, "not an amount"},
		{"sixteen digits", []string{"--amount", "1000000000000000"}, "more than 15 digits"},
		{"missing amount", nil, `required flag(s) "amount"`},
		{"empty user code", []string{"--amount", "1", "--user-code", " "}, "--user-code is empty"},
		{"unknown channel", []string{"--amount", "1", "--pay-type", "VISA"}, "not a channel"},
		{"receipt too long", []string{"--amount", "1", "--receipt-no", strings.Repeat("R", 33)}, "ReceiptNo is 33 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"pay"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--user-code") {
				args = append(args, "--user-code", "281234567890123456")
			}
			r := e.run(args...)
			assert.Equal(t, ExitUsage, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.results, "nothing was sent")
		})
	}
}

func TestPayLibraryErrors(t *testing.T) {
	t.Run("missing home", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "nowhere")
		r := runBare(t, "pay", "--home", home, "--amount", "1", "--user-code", "281234567890123456")
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "home "+home+" does not exist")
		assert.Contains(t, r.stderr, "wbpay-engine init")
	})
	t.Run("missing config", func(t *testing.T) {
		e := newTestMode(t, nil)
		require.NoError(t, os.Remove(filepath.Join(e.home, config.FileName)))
		r := e.run("pay", "--amount", "1", "--user-code", "281234567890123456")
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "no configuration file")
		assert.Contains(t, r.stderr, "L0001")
	})
	t.Run("invalid config", func(t *testing.T) {
		e := newTestMode(t, map[string]string{"MerchantId": "1234"})
		r := e.run("pay", "--amount", "1", "--user-code", "281234567890123456")
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "L0001")
		assert.Contains(t, r.stderr, "MerchantId")
		assert.Contains(t, r.stderr, "config check")
	})
	t.Run("bad key", func(t *testing.T) {
		e := newTestMode(t, nil)
		require.NoError(t, os.WriteFile(filepath.Join(e.home, clientKeyFile), []byte("not a key"), 0o600))
		r := e.run("pay", "--amount", "1", "--user-code", "281234567890123456")
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "L0002")
		assert.Contains(t, r.stderr, "no PEM block")
	})
	t.Run("home in use", func(t *testing.T) {
		e := newTestMode(t, nil)
		eng := e.open()
		r := e.run("pay", "--amount", "1", "--user-code", "281234567890123456")
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "L0006")
		assert.Contains(t, r.stderr, "another wbpay-engine")
		require.NoError(t, eng.Close())
	})
	t.Run("bad gateway CA", func(t *testing.T) {
		e := newTestMode(t, nil)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, []byte("nothing"), 0o644))
		r := e.run("pay", "--amount", "1", "--user-code", "281234567890123456", "--gateway-ca", ca)
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "no PEM certificate")
	})
}

// TestPayOverHTTPS pays through a simulator on loopback HTTPS whose
// certificate is trusted through --gateway-ca only.
func TestPayOverHTTPS(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	r, res := e.payJSON("--amount", "700", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(t, ExitOK, r.code)
	assert.Equal(t, "paid", res.State)
	o, ok := e.sim.Ledger().OrderByRequestID(res.TransactionID)
	require.True(t, ok, "the gateway holds the order")
	assert.Equal(t, int64(700), o.MoneyHeld())
}

func TestPayWithoutTrustedCertificateIsNotSent(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	e.ca = ""
	var out, errb syncBuffer
	g := &globals{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, terminal: func(any) bool { return false }}
	code := execute(g, []string{"pay", "--home", e.home, "--amount", "700", "--user-code", "281234567890123456", "--http-timeout", "5s", "-o", "json"})
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	assert.NotEqual(t, ExitOK, code)
	assert.Contains(t, out.String(), "N0006", "TLS certificate not trusted")
	_, held := e.sim.Ledger().OrderByRequestID("")
	assert.False(t, held)
	assert.Empty(t, e.sim.Ledger().Orders, "nothing reached the gateway")
}
