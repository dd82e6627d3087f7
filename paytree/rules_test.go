package paytree

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contractLimit is one length limit as the wire contract (sections 3 and 4)
// and the library spec (2.6, 4) state it, written out here independently
// of the table so that a changed number in the table fails the test.
type contractLimit struct {
	table    string // "common" or an operation table's name
	field    string
	required bool
	min, max int
	unit     string // a character the field allows, repeated to build values
}

func tableName(t Table) string {
	if t.V1 {
		return t.Op.String() + "-v1"
	}
	return t.Op.String()
}

// contractLimits lists every length limit of the contract.
var contractLimits = []contractLimit{
	{"common", FMerchantID, true, 12, 12, "1"},
	{"common", FTerminalUniqueID, true, 13, 13, "A"}, // values built with "0" as 6th character
	{"common", FBranchCode, true, 1, 32, "B"},
	{"common", FTerminalCode, true, 1, 32, "7"},
	{"common", FRequestID, true, 1, 32, "a"},
	{"common", FAppVersion, true, 1, 64, "v"},
	{"pay", FAmount, true, 1, 15, "9"},
	{"pay", FUserCode, true, 1, 512, "あ"},
	{"pay", FReceiptNo, false, 0, 32, "r"},
	{"pay", FRemark, false, 0, 128, "メ"},
	{"pay-v1", FAmount, true, 1, 15, "9"},
	{"pay-v1", FUserCode, true, 1, 512, "2"},
	{"pay-v1", FReceiptNo, false, 0, 32, "r"},
	{"pay-v1", FRemark, false, 0, 128, "x"},
	{"refund", FOrderID, true, 1, 32, "o"},
	{"refund", FRefundAmount, true, 1, 15, "1"},
	{"refund", FRefundReason, false, 0, 256, "理"},
	{"refund", FRemark, false, 0, 256, "x"},
	{"reverse", FOrderID, false, 0, 32, "o"},
	{"reverse", FTargetRequestID, false, 0, 32, "-"},
	{"confirm", FTargetRequestID, true, 1, 32, "_"},
	{"confirm", FOrderID, false, 0, 32, "o"},
	{"deposit", FAmount, true, 1, 15, "5"},
	{"deposit", FUserCode, true, 1, 32, "3"},
	{"deposit", FReceiptNo, false, 0, 32, "r"},
}

// contractFields lists each table's fields as the contract names them.
var contractFields = map[string][]string{
	"common": {FMerchantID, FTerminalUniqueID, FBranchCode, FTerminalCode, FRequestID, FRequestTime,
		FSignType, FLocale, FTimeZone, FCurrencyCode, FAppVersion},
	"pay":     {FPayType, FAmount, FUserCode, FReceiptNo, FRemark},
	"pay-v1":  {FPayType, FAmount, FUserCode, FReceiptNo, FRemark},
	"refund":  {FOrderID, FRefundAmount, FRefundReason, FRemark},
	"reverse": {FOrderID, FTargetRequestID},
	"confirm": {FTargetRequestID, FOrderID},
	"deposit": {FPayType, FValueType, FAmount, FUserCode, FReceiptNo},
}

// allTables returns the common table and every operation table by name.
func allTables() map[string]Table {
	out := map[string]Table{"common": {Fields: CommonRules()}}
	for _, op := range []Operation{OpPay, OpRefund, OpReverse, OpConfirm, OpDeposit} {
		for _, v1 := range []bool{false, true} {
			if t, ok := RequestTable(op, v1); ok {
				out[tableName(t)] = t
			}
		}
	}
	return out
}

// TestTablesNameTheContractFields: each table checks exactly the fields
// the contract lists for it.
func TestTablesNameTheContractFields(t *testing.T) {
	tables := allTables()
	require.Len(t, tables, len(contractFields))
	for name, want := range contractFields {
		tb, ok := tables[name]
		require.True(t, ok, name)
		var got []string
		for _, r := range tb.Fields {
			got = append(got, r.Field)
		}
		assert.ElementsMatch(t, want, got, name)
	}
	_, ok := RequestTable(OpClose, false)
	assert.False(t, ok, "close sends no fields")
	c1, _ := RequestTable(OpConfirm, true)
	c3, _ := RequestTable(OpConfirm, false)
	assert.Equal(t, c3, c1, "confirm has one table for both paths")
}

// value builds a value of n characters of unit valid for field.
func value(field, unit string, n int) string {
	s := strings.Repeat(unit, n)
	if field == FTerminalUniqueID && n >= 6 {
		s = s[:5] + "0" + s[6:]
	}
	return s
}

// TestLimitsAtTheBoundary: each limit of the contract accepts n characters
// and refuses n+1 (and n-1 below a minimum), naming the field.
func TestLimitsAtTheBoundary(t *testing.T) {
	tables := allTables()
	for _, l := range contractLimits {
		t.Run(l.table+"/"+l.field, func(t *testing.T) {
			r, ok := tables[l.table].Rule(l.field)
			require.True(t, ok)
			assert.Equal(t, l.required, r.Required, "required")
			assert.Nil(t, r.Check(value(l.field, l.unit, l.max)), "%d accepted", l.max)
			e := r.Check(value(l.field, l.unit, l.max+1))
			require.NotNil(t, e, "%d refused", l.max+1)
			assert.Equal(t, l.field, e.Field)
			assert.Equal(t, Length, e.Reason)
			assert.Contains(t, e.Error(), l.field)
			if l.min > 1 {
				assert.Nil(t, r.Check(value(l.field, l.unit, l.min)), "%d accepted", l.min)
				e := r.Check(value(l.field, l.unit, l.min-1))
				require.NotNil(t, e, "%d refused", l.min-1)
				assert.Equal(t, Length, e.Reason)
			}
			e = r.Check("")
			if l.required {
				require.NotNil(t, e, "empty refused")
				assert.Equal(t, Missing, e.Reason)
				assert.Equal(t, l.field+" is required", e.Field+" "+strings.SplitN(e.Problem, " (", 2)[0])
			} else {
				assert.Nil(t, e, "empty (absent) accepted")
			}
		})
	}
}

// TestRuleCases: the patterns, charsets, shapes and fixed values of the
// contract, one case each way.
func TestRuleCases(t *testing.T) {
	tables := allTables()
	cases := []struct {
		table, field, value string
		reason              Breach // 0: accepted
		problem             string // part of the problem, when refused
	}{
		{"common", FMerchantID, "123456789012", 0, ""},
		{"common", FMerchantID, "12345678901A", Chars, "must be exactly 12 digits"},
		{"common", FMerchantID, "１２３４５６７８９０１２", Chars, "exactly 12 digits"},
		{"common", FTerminalUniqueID, "ABCDE0123456T", 0, ""},
		{"common", FTerminalUniqueID, "ABCDE1123456T", Shape, `6th character must be "0"`},
		{"common", FTerminalUniqueID, "ABCDE012345-T", Chars, "exactly 13 letters or digits"},
		{"common", FBranchCode, "B-01", Chars, "1-32 letters or digits"},
		{"common", FTerminalCode, "端末1", Chars, "letters or digits"},
		{"common", FRequestID, "0192f3a4b5c67d8e9f0a1b2c3d4e5f60", 0, ""},
		{"common", FRequestID, "A_b-9", 0, ""},
		{"common", FRequestID, "a b", Chars, "[0-9A-Za-z_-]"},
		{"common", FRequestID, "a.b", Chars, ""},
		{"common", FRequestTime, "20251231235959", 0, ""},
		{"common", FRequestTime, "2025011510000", Length, "yyyyMMddHHmmss"},
		{"common", FRequestTime, "20251315100000", Shape, "yyyyMMddHHmmss"},
		{"common", FRequestTime, "2025-01-151000", Chars, ""},
		{"common", FSignType, "RSA", 0, ""},
		{"common", FSignType, "DSA", Value, "must be RSA"},
		{"common", FLocale, "JAPAN", 0, ""},
		{"common", FLocale, "US", Value, "must be JAPAN (fixed by the spec)"},
		{"common", FLocale, strings.Repeat("J", 31), Length, "at most 30 characters and must be JAPAN"},
		{"common", FTimeZone, "p9", 0, ""},
		{"common", FTimeZone, "UTC+9", Length, "at most 4 characters"},
		{"common", FCurrencyCode, "USD", Value, "JPY"},
		{"common", FAppVersion, DefaultAppVersion, 0, ""},
		{"common", FAppVersion, "windows WbCPSPay", Chars, "printable ASCII characters without spaces"},
		{"common", FAppVersion, "バージョン", Chars, ""},
		{"pay", FAmount, "999999999999999", 0, ""},
		{"pay", FAmount, "1", 0, ""},
		{"pay", FAmount, "0", Shape, "1 to 999999999999999"},
		{"pay", FAmount, "0100", Shape, "leading zero"},
		{"pay", FAmount, "100.5", Chars, ""},
		{"pay", FAmount, "-100", Chars, ""},
		{"pay", FAmount, "+1", Chars, ""},
		{"pay", FAmount, "1e3", Chars, ""},
		{"pay", FAmount, "1000000000000000", Length, ""},
		{"pay", FPayType, "PAYPAY", 0, ""},
		{"pay", FPayType, "SMARTCODE", 0, ""},
		{"pay", FPayType, "paypay", Value, "channel code"},
		{"pay", FPayType, "VISA", Value, "channel code"},
		{"pay", FPayType, "JCB_ALIPAY", Value, "JCB_ALIPAY appears only in answers"},
		{"pay", FPayType, "", Missing, "is required"},
		{"pay-v1", FPayType, "", 0, ""},
		{"pay-v1", FPayType, "PAYPAY", Forbidden, "must be omitted"},
		{"pay", FUserCode, "\xff\xfe", Chars, "not valid UTF-8"},
		{"pay", FRemark, "値&=%", 0, ""},
		{"deposit", FPayType, "LINE", 0, ""},
		{"deposit", FPayType, "", Missing, "never auto-detects"},
		{"deposit", FValueType, "BASIC", 0, ""},
		{"deposit", FValueType, "BONUS", Value, "must be BASIC"},
		{"deposit", FValueType, "COUPON", Value, ""},
		{"deposit", FValueType, "POINT", Value, ""},
		{"deposit", FValueType, "basic", Value, ""},
		{"deposit", FValueType, "", Missing, ""},
		{"confirm", FTargetRequestID, "no spaces", Chars, ""},
	}
	for _, c := range cases {
		t.Run(c.table+"/"+c.field+"/"+c.value, func(t *testing.T) {
			r, ok := tables[c.table].Rule(c.field)
			require.True(t, ok)
			e := r.Check(c.value)
			if c.reason == 0 {
				assert.Nil(t, e)
				return
			}
			require.NotNil(t, e)
			assert.Equal(t, c.field, e.Field)
			assert.Equal(t, c.reason, e.Reason, e.Problem)
			assert.Contains(t, e.Problem, c.problem)
		})
	}
}

// TestTableCheck: the one-of group of reverse, the order of the checks and
// the fields a table does not name.
func TestTableCheck(t *testing.T) {
	rev, _ := RequestTable(OpReverse, false)
	cases := []struct {
		name   string
		f      Fields
		field  string // "" accepted
		reason Breach
	}{
		{"by order", Fields{FOrderID: "PT1"}, "", 0},
		{"by target", Fields{FTargetRequestID: "r1"}, "", 0},
		{"both", Fields{FOrderID: "PT1", FTargetRequestID: "r1"}, FOrderID, Forbidden},
		{"neither", Fields{}, FOrderID, Missing},
		{"empty counts as absent", Fields{FOrderID: "", FTargetRequestID: "r1"}, "", 0},
		{"bad target", Fields{FTargetRequestID: "no spaces"}, FTargetRequestID, Chars},
		{"long order", Fields{FOrderID: strings.Repeat("o", 33)}, FOrderID, Length},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := rev.Check(c.f)
			if c.field == "" {
				assert.Nil(t, e)
				return
			}
			require.NotNil(t, e)
			assert.Equal(t, c.field, e.Field)
			assert.Equal(t, c.reason, e.Reason)
			if c.name == "neither" || c.name == "both" {
				assert.Contains(t, e.Problem, "exactly one of orderId or targetRequestId")
			}
		})
	}
	pay, _ := RequestTable(OpPay, false)
	e := pay.Check(Fields{FPayType: "VISA", FAmount: "0"})
	require.NotNil(t, e)
	assert.Equal(t, FPayType, e.Field, "the first fault in table order")
	assert.Nil(t, pay.Check(Fields{FPayType: "PAYPAY", FAmount: "1", FUserCode: "28", "futureField": "値"}), "unknown fields are not looked at")
	e = CheckRules(CommonRules(), Fields{})
	require.NotNil(t, e)
	assert.Equal(t, FMerchantID, e.Field)
	assert.Equal(t, "paytree: invalid merchantId: is required", e.Error())
}

// TestDescribe: the descriptions other packages build their messages on
// (the config's texts are asserted word for word by its tests).
func TestDescribe(t *testing.T) {
	rule := func(field string) Rule { r, _ := CommonRule(field); return r }
	assert.Equal(t, "exactly 12 digits", rule(FMerchantID).Describe())
	assert.Equal(t, `exactly 13 letters or digits (company 5 + "0" + store 6 + terminal 1)`, rule(FTerminalUniqueID).Describe())
	assert.Equal(t, "1-32 letters or digits", rule(FBranchCode).Describe())
	assert.Equal(t, "JAPAN (fixed by the spec)", rule(FLocale).Describe())
	assert.Equal(t, "1-64 printable ASCII characters without spaces", rule(FAppVersion).Describe())
	assert.Equal(t, "1-32 characters [0-9A-Za-z_-]", rule(FRequestID).Describe())
	pay, _ := RequestTable(OpPay, false)
	r, _ := pay.Rule(FRemark)
	assert.Equal(t, "at most 128 characters", r.Describe())
	_, ok := CommonRule(FUserCode)
	assert.False(t, ok)
}

// TestFieldErrorNeverQuotesTheValue: a refused userCode is not echoed.
func TestFieldErrorNeverQuotesTheValue(t *testing.T) {
	pay, _ := RequestTable(OpPay, false)
	code := "2812345678901234567" + strings.Repeat("9", 500)
	e := pay.Check(Fields{FPayType: "PAYPAY", FAmount: "1", FUserCode: code})
	require.NotNil(t, e)
	assert.NotContains(t, e.Error(), "28123456789")
	assert.Equal(t, "is 519 characters, at most 512 allowed", e.Problem)
}

// oracle is the contract's rule written independently of Rule.Check.
var charsetPattern = map[Charset]*regexp.Regexp{
	Digits:  regexp.MustCompile(`^[0-9]*$`),
	Alnum:   regexp.MustCompile(`^[0-9A-Za-z]*$`),
	IDChars: regexp.MustCompile(`^[0-9A-Za-z_-]*$`),
	Visible: regexp.MustCompile(`^[!-~]*$`),
}

func allowedByOracle(r Rule, v string) bool {
	if v == "" {
		return !r.Required
	}
	if r.Absent || !utf8.ValidString(v) {
		return false
	}
	n := utf8.RuneCountInString(v)
	if n < r.Min || (r.Max > 0 && n > r.Max) {
		return false
	}
	if p := charsetPattern[r.Chars]; p != nil && !p.MatchString(v) {
		return false
	}
	if r.Values != nil && !slices.Contains(r.Values, v) {
		return false
	}
	switch r.Form {
	case AmountForm:
		return v[0] != '0'
	case TimeForm:
		tm, err := ParseTime(v)
		return err == nil && FormatTime(tm) == v
	case TerminalID:
		return v[5] == '0'
	}
	return true
}

// FuzzRuleCheck: no value panics any rule, a refusal names the rule's
// field, and nothing the contract forbids is accepted.
func FuzzRuleCheck(f *testing.F) {
	for _, s := range []string{"", "0", "1", "123456789012", "ABCDE0123456T", "JAPAN", "PAYPAY", "BASIC",
		"20251231235959", "20250230120000", "a-_b", "\xff", "あ", strings.Repeat("x", 33)} {
		f.Add(s, s)
	}
	tables := allTables()
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Strings(names)
	f.Fuzz(func(t *testing.T, v, w string) {
		for _, name := range names {
			tb := tables[name]
			fields := Fields{}
			for i, r := range tb.Fields {
				e := r.Check(v)
				ok := allowedByOracle(r, v)
				switch {
				case e == nil && !ok:
					t.Fatalf("%s.%s accepted %q", name, r.Field, v)
				case e != nil && ok:
					t.Fatalf("%s.%s refused %q: %v", name, r.Field, v, e)
				case e != nil && (e.Field != r.Field || e.Problem == "" || e.Reason == 0):
					t.Fatalf("%s.%s: refusal %+v", name, r.Field, e)
				}
				fields[r.Field] = map[bool]string{true: v, false: w}[i%2 == 0]
			}
			if e := tb.Check(fields); e != nil {
				if _, ok := tb.Rule(e.Field); !ok {
					t.Fatalf("%s: refusal names %q, not one of its fields", name, e.Field)
				}
			} else {
				for _, r := range tb.Fields {
					if !allowedByOracle(r, fields[r.Field]) {
						t.Fatalf("%s accepted %s=%q", name, r.Field, fields[r.Field])
					}
				}
			}
		}
	})
}
