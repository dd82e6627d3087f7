package api_test

import (
	"fmt"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
)

// TestOpenAPIFieldLimits: the limits docs/api/openapi.yaml states for the
// request bodies and the transaction filters are those of paytree's field
// tables (maxLength, the enums of payType and valueType, the amount's
// range), so the file cannot drift from the rules the daemon checks.
func TestOpenAPIFieldLimits(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../docs/api/openapi.yaml")
	require.NoError(t, err)
	schemas := doc.Components.Schemas
	amount := schemas["Amount"].Value
	require.NotNil(t, amount.Min)
	require.NotNil(t, amount.Max)
	assert.Equal(t, float64(1), *amount.Min, "Amount minimum")
	assert.Equal(t, float64(paytree.MaxAmount), *amount.Max, "Amount maximum")

	for name, op := range map[string]paytree.Operation{
		"PayRequest": paytree.OpPay, "RefundRequest": paytree.OpRefund,
		"ReverseRequest": paytree.OpReverse, "DepositRequest": paytree.OpDeposit,
	} {
		table, ok := paytree.RequestTable(op, false)
		require.True(t, ok)
		sref := schemas[name]
		require.NotNil(t, sref, name)
		props := sref.Value.Properties
		for _, r := range table.Fields {
			if op == paytree.OpReverse && r.Field == paytree.FTargetRequestID {
				continue // the API reverses by orderId only
			}
			assert.Contains(t, props, r.Field, "%s has the wire field %s", name, r.Field)
		}
		for prop, p := range props {
			where := fmt.Sprintf("%s.%s", name, prop)
			r, ok := table.Rule(prop)
			if !assert.True(t, ok, "%s is a field of the %s table", where, op) {
				continue
			}
			s := p.Value
			switch {
			case r.Form == paytree.AmountForm:
				assert.Equal(t, "#/components/schemas/Amount", p.Ref, where)
			case r.Values != nil:
				assert.ElementsMatch(t, r.Values, enumOf(t, s), where)
			default:
				require.NotNil(t, s.MaxLength, "%s has a maxLength", where)
				assert.Equal(t, uint64(r.Max), *s.MaxLength, "%s maxLength", where)
				if r.Required {
					assert.Equal(t, uint64(r.Min), s.MinLength, "%s minLength", where)
				}
			}
		}
	}

	list := doc.Paths.Find("/v1/transactions").Get
	require.NotNil(t, list)
	pay, _ := paytree.RequestTable(paytree.OpPay, false)
	refund, _ := paytree.RequestTable(paytree.OpRefund, false)
	for _, c := range []struct {
		name  string
		table paytree.Table
	}{{paytree.FReceiptNo, pay}, {paytree.FOrderID, refund}} {
		p := list.Parameters.GetByInAndName("query", c.name)
		require.NotNil(t, p, c.name)
		r, _ := c.table.Rule(c.name)
		require.NotNil(t, p.Schema.Value.MaxLength, c.name)
		assert.Equal(t, uint64(r.Max), *p.Schema.Value.MaxLength, "query %s maxLength", c.name)
	}
}

// enumOf returns the wire values a schema allows: its enum, or that of its
// one-of alternatives other than the API's own AUTO.
func enumOf(t *testing.T, s *openapi3.Schema) []any {
	t.Helper()
	if len(s.OneOf) == 0 {
		return s.Enum
	}
	var out []any
	for _, alt := range s.OneOf {
		for _, v := range alt.Value.Enum {
			if v != "AUTO" {
				out = append(out, v)
			}
		}
	}
	return out
}
