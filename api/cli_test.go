//go:build unix

package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	osexec "os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cli runs wbpay-engine against the env's home and returns stdout, stderr
// and the exit code.
func (e *env) cli(args ...string) (string, string, int) {
	e.t.Helper()
	full := append([]string{"--home", e.home, "--gateway-ca", e.gw.CAFile}, args...)
	cmd := osexec.Command(engineBinary(e.t), full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*osexec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(e.t, err)
	}
	return out.String(), errb.String(), code
}

// TestCLIBesideDaemon: while a daemon holds the home, the request verbs
// and the audit verbs go through its API (saying so) instead of failing
// with L0006, progress lines go to stderr without a terminal, --events
// jsonl streams the events, and recover says the daemon has the home.
func TestCLIBesideDaemon(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()

	out, errs, code := e.cli("pay", "--amount", "1000", "--user-code", classCode(0), "--pay-type", "PAYPAY", "-o", "json")
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, errs, "going through its API")
	var res struct {
		TransactionID string `json:"transactionId"`
		State         string `json:"state"`
		OrderID       string `json:"orderId"`
		Events        []struct {
			Kind        string `json:"kind"`
			TransStatus string `json:"transStatus"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, "paid", res.State)
	require.Len(t, res.Events, 1)
	assert.Equal(t, "PAID", res.Events[0].TransStatus)
	o, ok := e.gw.Sim.Ledger().OrderByRequestID(res.TransactionID)
	require.True(t, ok)
	assert.Equal(t, res.OrderID, o.OrderID)

	// A WAITING pay with --events jsonl: the WAITING complete is a line of
	// its own before the PAID one, and stderr says what it waits for.
	out, errs, code = e.cli("pay", "--amount", "500", "--user-code", classCode(1), "--pay-type", "PAYPAY", "--events", "jsonl")
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, errs, "waiting for the customer's passcode")
	var statuses []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line struct {
			ID    uint64 `json:"id"`
			Event string `json:"event"`
			Data  struct {
				Final       bool `json:"final"`
				Transaction struct {
					TransStatus *string `json:"transStatus"`
				} `json:"transaction"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "line %q", sc.Text())
		assert.NotZero(t, line.ID)
		if line.Event == "complete" {
			statuses = append(statuses, *line.Data.Transaction.TransStatus)
		}
	}
	assert.Equal(t, []string{"WAITING", "PAID"}, statuses)

	out, errs, code = e.cli("refund", "--order-id", res.OrderID, "--amount", "100")
	assert.Equal(t, 0, code, "stdout %s\nstderr %s", out, errs)
	assert.Contains(t, out, "REFUNDED")
	out, errs, code = e.cli("pay", "--amount", "0", "--user-code", classCode(0))
	assert.Equal(t, 2, code, "a usage error: stdout %s stderr %s", out, errs)

	// Audit verbs.
	out, errs, code = e.cli("history", "-o", "json")
	require.Equal(t, 0, code, errs)
	var hist []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &hist))
	assert.Len(t, hist, 3)
	assert.Contains(t, errs, "going through its API")
	out, errs, code = e.cli("show", res.TransactionID, "-o", "json")
	require.Equal(t, 0, code, errs)
	var tl struct {
		TransactionID string           `json:"transactionId"`
		Entries       []map[string]any `json:"entries"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &tl))
	assert.Equal(t, res.TransactionID, tl.TransactionID)
	assert.NotEmpty(t, tl.Entries)
	out, errs, code = e.cli("show", res.OrderID)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "refund")
	out, errs, code = e.cli("export", "--format", "jsonl")
	require.Equal(t, 0, code, errs)
	lines := strings.Count(out, "\n")
	v := d.request("GET", "/v1/verify", nil)
	assert.Equal(t, v.body["entries"], float64(lines), "one line per journal entry")
	out, errs, code = e.cli("verify", "-o", "json")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, `"ok": true`)
	out, _, code = e.cli("export", "--format", "csv")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "seq,time,txnId,"), out)

	out, errs, code = e.cli("recover")
	assert.Equal(t, 0, code, "stdout %s stderr %s", out, errs)
	assert.Contains(t, out, "daemon serving this home")
	assert.NotContains(t, out+errs, classCode(0), "no full userCode in any output")
}
