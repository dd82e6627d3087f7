package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/paytree"
)

// MaxBodyBytes is the largest request body the daemon reads; a larger one
// is refused with 413 (L0003).
const MaxBodyBytes = 64 << 10

// maxAmount is the largest amount (15 digits, the wire contract's rule).
const maxAmount = paytree.MaxAmount

// fieldKind is how a body field is parsed.
type fieldKind int

const (
	kindString fieldKind = iota // an API-only string, by min and max
	kindWire                    // a string sent on the wire, by its rule
	kindAmount                  // a JSON integer sent on the wire, by its rule
	kindBool
)

// fieldSpec is one field of a request body (library spec section 4). The
// fields that go on the wire carry the wire contract's rule (paytree's
// table of the operation); min and max follow from it.
type fieldSpec struct {
	name     string
	kind     fieldKind
	required bool
	min, max int           // characters, for strings
	rule     *paytree.Rule // kindWire, kindAmount
	auto     bool          // payType: AUTO (auto-detect, no payType on the wire) is allowed
}

// autoDetect is the payType that asks for auto-detection.
const autoDetect = "AUTO"

// wire returns the spec of the body field that is the wire field name of
// op's table (the body's names are the wire's). The API requires payType
// on a pay too: AUTO stands for its absence.
func wire(op paytree.Operation, name string) fieldSpec {
	t, _ := paytree.RequestTable(op, false)
	r, ok := t.Rule(name)
	if !ok {
		panic("api: no wire rule for " + op.String() + " " + name)
	}
	s := fieldSpec{name: name, kind: kindWire, required: r.Required, min: r.Min, max: r.Max, rule: &r}
	if r.Form == paytree.AmountForm {
		s.kind = kindAmount
	}
	if name == paytree.FPayType {
		s.required, s.auto = true, op == paytree.OpPay
	}
	if s.required && s.min == 0 {
		s.min = 1
	}
	if r.Values != nil { // the longest value (or AUTO) bounds the length
		s.max = len(autoDetect)
		for _, v := range r.Values {
			s.max = max(s.max, len(v))
		}
	}
	return s
}

// bodySpecs are the request bodies of local-api.md section 2, by path.
var bodySpecs = map[string][]fieldSpec{
	"pay": {
		wire(paytree.OpPay, paytree.FPayType),
		wire(paytree.OpPay, paytree.FAmount),
		wire(paytree.OpPay, paytree.FUserCode),
		wire(paytree.OpPay, paytree.FReceiptNo),
		wire(paytree.OpPay, paytree.FRemark),
	},
	"refund": {
		wire(paytree.OpRefund, paytree.FOrderID),
		wire(paytree.OpRefund, paytree.FRefundAmount),
		wire(paytree.OpRefund, paytree.FRefundReason),
		wire(paytree.OpRefund, paytree.FRemark),
	},
	"reverse": {
		// The API reverses by orderId only: required here.
		func() fieldSpec {
			s := wire(paytree.OpReverse, paytree.FOrderID)
			s.required, s.min = true, 1
			return s
		}(),
	},
	"deposit": {
		wire(paytree.OpDeposit, paytree.FPayType),
		wire(paytree.OpDeposit, paytree.FValueType),
		wire(paytree.OpDeposit, paytree.FAmount),
		wire(paytree.OpDeposit, paytree.FUserCode),
		wire(paytree.OpDeposit, paytree.FReceiptNo),
	},
	"pay-confirm": {
		{name: "confirm", kind: kindBool, required: true},
	},
	"resolve": {
		{name: "outcome", kind: kindString, required: true, min: 1, max: 16},
		{name: "operator", kind: kindString, required: true, min: 1, max: wbpay.MaxOperatorLength},
		{name: "note", kind: kindString, required: true, min: 1, max: wbpay.MaxNoteLength},
	},
}

// parsed is a request body after checking: each field's value by name
// (string, int64 or bool), and the canonical form of the body used to
// compare idempotent replays.
type parsed struct {
	values    map[string]any
	canonical string
}

func (p *parsed) str(name string) string { s, _ := p.values[name].(string); return s }
func (p *parsed) amount(name string) int64 {
	n, _ := p.values[name].(int64)
	return n
}

// readBody reads and checks the body of the request method op. Every
// problem is a 400 L0003 naming the field (413 for a body over
// MaxBodyBytes).
func readBody(w http.ResponseWriter, r *http.Request, op string) (*parsed, *apiError) {
	specs := bodySpecs[op]
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if asMaxBytes(err, &mbe) {
			e := newAPIError(http.StatusRequestEntityTooLarge, codeBadField, fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes))
			return nil, e
		}
		return nil, newAPIError(http.StatusBadRequest, codeBadField, "the body could not be read: "+err.Error())
	}
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, newAPIError(http.StatusBadRequest, codeBadField, "the body is not a JSON object")
	}
	if dec.More() {
		return nil, newAPIError(http.StatusBadRequest, codeBadField, "the body has more than one JSON value")
	}
	if err := checkDuplicates(data); err != nil {
		return nil, err
	}
	known := map[string]fieldSpec{}
	for _, s := range specs {
		known[s.name] = s
	}
	for k := range raw {
		if _, ok := known[k]; !ok {
			return nil, badField(k, fmt.Sprintf("unknown field %q (fields of %s: %s)", k, op, fieldNames(specs)))
		}
	}
	p := &parsed{values: map[string]any{}}
	var canon strings.Builder
	canon.WriteString(op)
	for _, s := range specs {
		v, ok := raw[s.name]
		if ok && string(bytes.TrimSpace(v)) == "null" {
			ok = false
		}
		if !ok {
			if s.required {
				return nil, badField(s.name, s.name+" is required")
			}
			continue
		}
		val, e := parseField(s, v)
		if e != nil {
			return nil, e
		}
		p.values[s.name] = val
		fmt.Fprintf(&canon, "\x00%s=%v", s.name, val)
	}
	p.canonical = canon.String()
	return p, nil
}

func asMaxBytes(err error, target **http.MaxBytesError) bool {
	mbe, ok := err.(*http.MaxBytesError)
	if ok {
		*target = mbe
	}
	return ok
}

func fieldNames(specs []fieldSpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// checkDuplicates refuses an object with a key given twice (JSON leaves it
// undefined; a POS must not pass two amounts).
func checkDuplicates(data []byte) *apiError {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		if seen[k] {
			return badField(k, fmt.Sprintf("field %q is given twice", k))
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// integer is a JSON integer literal without fraction or exponent.
var integer = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func parseField(s fieldSpec, v json.RawMessage) (any, *apiError) {
	switch s.kind {
	case kindAmount:
		lit := string(bytes.TrimSpace(v))
		if !integer.MatchString(lit) {
			return nil, badField(s.name, fmt.Sprintf("%s must be a JSON integer (whole yen), got %s", s.name, clip(lit)))
		}
		if fe := s.rule.Check(lit); fe != nil {
			return nil, badField(s.name, fmt.Sprintf("%s %s, got %s", s.name, fe.Problem, clip(lit)))
		}
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil { // not reached: the rule allows 15 digits
			return nil, badField(s.name, s.name+" is out of range")
		}
		return n, nil
	case kindBool:
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, badField(s.name, s.name+" must be true or false")
		}
		return b, nil
	}
	var str string
	if err := json.Unmarshal(v, &str); err != nil {
		return nil, badField(s.name, s.name+" must be a JSON string")
	}
	if !utf8.ValidString(str) {
		return nil, badField(s.name, s.name+" is not valid UTF-8")
	}
	n := utf8.RuneCountInString(str)
	if n == 0 && s.min == 1 {
		return nil, badField(s.name, s.name+" is empty")
	}
	if s.kind == kindWire {
		return wireString(s, str)
	}
	if n < s.min {
		return nil, badField(s.name, fmt.Sprintf("%s is %d characters, at least %d needed", s.name, n, s.min))
	}
	if n > s.max {
		return nil, badField(s.name, fmt.Sprintf("%s is %d characters, at most %d allowed", s.name, n, s.max))
	}
	return str, nil
}

// wireString checks a string field that goes on the wire by its rule.
func wireString(s fieldSpec, str string) (any, *apiError) {
	if s.name == paytree.FPayType && str == autoDetect {
		if !s.auto {
			return nil, badField(s.name, "payType AUTO is not allowed for a deposit (name the channel, e.g. LINE)")
		}
		return str, nil
	}
	if str == "" { // optional (a required one was refused as empty)
		return str, nil
	}
	if fe := s.rule.Check(str); fe != nil {
		msg := s.name + " " + fe.Problem
		if s.auto {
			msg += ", or AUTO"
		}
		return nil, badField(s.name, msg)
	}
	return str, nil
}

// clip shortens a literal quoted in a message (never a userCode: those are
// strings, never quoted back).
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// channel returns the channel of a checked payType (AUTO: AutoDetect).
func channel(p *parsed) paytree.Channel {
	c, _ := paytree.ChannelFromCode(p.str(paytree.FPayType)) // AUTO is no code: AutoDetect
	return c
}

// request builds the engine request of op from its checked body.
func request(op string, p *parsed, key string) (wbpay.Request, *apiError) {
	switch op {
	case "pay":
		return withKey(&wbpay.PayRequest{PayType: channel(p), Amount: p.amount("amount"), UserCode: p.str("userCode"), ReceiptNo: p.str("receiptNo"), Remark: p.str("remark")}, key), nil
	case "refund":
		return withKey(&wbpay.RefundRequest{OrderID: p.str("orderId"), RefundAmount: p.amount("refundAmount"), RefundReason: p.str("refundReason"), Remark: p.str("remark")}, key), nil
	case "reverse":
		return withKey(&wbpay.ReverseRequest{OrderID: p.str("orderId")}, key), nil
	case "deposit":
		return withKey(&wbpay.DepositRequest{PayType: channel(p), ValueType: paytree.ValueType(p.str("valueType")), Amount: p.amount("amount"), UserCode: p.str("userCode"), ReceiptNo: p.str("receiptNo")}, key), nil
	}
	return nil, newAPIError(http.StatusNotFound, codeBadField, "no such request method "+op)
}

// engineFields maps the field names of the engine's L0003 messages to the
// API's.
var engineFields = map[string]string{
	"PayType": "payType", "Amount": "amount", "UserCode": "userCode", "ReceiptNo": "receiptNo", "Remark": "remark",
	"OrderID": "orderId", "RefundAmount": "refundAmount", "RefundReason": "refundReason", "ValueType": "valueType",
}

// engineField finds the API field an engine L0003 message names ("" when
// none does).
func engineField(msg string) string {
	_, detail, ok := strings.Cut(msg, ": ")
	if !ok {
		detail = msg
	}
	name, _, _ := strings.Cut(detail, " ")
	return engineFields[name]
}

// idempotencyKey returns the request's Idempotency-Key ("" when none), or a
// 400 naming the header.
func idempotencyKey(r *http.Request) (string, *apiError) {
	vals := r.Header.Values("Idempotency-Key")
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", badField("Idempotency-Key", "Idempotency-Key is given more than once")
	case !wbpay.ValidIdempotencyKey(vals[0]):
		return "", badField("Idempotency-Key", "Idempotency-Key must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")
	}
	return vals[0], nil
}
