package paytree

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the wire contract (sections 3 and 4) that other packages name.
const (
	MaxRequestIDLength = 32                  // requestId, targetRequestId
	MaxAmountDigits    = 15                  // amount, refundAmount
	MaxAmount          = 999_999_999_999_999 // the largest 15-digit amount
)

// Charset is the set of characters a field's value may hold.
type Charset int

// Charsets of the field rules.
const (
	Text    Charset = iota // any valid UTF-8 (free text: userCode, remark, orderId)
	Digits                 // [0-9]
	Alnum                  // [0-9A-Za-z]
	IDChars                // [0-9A-Za-z_-]
	Visible                // printable ASCII without space ('!' to '~')
)

// Form is a rule on a value's shape beyond its characters and length.
type Form int

// Forms of the field rules.
const (
	AnyForm    Form = iota
	AmountForm      // no leading zero, so the value is at least 1
	TimeForm        // yyyyMMddHHmmss, a valid JST time
	TerminalID      // the 6th character is "0" (company 5 + "0" + store 6 + terminal 1)
)

// Rule is what one request field of the contract may hold. An empty value
// is an absent one (the canonical string skips empty values too). Lengths
// count characters (runes); for the ASCII-only charsets that is bytes.
type Rule struct {
	Field    string   // the wire name
	Required bool     // must be given
	Absent   bool     // must not be given (payType on the V1 path)
	Min, Max int      // length bounds when given; Max 0: Values decide
	Chars    Charset  // the characters allowed
	Form     Form     // a shape rule beyond the characters
	Values   []string // the only values allowed; nil: any of Chars
	Desc     string   // what a value must be, instead of the derived description
	Note     string   // why, shown after the description
}

// Table is the request rules of one operation (and path): its fields in
// the order they are checked, and a group of which exactly one field must
// be given (reverse: orderId or targetRequestId).
type Table struct {
	Op     Operation
	V1     bool // the auto-detect pay path (payType omitted)
	Fields []Rule
	OneOf  []string
}

// Breach says which part of a rule a value broke.
type Breach int

// Breaches of a FieldError.
const (
	Missing   Breach = iota + 1 // required but empty
	Forbidden                   // given where it must be absent
	Length                      // too short or too long
	Chars                       // a character outside the charset, or invalid UTF-8
	Shape                       // the Form is broken
	Value                       // not one of Values
)

// FieldError is a value refused by a Rule: the wire name of the field, the
// part of the rule broken, and a problem phrased to follow the field's name
// ("is required", "must be exactly 12 digits"). It never quotes the value
// (a userCode must not be echoed); callers that may, add it.
type FieldError struct {
	Field   string
	Reason  Breach
	Problem string
}

// Error returns "paytree: invalid <field>: <problem>".
func (e *FieldError) Error() string { return "paytree: invalid " + e.Field + ": " + e.Problem }

// channelCodes is every payType a request may carry: each wire code but
// JCB_ALIPAY, which only appears in answers.
var channelCodes = func() []string {
	var out []string
	for _, c := range Channels() {
		if c != AutoDetect && c != JCBAliPay {
			out = append(out, c.Code())
		}
	}
	return out
}()

// channelDesc describes channelCodes.
const channelDesc = "a channel code of contract section 6, e.g. PAYPAY or LINE"

// Rules shared by several tables.
var (
	requestIDRule = Rule{Field: FRequestID, Required: true, Min: 1, Max: MaxRequestIDLength, Chars: IDChars}
	amountRule    = Rule{Field: FAmount, Required: true, Min: 1, Max: MaxAmountDigits, Chars: Digits, Form: AmountForm}
	userCodeRule  = Rule{Field: FUserCode, Required: true, Min: 1, Max: 512, Chars: Text}
	receiptRule   = Rule{Field: FReceiptNo, Max: 32, Chars: Text}
	orderIDRule   = Rule{Field: FOrderID, Required: true, Min: 1, Max: 32, Chars: Text}
	payTypeRule   = Rule{Field: FPayType, Required: true, Values: channelCodes, Desc: channelDesc,
		Note: "the V3 path names the channel; JCB_ALIPAY appears only in answers"}
)

// common is what every request carries (contract section 3), in the order
// the simulator checks it.
var common = []Rule{
	{Field: FMerchantID, Required: true, Min: 12, Max: 12, Chars: Digits},
	{Field: FTerminalUniqueID, Required: true, Min: 13, Max: 13, Chars: Alnum, Form: TerminalID,
		Note: `company 5 + "0" + store 6 + terminal 1`},
	{Field: FBranchCode, Required: true, Min: 1, Max: 32, Chars: Alnum},
	{Field: FTerminalCode, Required: true, Min: 1, Max: 32, Chars: Alnum},
	requestIDRule,
	{Field: FRequestTime, Required: true, Min: len(TimeLayout), Max: len(TimeLayout), Chars: Digits, Form: TimeForm},
	{Field: FSignType, Required: true, Values: []string{SignTypeRSA}},
	// The library spec (2.6) bounds the configured values too.
	{Field: FLocale, Required: true, Max: 30, Values: []string{FixedLocale}, Note: "fixed by the spec"},
	{Field: FTimeZone, Required: true, Max: 4, Values: []string{FixedTimeZone}, Note: "fixed by the spec"},
	{Field: FCurrencyCode, Required: true, Max: 10, Values: []string{FixedCurrencyCode}, Note: "fixed by the spec"},
	{Field: FAppVersion, Required: true, Min: 1, Max: 64, Chars: Visible},
}

// tables are the operations' own fields (contract section 4).
var tables = []Table{
	{Op: OpPay, Fields: []Rule{payTypeRule, amountRule, userCodeRule, receiptRule,
		{Field: FRemark, Max: 128, Chars: Text}}},
	{Op: OpPay, V1: true, Fields: []Rule{
		{Field: FPayType, Absent: true, Note: "the V1 path auto-detects the channel"},
		amountRule, userCodeRule, receiptRule,
		{Field: FRemark, Max: 128, Chars: Text}}},
	{Op: OpRefund, Fields: []Rule{orderIDRule, with(amountRule, FRefundAmount),
		{Field: FRefundReason, Max: 256, Chars: Text},
		{Field: FRemark, Max: 256, Chars: Text}}},
	{Op: OpReverse, OneOf: []string{FOrderID, FTargetRequestID}, Fields: []Rule{
		optional(orderIDRule), optional(with(requestIDRule, FTargetRequestID))}},
	{Op: OpConfirm, Fields: []Rule{with(requestIDRule, FTargetRequestID), optional(orderIDRule)}},
	{Op: OpDeposit, Fields: []Rule{
		{Field: FPayType, Required: true, Values: channelCodes, Desc: channelDesc,
			Note: "a deposit never auto-detects the channel; JCB_ALIPAY appears only in answers"},
		{Field: FValueType, Required: true, Values: []string{string(ValueBasic)},
			Note: "BONUS, COUPON and POINT are not served"},
		amountRule,
		{Field: FUserCode, Required: true, Min: 1, Max: 32, Chars: Text},
		receiptRule}},
}

func with(r Rule, field string) Rule { r.Field = field; return r }
func optional(r Rule) Rule           { r.Required, r.Min = false, 0; return r }

// CommonRules returns the rules of the fields every request carries
// (contract section 3), in checking order. The slice is shared: do not
// modify it.
func CommonRules() []Rule { return common }

// CommonRule returns the section 3 rule of field (merchantId, locale, …).
func CommonRule(field string) (Rule, bool) { return Table{Fields: common}.Rule(field) }

// RequestTable returns the table of op's own fields; v1 selects the
// auto-detect pay path (confirm has one table for both of its paths). ok
// is false for an operation that sends no fields of its own. The table is
// shared: do not modify it.
func RequestTable(op Operation, v1 bool) (Table, bool) {
	if op != OpPay {
		v1 = false
	}
	i := slices.IndexFunc(tables, func(t Table) bool { return t.Op == op && t.V1 == v1 })
	if i < 0 {
		return Table{}, false
	}
	return tables[i], true
}

// Rule returns the table's rule of field.
func (t Table) Rule(field string) (Rule, bool) {
	i := slices.IndexFunc(t.Fields, func(r Rule) bool { return r.Field == field })
	if i < 0 {
		return Rule{}, false
	}
	return t.Fields[i], true
}

// Check checks f against the table: first the one-of group, then each
// rule in order. It returns the first fault, or nil. Fields the table does
// not name are not looked at (a receiver ignores them, contract section 1).
func (t Table) Check(f Fields) *FieldError {
	if len(t.OneOf) > 0 {
		var given []string
		for _, name := range t.OneOf {
			if f[name] != "" {
				given = append(given, name)
			}
		}
		list := strings.Join(t.OneOf, " or ")
		switch {
		case len(given) > 1:
			return &FieldError{Field: given[0], Reason: Forbidden, Problem: "must not be given with " + given[1] + " (give exactly one of " + list + ")"}
		case len(given) == 0:
			return &FieldError{Field: t.OneOf[0], Reason: Missing, Problem: "is required (give exactly one of " + list + ")"}
		}
	}
	return CheckRules(t.Fields, f)
}

// CheckRules checks f against rules in order and returns the first fault.
func CheckRules(rules []Rule, f Fields) *FieldError {
	for _, r := range rules {
		if e := r.Check(f[r.Field]); e != nil {
			return e
		}
	}
	return nil
}

// Check returns nil when v satisfies r ("" meaning absent), else the fault:
// presence first, then valid UTF-8, length, characters, shape and value.
func (r Rule) Check(v string) *FieldError {
	fail := func(reason Breach, problem string) *FieldError {
		return &FieldError{Field: r.Field, Reason: reason, Problem: problem}
	}
	switch {
	case v == "" && r.Required:
		return fail(Missing, "is required"+r.note())
	case v == "":
		return nil
	case r.Absent:
		return fail(Forbidden, "must be omitted"+r.note())
	case !utf8.ValidString(v):
		return fail(Chars, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n < r.Min || r.Max > 0 && n > r.Max {
		switch {
		case r.Values != nil:
			return fail(Length, fmt.Sprintf("must be at most %d characters and must be %s", r.Max, r.Describe()))
		case r.Chars == Text && n > r.Max:
			return fail(Length, fmt.Sprintf("is %d characters, at most %d allowed", n, r.Max))
		case r.Chars == Text:
			return fail(Length, fmt.Sprintf("is %d characters, at least %d needed", n, r.Min))
		}
		return fail(Length, "must be "+r.Describe())
	}
	if !r.Chars.holds(v) {
		return fail(Chars, "must be "+r.Describe())
	}
	switch r.Form {
	case AmountForm:
		if v[0] == '0' {
			return fail(Shape, "must be "+r.Describe())
		}
	case TimeForm:
		if _, err := ParseTime(v); err != nil {
			return fail(Shape, "must be "+r.Describe())
		}
	case TerminalID:
		if v[5] != '0' {
			return fail(Shape, `6th character must be "0"`+r.note())
		}
	}
	if r.Values != nil && !slices.Contains(r.Values, v) {
		return fail(Value, "must be "+r.Describe())
	}
	return nil
}

func (r Rule) note() string {
	if r.Note == "" {
		return ""
	}
	return " (" + r.Note + ")"
}

// Describe says what a value of r must be, to follow "must be": "exactly 12
// digits", "1-32 letters or digits", "JAPAN (fixed by the spec)".
func (r Rule) Describe() string {
	var s string
	switch {
	case r.Desc != "":
		s = r.Desc
	case len(r.Values) == 1:
		s = r.Values[0]
	case r.Values != nil:
		s = "one of " + strings.Join(r.Values, ", ")
	case r.Form == AmountForm:
		s = "1 to " + strconv.FormatInt(MaxAmount, 10) + ": 1-15 digits without sign, fraction or leading zero"
	case r.Form == TimeForm:
		s = "yyyyMMddHHmmss, a valid JST time"
	case r.Absent:
		s = "omitted"
	case r.Min == r.Max:
		s = fmt.Sprintf("exactly %d %s", r.Max, r.Chars)
	case r.Min == 0:
		s = fmt.Sprintf("at most %d %s", r.Max, r.Chars)
	default:
		s = fmt.Sprintf("%d-%d %s", r.Min, r.Max, r.Chars)
	}
	return s + r.note()
}

// String names the charset as it follows a count: "digits", "letters or
// digits", ….
func (c Charset) String() string {
	switch c {
	case Digits:
		return "digits"
	case Alnum:
		return "letters or digits"
	case IDChars:
		return "characters [0-9A-Za-z_-]"
	case Visible:
		return "printable ASCII characters without spaces"
	}
	return "characters"
}

// holds reports whether every character of s is in c.
func (c Charset) holds(s string) bool {
	if c == Text {
		return utf8.ValidString(s)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := false
		switch c {
		case Digits:
			ok = b >= '0' && b <= '9'
		case Alnum:
			ok = isAlnum(b)
		case IDChars:
			ok = isAlnum(b) || b == '_' || b == '-'
		case Visible:
			ok = b > ' ' && b <= '~'
		}
		if !ok {
			return false
		}
	}
	return true
}
