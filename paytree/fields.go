package paytree

import "time"

// Field names of the wire contract (sections 3 and 4).
const (
	FMerchantID       = "merchantId"
	FTerminalUniqueID = "terminalUniqueId"
	FBranchCode       = "branchCode"
	FTerminalCode     = "terminalCode"
	FLocale           = "locale"
	FTimeZone         = "timeZone"
	FCurrencyCode     = "currencyCode"
	FAppVersion       = "appVersion"
	FRequestID        = "requestId"
	FRequestTime      = "requestTime"
	FSignType         = "signType"
	FSign             = "sign"

	FResponseTime     = "responseTime"
	FResultCode       = "resultCode"
	FErrorCode        = "errorCode"
	FErrorSubCode     = "errorSubCode"
	FErrorMessage     = "errorMessage"
	FTargetResultCode = "targetResultCode"

	FPayType         = "payType"
	FAmount          = "amount"
	FUserCode        = "userCode"
	FReceiptNo       = "receiptNo"
	FRemark          = "remark"
	FOrderID         = "orderId"
	FTransTime       = "transTime"
	FTransStatus     = "transStatus"
	FRefundAmount    = "refundAmount"
	FRefundReason    = "refundReason"
	FRefundedTotal   = "refundedTotal"
	FTargetRequestID = "targetRequestId"
	FValueType       = "valueType"
)

// Fixed values of the library spec (2.6) and contract section 3.
const (
	SignTypeRSA       = "RSA"
	FixedLocale       = "JAPAN"
	FixedTimeZone     = "p9"
	FixedCurrencyCode = "JPY"
	DefaultAppVersion = "windows-WbCPSPay-1.0"
	TimeLayout        = "20060102150405"
)

// JST is the zone of every wire timestamp and log file date (UTC+9, no DST),
// whatever the host's zone.
var JST = time.FixedZone("JST", 9*60*60)

// FormatTime writes t as yyyyMMddHHmmss in JST.
func FormatTime(t time.Time) string { return t.In(JST).Format(TimeLayout) }

// ParseTime reads a yyyyMMddHHmmss JST timestamp.
func ParseTime(s string) (time.Time, error) { return time.ParseInLocation(TimeLayout, s, JST) }

// ValidRequestID reports whether id is a requestId by the contract's rule:
// 1–32 of [0-9A-Za-z_-].
func ValidRequestID(id string) bool { return requestIDRule.Check(id) == nil }

// ValidAmount reports whether s is a wire amount by the contract's rule:
// 1–15 decimal digits, no sign, no leading zero, value ≥ 1.
func ValidAmount(s string) bool { return amountRule.Check(s) == nil }

// IsAlnum reports whether s is non-empty and all [0-9A-Za-z].
func IsAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
