package crashpoint_test

import (
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/internal/crashpoint/gen/points"
	"github.com/wbpay/wbpay/paytree"
)

// TestGeneratedFresh fails when points_gen.go no longer matches the state
// machines: run `go generate ./internal/crashpoint/`.
func TestGeneratedFresh(t *testing.T) {
	got, err := os.ReadFile("points_gen.go")
	require.NoError(t, err)
	assert.Equal(t, string(points.Source()), string(got), "points_gen.go is stale: run go generate ./internal/crashpoint/")
}

// TestDeclared: every event of every machine has its two commit points,
// every name is declared once, and the builders name declared points.
func TestDeclared(t *testing.T) {
	d := crashpoint.Declared()
	assert.True(t, slices.IsSorted(d))
	assert.Len(t, slices.Compact(slices.Clone(d)), len(d), "no point is declared twice")
	for _, op := range points.Ops {
		for _, tr := range fsm.Transitions(op) {
			for _, after := range []bool{false, true} {
				p := crashpoint.Commit(op.String(), string(tr.Event), after)
				assert.True(t, crashpoint.IsDeclared(p), "%s", p)
			}
		}
	}
	for _, p := range []string{
		crashpoint.Send("pay", "confirm", false), crashpoint.Send("pay", "reverse", true),
		crashpoint.Send("refund", "refund", true), crashpoint.Send("reverse", "confirm", false),
		crashpoint.TransportSendBefore, crashpoint.TransportReceiveAfter,
	} {
		assert.True(t, crashpoint.IsDeclared(p), "%s", p)
	}
	assert.False(t, crashpoint.IsDeclared(crashpoint.Send("refund", "reverse", false)), "a refund never sends a reverse")
	assert.False(t, crashpoint.IsDeclared("journal/commit/before"), "the journal's duplicate pair is gone")
	assert.Equal(t, "pay/send/journal-before", crashpoint.Commit(paytree.OpPay.String(), string(fsm.EvSend), false))
	t.Logf("%d crash points declared", len(d))
}
