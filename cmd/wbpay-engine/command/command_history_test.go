package command

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// auditFixture is a home with a paid pay, a partial refund of it, a
// declined pay and a deposit, journaled in that order.
type auditFixture struct {
	*cliEnv
	paid, refund, declined, deposit string // transaction ids
	order                           string // the paid pay's order
}

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	f := &auditFixture{cliEnv: newHTTPS(t, nil, nil)}
	f.paid, f.order = f.paidWithReceipt("1000", "R-1")
	r := f.run("refund", "--order-id", f.order, "--amount", "300")
	require.Equal(t, ExitOK, r.code)
	f.refund = r.results[0].TransactionID
	r = f.run("pay", "--amount", "40000", "--user-code", classCode(4), "--pay-type", "PAYPAY")
	require.Equal(t, ExitRefused, r.code)
	f.declined = r.results[0].TransactionID
	r = f.run("deposit", "--amount", "5000", "--user-code", "3612345678901234", "--pay-type", "LINE")
	require.Equal(t, ExitOK, r.code)
	f.deposit = r.results[0].TransactionID
	return f
}

func (e *cliEnv) paidWithReceipt(amount, receipt string) (string, string) {
	e.t.Helper()
	r, res := e.payJSON("--amount", amount, "--user-code", "281234567890123456", "--pay-type", "PAYPAY", "--receipt-no", receipt)
	require.Equal(e.t, ExitOK, r.code)
	return res.TransactionID, res.OrderID
}

func historyIDs(t *testing.T, r cliRun) []string {
	t.Helper()
	require.Equal(t, ExitOK, r.code, r.stderr)
	var out []txnJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	ids := make([]string, 0, len(out))
	for _, x := range out {
		ids = append(ids, x.TransactionID)
	}
	return ids
}

func TestHistory(t *testing.T) {
	f := newAuditFixture(t)

	t.Run("json newest first with the documented fields", func(t *testing.T) {
		r := f.run("history", "-o", "json")
		assert.Equal(t, []string{f.deposit, f.declined, f.refund, f.paid}, historyIDs(t, r))
		var raw []map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &raw))
		for _, k := range []string{"transactionId", "operation", "state", "orderId", "amount", "createdAt", "updatedAt"} {
			assert.Contains(t, raw[0], k)
		}
		var out []txnJSON
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
		assert.Equal(t, txnJSON{TransactionID: f.paid, Operation: "pay", State: "paid", OrderID: f.order, Amount: 1000,
			PayType: "PAYPAY", TransStatus: "PAID", ReceiptNo: "R-1", UserCodeMasked: out[3].UserCodeMasked,
			CreatedAt: out[3].CreatedAt, UpdatedAt: out[3].UpdatedAt, RefundedTotal: ptr(int64(300)), Held: ptr(true)}, out[3],
			"a pay's standing: 300 of it refunded, the rest still held")
		assert.NotContains(t, r.stdout, "281234567890123456", "never the full user code")
		assert.True(t, strings.HasSuffix(out[3].CreatedAt, "+09:00"), "times in JST: %s", out[3].CreatedAt)
	})
	for _, tc := range []struct {
		name string
		args []string
		want func() []string
	}{
		{"state", []string{"--state", "failed"}, func() []string { return []string{f.declined} }},
		{"op", []string{"--op", "refund"}, func() []string { return []string{f.refund} }},
		{"order", []string{"--order-id", f.order}, func() []string { return []string{f.refund, f.paid} }},
		{"receipt", []string{"--receipt-no", "R-1"}, func() []string { return []string{f.paid} }},
		{"limit", []string{"--limit", "2"}, func() []string { return []string{f.deposit, f.declined} }},
		{"since today", []string{"--since", "2026-11-25"}, func() []string { return []string{f.deposit, f.declined, f.refund, f.paid} }},
		{"until yesterday", []string{"--until", "2026-11-24"}, func() []string { return []string{} }},
		{"since tomorrow", []string{"--since", "2026-11-26T00:00:00+09:00"}, func() []string { return []string{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.run(append([]string{"history", "-o", "json"}, tc.args...)...)
			assert.Equal(t, tc.want(), historyIDs(t, r))
		})
	}
	t.Run("table", func(t *testing.T) {
		r := f.run("history")
		require.Equal(t, ExitOK, r.code)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		require.Len(t, lines, 5)
		assert.True(t, strings.HasPrefix(lines[0], "CREATED (JST)"))
		assert.Contains(t, lines[1], f.deposit)
		assert.Contains(t, lines[2], "E2002")
		assert.NotContains(t, r.stdout, "NEED A PERSON", "nothing escalated")
	})
}

func TestHistoryErrors(t *testing.T) {
	e := newTestMode(t, nil)
	t.Run("no journal yet", func(t *testing.T) {
		r := e.run("history")
		assert.Equal(t, ExitOK, r.code)
		assert.Equal(t, "No transactions.\n", r.stdout)
		r = e.run("history", "-o", "json")
		assert.JSONEq(t, "[]", r.stdout)
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--state", "done"}, "not a state"},
		{[]string{"--op", "confirm"}, "not pay, refund, reverse or deposit"},
		{[]string{"--since", "yesterday"}, "neither RFC 3339"},
		{[]string{"--limit", "-1"}, "negative"},
		{[]string{"--since", "2026-11-25", "--until", "2026-11-24"}, "not before"},
	} {
		r := e.run(append([]string{"history"}, tc.args...)...)
		assert.Equal(t, ExitUsage, r.code, "%v", tc.args)
		assert.Contains(t, r.stderr, tc.want)
	}
	t.Run("missing home", func(t *testing.T) {
		r := runBare(t, "history", "--home", filepath.Join(t.TempDir(), "x"))
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "does not exist")
	})
	t.Run("home in use", func(t *testing.T) {
		eng := e.open()
		defer eng.Close()
		r := e.run("history")
		assert.Equal(t, ExitLibrary, r.code)
		assert.Contains(t, r.stderr, "L0006")
		assert.Contains(t, r.stderr, "holds the home")
	})
}

func ptr[T any](v T) *T { return &v }
