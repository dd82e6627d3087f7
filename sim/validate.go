package sim

import (
	"fmt"
	"unicode/utf8"

	"github.com/wbpay/wbpay/paytree"
)

// fieldError is an E1001 refusal naming the field at fault.
type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return fmt.Sprintf("invalid %s: %s", e.field, e.problem) }

func bad(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, problem: fmt.Sprintf(format, args...)}
}

func validMerchantID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// terminalProblem describes why s is not a terminalUniqueId, "" when it is:
// 13 [0-9A-Za-z] (company 5 + "0" + store 6 + terminal 1).
func terminalProblem(s string) string {
	switch {
	case len(s) != 13 || !paytree.IsAlnum(s):
		return "want 13 characters [0-9A-Za-z]"
	case s[5] != '0':
		return "the 6th character must be 0 (company 5 + 0 + store 6 + terminal 1)"
	}
	return ""
}

// validKey reports whether f carries a usable idempotency key.
func validKey(f paytree.Fields) bool {
	return terminalProblem(f[paytree.FTerminalUniqueID]) == "" && paytree.ValidRequestID(f[paytree.FRequestID])
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// checkLen refuses a value longer than max characters (and an empty one when
// required).
func checkLen(f paytree.Fields, field string, required bool, max int) *fieldError {
	v, n := f[field], runes(f[field])
	switch {
	case required && v == "":
		return bad(field, "missing")
	case n > max:
		return bad(field, "%d characters, at most %d", n, max)
	}
	return nil
}

func checkAmount(f paytree.Fields, field string) *fieldError {
	v := f[field]
	if v == "" {
		return bad(field, "missing")
	}
	if !paytree.ValidAmount(v) {
		return bad(field, "%q is not 1-15 digits without sign, fraction or leading zero", v)
	}
	return nil
}

func checkFixed(f paytree.Fields, field, want string) *fieldError {
	if v := f[field]; v != want {
		if v == "" {
			return bad(field, "missing (want %s)", want)
		}
		return bad(field, "%q (want %s)", v, want)
	}
	return nil
}

// validateCommon checks the fields every request carries (contract section
// 3), in a fixed order so the first fault is always the one named.
func validateCommon(f paytree.Fields) *fieldError {
	if v := f[paytree.FMerchantID]; !validMerchantID(v) {
		return bad(paytree.FMerchantID, "%q is not exactly 12 digits", v)
	}
	if p := terminalProblem(f[paytree.FTerminalUniqueID]); p != "" {
		return bad(paytree.FTerminalUniqueID, "%q: %s", f[paytree.FTerminalUniqueID], p)
	}
	for _, name := range []string{paytree.FBranchCode, paytree.FTerminalCode} {
		if v := f[name]; len(v) > 32 || !paytree.IsAlnum(v) {
			return bad(name, "%q is not 1-32 characters [0-9A-Za-z]", v)
		}
	}
	if v := f[paytree.FRequestID]; !paytree.ValidRequestID(v) {
		return bad(paytree.FRequestID, "%q is not 1-32 characters [0-9A-Za-z_-]", v)
	}
	if v := f[paytree.FRequestTime]; len(v) != len(paytree.TimeLayout) || !allDigits(v) {
		return bad(paytree.FRequestTime, "%q is not yyyyMMddHHmmss", v)
	} else if _, err := paytree.ParseTime(v); err != nil {
		return bad(paytree.FRequestTime, "%q is not a valid yyyyMMddHHmmss time", v)
	}
	if e := checkFixed(f, paytree.FSignType, paytree.SignTypeRSA); e != nil {
		return e
	}
	if e := checkFixed(f, paytree.FLocale, paytree.FixedLocale); e != nil {
		return e
	}
	if e := checkFixed(f, paytree.FTimeZone, paytree.FixedTimeZone); e != nil {
		return e
	}
	if e := checkFixed(f, paytree.FCurrencyCode, paytree.FixedCurrencyCode); e != nil {
		return e
	}
	return checkLen(f, paytree.FAppVersion, true, 64)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkPayType accepts a known wire channel code other than JCB_ALIPAY.
func checkPayType(f paytree.Fields) (paytree.Channel, *fieldError) {
	v := f[paytree.FPayType]
	if v == "" {
		return 0, bad(paytree.FPayType, "missing (the V1 path auto-detects the channel)")
	}
	c, ok := paytree.ChannelFromCode(v)
	if !ok {
		return 0, bad(paytree.FPayType, "%q is not a channel code", v)
	}
	if c == paytree.JCBAliPay {
		return 0, bad(paytree.FPayType, "%q appears only in answers, never in a request", v)
	}
	return c, nil
}

func checkOrderID(f paytree.Fields, required bool) *fieldError {
	v := f[paytree.FOrderID]
	if v == "" {
		if required {
			return bad(paytree.FOrderID, "missing")
		}
		return nil
	}
	if len(v) > 64 || !paytree.IsAlnum(v) {
		return bad(paytree.FOrderID, "%q is not an order id", v)
	}
	return nil
}

// validateOp checks the operation's own fields (contract section 4).
func validateOp(rt route, f paytree.Fields) *fieldError {
	switch rt.op {
	case paytree.OpPay:
		if rt.v1 {
			if f[paytree.FPayType] != "" {
				return bad(paytree.FPayType, "must be omitted on the V1 (auto-detect) path")
			}
		} else if _, e := checkPayType(f); e != nil {
			return e
		}
		if e := checkAmount(f, paytree.FAmount); e != nil {
			return e
		}
		if e := checkLen(f, paytree.FUserCode, true, 512); e != nil {
			return e
		}
		if e := checkLen(f, paytree.FReceiptNo, false, 32); e != nil {
			return e
		}
		return checkLen(f, paytree.FRemark, false, 128)
	case paytree.OpRefund:
		if e := checkOrderID(f, true); e != nil {
			return e
		}
		if e := checkAmount(f, paytree.FRefundAmount); e != nil {
			return e
		}
		if e := checkLen(f, paytree.FRefundReason, false, 256); e != nil {
			return e
		}
		return checkLen(f, paytree.FRemark, false, 256)
	case paytree.OpReverse:
		o, t := f[paytree.FOrderID], f[paytree.FTargetRequestID]
		switch {
		case o != "" && t != "":
			return bad(paytree.FOrderID, "give exactly one of orderId or targetRequestId, not both")
		case o == "" && t == "":
			return bad(paytree.FTargetRequestID, "give exactly one of orderId or targetRequestId")
		case o != "":
			return checkOrderID(f, true)
		case !paytree.ValidRequestID(t):
			return bad(paytree.FTargetRequestID, "%q is not 1-32 characters [0-9A-Za-z_-]", t)
		}
		return nil
	case paytree.OpConfirm:
		t := f[paytree.FTargetRequestID]
		if t == "" {
			return bad(paytree.FTargetRequestID, "missing")
		}
		if !paytree.ValidRequestID(t) {
			return bad(paytree.FTargetRequestID, "%q is not 1-32 characters [0-9A-Za-z_-]", t)
		}
		return checkOrderID(f, false)
	case paytree.OpDeposit:
		if _, e := checkPayType(f); e != nil {
			return e
		}
		switch v := paytree.ValueType(f[paytree.FValueType]); v {
		case paytree.ValueBasic:
		case paytree.ValueBonus, paytree.ValueCoupon, paytree.ValuePoint:
			return bad(paytree.FValueType, "%s is not supported (only BASIC)", v)
		case "":
			return bad(paytree.FValueType, "missing (want BASIC)")
		default:
			return bad(paytree.FValueType, "%q is not a value type (want BASIC)", string(v))
		}
		if e := checkAmount(f, paytree.FAmount); e != nil {
			return e
		}
		if e := checkLen(f, paytree.FUserCode, true, 32); e != nil {
			return e
		}
		return checkLen(f, paytree.FReceiptNo, false, 32)
	}
	return nil
}
