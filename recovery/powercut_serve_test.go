//go:build crashmatrix && linux

package recovery_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
)

// daemonChild is a `wbpay-engine serve` child on a home.
type daemonChild struct {
	cmd   *exec.Cmd
	url   string
	token string
	out   *bytes.Buffer
}

// startServe starts serve on home and waits for its serve.json.
func startServe(t *testing.T, home string) *daemonChild {
	t.Helper()
	_ = os.Remove(filepath.Join(home, "serve.json")) // a killed daemon's leftover
	var out bytes.Buffer
	cmd := exec.Command(engineBinary(t), "serve", "--home", home, "--listen", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	d := &daemonChild{cmd: cmd, out: &out}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Kill()
			_ = d.cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var sj struct {
			URL string `json:"url"`
			PID int    `json:"pid"`
		}
		if b, err := os.ReadFile(filepath.Join(home, "serve.json")); err == nil && json.Unmarshal(b, &sj) == nil && sj.PID == cmd.Process.Pid {
			tok, err := os.ReadFile(filepath.Join(home, "serve.token"))
			require.NoError(t, err)
			d.url, d.token = sj.URL, strings.TrimSpace(string(tok))
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not write serve.json within 30 s; its output:\n%s", out.String())
	return nil
}

// call sends one API request with token and decodes the JSON answer.
func (d *daemonChild) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, d.url+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v
}

// TestPowerCutServe: the daemon on a lossy disk answers a pay as paid; the
// machine then loses its power with the daemon running. After the cut the
// token the POS holds still opens the API, the home's journal id and
// userCode key are there, the journal holds the pay as the daemon reported
// it, and serve starts again on it.
func TestPowerCutServe(t *testing.T) {
	lazyfsServer(t)
	engineBinary(t)
	const seeds = 4
	violations := 0
	for seed := int64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			disk := newLossyDisk(t, t.TempDir())
			home := filepath.Join(disk.mnt, "pos1")
			code, out := runInit(t, home, "init", "--test-mode")
			require.Equal(t, 0, code, "init: %s", out)
			disk.Sync() // a home installed long before

			d := startServe(t, home)
			status, a := d.call(t, "POST", "/v1/pay?wait=30", d.token, map[string]any{"payType": "PAYPAY", "amount": 1500, "userCode": "281234567890123456"})
			require.Equal(t, http.StatusOK, status, "pay through the daemon: %v\n%s", a, d.out)
			require.Equal(t, "paid", a["state"], "%v", a)
			id, _ := a["id"].(string)

			// The power fails with the daemon running: kill it and cut at once.
			require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
			_ = d.cmd.Wait()
			rep := disk.Cut(seed)

			var bad []string
			for _, f := range []string{"serve.token", "journal.id", "usercode.key", wbpay.JournalFile} {
				if _, err := os.Stat(filepath.Join(home, f)); err != nil {
					bad = append(bad, fmt.Sprintf("after the cut %s is gone: %v", f, err))
				}
			}
			if tok, err := os.ReadFile(filepath.Join(home, "serve.token")); err == nil && strings.TrimSpace(string(tok)) != d.token {
				bad = append(bad, "after the cut serve.token holds another token than the POS was given")
			}
			bad = append(bad, reportedSurvives(home, id, "paid")...)
			if len(bad) == 0 {
				again := startServe(t, home)
				st, h := again.call(t, "GET", "/v1/health", d.token, nil)
				if st != http.StatusOK {
					bad = append(bad, fmt.Sprintf("after the cut the POS's token gets %d from the restarted daemon: %v", st, h))
				}
				st, tx := again.call(t, "GET", "/v1/transactions/"+id, d.token, nil)
				if st != http.StatusOK || tx["state"] != "paid" {
					bad = append(bad, fmt.Sprintf("after the cut the restarted daemon answers %d for pay %s: %v", st, id, tx))
				}
				require.NoError(t, again.cmd.Process.Signal(syscall.SIGTERM))
				_ = again.cmd.Wait()
			}
			for _, msg := range bad {
				violations++
				t.Errorf("serve, a pay, then a power cut: %s (%s)", msg, summary(rep))
			}
		})
	}
	fmt.Fprintf(os.Stdout, "power-cut serve: %d seeds, %d violations\n", seeds, violations)
}

// reportedSurvives checks that transaction id is in home's journal in
// state, as it was reported before the cut.
func reportedSurvives(home, id, state string) []string {
	j, err := journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return []string{fmt.Sprintf("pay %s was reported %s, but after the cut the journal does not open: %v", id, state, err)}
	}
	defer j.Close()
	txn, err := j.Get(id)
	switch {
	case err != nil:
		return []string{fmt.Sprintf("pay %s was reported %s, but after the cut the journal does not have it: %v", id, state, err)}
	case txn.State.String() != state:
		return []string{fmt.Sprintf("pay %s was reported %s, but after the cut the journal has it %s", id, state, txn.State)}
	}
	return nil
}
