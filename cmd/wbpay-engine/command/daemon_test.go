package command

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventsJSONLInProcess: without a daemon, --events jsonl writes each
// event of the request to stdout as a JSON line (the WAITING complete
// first), and stderr, not a terminal, gets progress lines.
func TestEventsJSONLInProcess(t *testing.T) {
	e := newTestMode(t, map[string]string{"TestClassPay": "1", "PayConfirmPollingMode": "yes", "PayConfirmPollingWait": "1", "PayConfirmPollingInterval": "1"})
	r := e.run("pay", "--amount", "700", "--user-code", "281234567890123456", "--events", "jsonl")
	require.Equal(t, ExitOK, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	var kinds, statuses []string
	var last uint64
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var line struct {
			ID    uint64 `json:"id"`
			Event string `json:"event"`
			Data  struct {
				Final       bool `json:"final"`
				Transaction struct {
					State       string  `json:"state"`
					TransStatus *string `json:"transStatus"`
				} `json:"transaction"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "line %q", sc.Text())
		assert.Greater(t, line.ID, last, "ids increase")
		last = line.ID
		kinds = append(kinds, line.Event)
		if line.Event == "complete" {
			statuses = append(statuses, *line.Data.Transaction.TransStatus)
		}
	}
	assert.Equal(t, []string{"WAITING", "PAID"}, statuses)
	assert.Equal(t, "state", kinds[0])
	assert.Contains(t, r.stderr, "waiting for the customer's passcode")
	assert.NotContains(t, r.stdout+r.stderr, "281234567890123456")

	bad := e.run("pay", "--amount", "1", "--user-code", "1", "--events", "xml")
	assert.Equal(t, ExitUsage, bad.code)
}
