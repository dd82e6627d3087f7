package command

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func TestDepositLINE(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("deposit", "--amount", "5000", "--user-code", "3612345678901234", "--pay-type", "LINE", "-o", "json")
	require.Equal(t, ExitOK, r.code)
	require.Len(t, r.results, 1)
	assert.Equal(t, fsm.StateDeposited, r.results[0].State)
	assert.Contains(t, r.stdout, `"operation": "deposit"`)
	assert.Contains(t, r.stdout, `"transStatus": "DEPOSITED"`)
	assert.Contains(t, r.stdout, `"payType": "LINE"`)
}

func TestDepositRefusedByChannel(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("deposit", "--amount", "5000", "--user-code", "3612345678901234", "--pay-type", "PAYPAY")
	assert.Equal(t, ExitRefused, r.code)
	assert.Contains(t, r.stdout, paytree.E3006)
	assert.Contains(t, r.stdout, "REFUSED: nothing was charged")
}

func TestDepositUsageErrors(t *testing.T) {
	e := newTestMode(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--amount", "5000", "--user-code", "3612345678901234", "--pay-type", "auto"}, "auto is not allowed"},
		{[]string{"--amount", "5000", "--user-code", "3612345678901234"}, `required flag(s) "pay-type"`},
		{[]string{"--amount", "5000", "--user-code", "123456789012345678901234567890123", "--pay-type", "LINE"}, "UserCode is 33 characters"},
	} {
		r := e.run(append([]string{"deposit"}, tc.args...)...)
		assert.Equal(t, ExitUsage, r.code, "%v", tc.args)
		assert.Contains(t, r.stderr, tc.want)
	}
}
