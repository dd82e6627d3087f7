package sim_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
)

// TestDeposit: LINE only, BASIC only, userCode 1–32.
func TestDeposit(t *testing.T) {
	tests := []struct {
		name, payType, valueType, userCode string
		want, field                        string
	}{
		{"line basic", "LINE", "BASIC", "3612345678", paytree.CodeOK, ""},
		{"paypay", "PAYPAY", "BASIC", "3612345678", paytree.E3006, ""},
		{"rakuten", "RAKUTEN", "BASIC", "3612345678", paytree.E3006, ""},
		{"bonus", "LINE", "BONUS", "3612345678", paytree.E1001, paytree.FValueType},
		{"coupon", "LINE", "COUPON", "3612345678", paytree.E1001, paytree.FValueType},
		{"point", "LINE", "POINT", "3612345678", paytree.E1001, paytree.FValueType},
		{"no value type", "LINE", "", "3612345678", paytree.E1001, paytree.FValueType},
		{"odd value type", "LINE", "basic", "3612345678", paytree.E1001, paytree.FValueType},
		{"no pay type", "", "BASIC", "3612345678", paytree.E1001, paytree.FPayType},
		{"jcb alipay", "JCB_ALIPAY", "BASIC", "3612345678", paytree.E1001, paytree.FPayType},
		{"user code 32", "LINE", "BASIC", strings.Repeat("3", 32), paytree.CodeOK, ""},
		{"user code 33", "LINE", "BASIC", strings.Repeat("3", 33), paytree.E1001, paytree.FUserCode},
		{"no user code", "LINE", "BASIC", "", paytree.E1001, paytree.FUserCode},
	}
	e := newEnv(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rid := e.id()
			a := e.post(paths.Deposit, e.depositFields(rid, tc.payType, tc.valueType, tc.userCode, 5000))
			ok(t, a, rid)
			require.Equal(t, tc.want, a.code(), "%v", a.fields)
			assert.Contains(t, a.get(paytree.FErrorMessage), tc.field)
			o, held := e.order(rid)
			if tc.want != paytree.CodeOK {
				assert.False(t, held)
				return
			}
			assert.Equal(t, paytree.StatusDeposited.Wire(), a.get(paytree.FTransStatus))
			assert.Equal(t, "5000", a.get(paytree.FAmount))
			assert.Len(t, a.get(paytree.FOrderID), 32)
			assert.NotEmpty(t, a.get(paytree.FTransTime))
			assert.Equal(t, "deposit", o.Operation)
			assert.Equal(t, int64(5000), o.MoneyHeld())
		})
	}
}
