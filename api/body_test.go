package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(t testing.TB, op, body string) (*parsed, *apiError) {
	r := httptest.NewRequest(http.MethodPost, "/v1/"+op, strings.NewReader(body))
	return readBody(httptest.NewRecorder(), r, op)
}

// TestReadBody checks the body rules one by one (the daemon tests check
// them end to end).
func TestReadBody(t *testing.T) {
	cases := []struct {
		name, op, body string
		field          string // "" with ok
		ok             bool
	}{
		{"pay", "pay", `{"payType":"PAYPAY","amount":1,"userCode":"x"}`, "", true},
		{"null optional", "pay", `{"payType":"PAYPAY","amount":1,"userCode":"x","remark":null}`, "", true},
		{"null required", "pay", `{"payType":"PAYPAY","amount":null,"userCode":"x"}`, "amount", false},
		{"exponent", "pay", `{"payType":"PAYPAY","amount":1e3,"userCode":"x"}`, "amount", false},
		{"max amount", "refund", `{"orderId":"o","refundAmount":999999999999999}`, "", true},
		{"over max", "refund", `{"orderId":"o","refundAmount":9999999999999999999999}`, "refundAmount", false},
		{"negative", "refund", `{"orderId":"o","refundAmount":-5}`, "refundAmount", false},
		{"512 runes", "pay", `{"payType":"PAYPAY","amount":1,"userCode":"` + strings.Repeat("あ", 512) + `"}`, "", true},
		{"513 runes", "pay", `{"payType":"PAYPAY","amount":1,"userCode":"` + strings.Repeat("あ", 513) + `"}`, "userCode", false},
		{"deposit user code 33", "deposit", `{"payType":"LINE","valueType":"BASIC","amount":1,"userCode":"` + strings.Repeat("1", 33) + `"}`, "userCode", false},
		{"trailing value", "reverse", `{"orderId":"o"} {}`, "", false},
		{"empty body", "reverse", ``, "orderId", false},
		{"bool as string", "pay-confirm", `{"confirm":"true"}`, "confirm", false},
		{"unknown", "reverse", `{"orderId":"o","orderID":"p"}`, "orderID", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, e := parse(t, c.op, c.body)
			if c.ok {
				require.Nil(t, e, "%v", e)
				assert.NotNil(t, p)
				return
			}
			require.NotNil(t, e)
			assert.Equal(t, c.field, e.body.Field)
			assert.Equal(t, "L0003", e.body.Code)
		})
	}
}

// FuzzReadBody: no body panics, and an accepted one respects the limits.
func FuzzReadBody(f *testing.F) {
	for _, s := range []string{`{"payType":"PAYPAY","amount":1,"userCode":"x"}`, `{"orderId":"o","refundAmount":5}`, `{"confirm":true}`, `[]`, `{"a":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for op, specs := range bodySpecs {
			p, e := parse(t, op, body)
			if e != nil {
				if e.body.Code != "L0003" {
					t.Fatalf("%s: code %s", op, e.body.Code)
				}
				continue
			}
			for _, s := range specs {
				switch v := p.values[s.name].(type) {
				case string:
					if n := utf8.RuneCountInString(v); n < s.min || n > s.max || !utf8.ValidString(v) {
						t.Fatalf("%s.%s accepted with %d runes", op, s.name, n)
					}
				case int64:
					if v < 1 || v > maxAmount {
						t.Fatalf("%s.%s accepted %d", op, s.name, v)
					}
				case nil:
					if s.required {
						t.Fatalf("%s.%s required but missing", op, s.name)
					}
				}
			}
		}
	})
}
