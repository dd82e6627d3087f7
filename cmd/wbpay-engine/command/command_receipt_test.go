package command

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/slip"
)

// TestReceiptCommand (issue 14.1): pay -o json carries the receipt with its
// void deadline; receipt prints the slip in both widths and copies, the
// first of each copy as the original and every later one marked 再発行.
func TestReceiptCommand(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	r, paid := e.payJSON("--amount", "1500", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(t, ExitOK, r.code)
	require.NotNil(t, paid.Receipt, "the final result carries its receipt")
	assert.Equal(t, "PayPay", paid.Receipt.ChannelJa)
	assert.EqualValues(t, 1500, paid.Receipt.Amount)
	assert.Equal(t, paid.OrderID, paid.Receipt.OrderID)
	assert.False(t, paid.Receipt.ReversibleUntil.IsZero(), "a paid pay states its void deadline")
	assert.NotContains(t, r.stdout, "281234567890123456", "no full user code")
	table := e.run("pay", "--amount", "100", "--user-code", "281234567890123456")
	assert.Contains(t, table.stdout, "reversible   until")

	first := e.run("receipt", paid.TransactionID)
	require.Equal(t, ExitOK, first.code)
	assert.NotContains(t, first.stdout, "再発行")
	assert.Contains(t, first.stdout, "【お客様控え】")
	assert.Contains(t, first.stdout, "¥1,500")
	assert.Contains(t, first.stdout, "取消期限")
	for _, l := range strings.Split(strings.TrimSuffix(first.stdout, "\n"), "\n") {
		assert.Equal(t, 32, slip.Columns(l), "line %q", l)
	}
	again := e.run("receipt", paid.TransactionID, "--width", "42")
	require.Equal(t, ExitOK, again.code)
	assert.Contains(t, again.stdout, "** 再発行 **")
	for _, l := range strings.Split(strings.TrimSuffix(again.stdout, "\n"), "\n") {
		assert.Equal(t, 42, slip.Columns(l), "line %q", l)
	}
	merchant := e.run("receipt", paid.TransactionID, "--copy", "merchant")
	require.Equal(t, ExitOK, merchant.code)
	assert.Contains(t, merchant.stdout, "【加盟店控え】")
	assert.NotContains(t, merchant.stdout, "再発行", "the first of the store's copy is an original")

	js := e.run("receipt", paid.TransactionID, "--copy", "merchant", "-o", "json")
	require.Equal(t, ExitOK, js.code)
	var p wbpay.Printed
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &p))
	assert.True(t, p.Reprint)
	assert.Equal(t, 2, p.Count)
	assert.Equal(t, paid.TransactionID, p.Receipt.TransactionID)

	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"bad copy", []string{"receipt", paid.TransactionID, "--copy", "office"}, ExitUsage},
		{"bad width", []string{"receipt", paid.TransactionID, "--width", "40"}, ExitUsage},
		{"unknown id", []string{"receipt", "0000000000000000000000000000dead"}, ExitLibrary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.code, e.run(tc.args...).code)
		})
	}
	// The refused ones did not count: the next customer slip is the third.
	js = e.run("receipt", paid.TransactionID, "-o", "json")
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &p))
	assert.Equal(t, 3, p.Count)
}
