package wbpay_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
)

// TestAuditReadOnly: the audit view and the shipping view offer no method
// that writes a transaction, and the audit view reads what a pay wrote.
func TestAuditReadOnly(t *testing.T) {
	for _, v := range []any{wbpay.Audit{}, wbpay.Shipping{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumMethod() {
			name := typ.Method(i).Name
			assert.NotContains(t, []string{"Append", "Put", "Repair", "RecordPrint", "EnsureID", "Close"}, name, "%s.%s writes", typ, name)
		}
		assert.Zero(t, typ.NumField()-1, "%s holds one unexported field", typ)
		assert.False(t, typ.Field(0).IsExported(), "%s exposes no journal", typ)
	}

	h := newHarness(t, harnessOpt{})
	res := payN(t, h, 1)[0]
	got, err := h.eng.Audit().Get(res.TransactionID)
	require.NoError(t, err)
	assert.Equal(t, wbpay.StatePaid, got.State)
	seq, err := h.eng.Audit().LastSeq()
	require.NoError(t, err)
	assert.Positive(t, seq)
}
