package command

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPayIdempotencyKey: `pay --idempotency-key` run twice charges once and
// prints the first transaction the second time; another request under the
// key is refused before anything is sent.
func TestPayIdempotencyKey(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	args := []string{"--amount", "1000", "--user-code", "281234567890123456", "--receipt-no", "R-7", "--idempotency-key", "R-7"}
	r1, first := e.payJSON(args...)
	require.Equal(t, ExitOK, r1.code)
	assert.False(t, first.Replayed)
	r2, again := e.payJSON(args...)
	require.Equal(t, ExitOK, r2.code)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.TransactionID, again.TransactionID)
	assert.Equal(t, "paid", again.State)
	assert.Len(t, e.sim.Ledger().Orders, 1, "charged once")

	r3 := e.run("pay", "--amount", "1200", "--user-code", "281234567890123456", "--receipt-no", "R-7", "--idempotency-key", "R-7")
	assert.Equal(t, ExitLibrary, r3.code)
	assert.Contains(t, r3.stderr, "L0010")
	assert.Len(t, e.sim.Ledger().Orders, 1, "the refused request sent nothing")

	human := e.run(append([]string{"pay"}, args...)...)
	assert.Contains(t, human.stdout, "nothing was sent again")
}
