package command

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemo runs the whole demo, the crash of a real child process included
// (the test binary stands in for wbpay-engine: see the init function in
// cli_helpers_test.go). It takes a few seconds of real time.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo waits on the real clock; skipped with -short")
	}
	var out, errb syncBuffer
	code := execute(&globals{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"demo"})
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	require.Equal(t, ExitOK, code)
	s := out.String()
	for _, want := range []string{
		"1. A plain payment.", "PAID: 1,000 yen with PayPay",
		"2. A payment that waits for the customer's passcode.", "WAITING: the customer must approve",
		"3. A payment whose answer is lost.", "NOT PAID: the pay was undone (reversed)",
		"4. A declined payment.", "E2002 insufficient balance",
		"5. A partial refund, then a full one.", "PARTIALLY_REFUNDED",
		"6. A reverse", "7. A deposit", "DEPOSITED: 5,000 yen",
		"8. A crash in the middle of a payment.", "is killed now",
		"9. Recovery.", "sending -> paid",
		"10. The audit trail.", "11. The journal's integrity.", "journal OK:",
		"In all the gateway holds 7,500 yen",
		"Demo finished in",
	} {
		assert.Contains(t, s, want)
	}
	home := regexp.MustCompile(`(?m)^  home\s+(\S+)$`).FindStringSubmatch(s)
	require.Len(t, home, 2)
	_, err := os.Stat(home[1])
	assert.True(t, os.IsNotExist(err), "the throwaway home %s is removed", home[1])
}
