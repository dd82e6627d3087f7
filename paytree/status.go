package paytree

import "strconv"

// TransStatus is a transaction status (取引ステータス, contract section 5).
type TransStatus int

// Transaction statuses, with their wire values.
const (
	StatusPaid              TransStatus = 1
	StatusWaiting           TransStatus = 2
	StatusProcessing        TransStatus = 3
	StatusFailed            TransStatus = 4
	StatusCancelled         TransStatus = 5
	StatusExpired           TransStatus = 6
	StatusReversed          TransStatus = 7
	StatusRefunded          TransStatus = 8
	StatusPartiallyRefunded TransStatus = 9
	StatusDeposited         TransStatus = 10
)

var statusNames = map[TransStatus]string{
	StatusPaid: "PAID", StatusWaiting: "WAITING", StatusProcessing: "PROCESSING",
	StatusFailed: "FAILED", StatusCancelled: "CANCELLED", StatusExpired: "EXPIRED",
	StatusReversed: "REVERSED", StatusRefunded: "REFUNDED",
	StatusPartiallyRefunded: "PARTIALLY_REFUNDED", StatusDeposited: "DEPOSITED",
}

// String returns the contract's name of s (e.g. "PAID").
func (s TransStatus) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "TransStatus(" + strconv.Itoa(int(s)) + ")"
}

// Valid reports whether s is one of the ten statuses of the contract.
func (s TransStatus) Valid() bool { _, ok := statusNames[s]; return ok }

// Wire returns s as its wire value ("1" … "10").
func (s TransStatus) Wire() string { return strconv.Itoa(int(s)) }

// ParseTransStatus reads a wire value "1" … "10".
func ParseTransStatus(v string) (TransStatus, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ { // digits only: strconv.Atoi would take "+1"
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	s := TransStatus(n)
	return s, s.Valid()
}

// MoneyHeld reports whether the channel holds the customer's money in status
// s: yes for PAID, PARTIALLY_REFUNDED and DEPOSITED. PROCESSING is unknown
// and reported as false; callers must confirm.
func (s TransStatus) MoneyHeld() bool {
	return s == StatusPaid || s == StatusPartiallyRefunded || s == StatusDeposited
}

// Operation is a request type (the library spec's WbCPSRequestType).
type Operation int

// Operations of the wire contract.
const (
	OpPay Operation = iota + 1
	OpRefund
	OpReverse
	OpConfirm
	OpDeposit
	// OpClose is no wire request: it is the operation of the journal's
	// pseudo-transaction that closes a business day (日計), one per JST day,
	// which sends nothing and holds the day's totals.
	OpClose
)

var opNames = map[Operation]string{OpPay: "pay", OpRefund: "refund", OpReverse: "reverse", OpConfirm: "confirm", OpDeposit: "deposit", OpClose: "close"}

// String returns the lower-case name of o ("pay", "refund", …).
func (o Operation) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return "Operation(" + strconv.Itoa(int(o)) + ")"
}

// ParseOperation reads a name written by String.
func ParseOperation(s string) (Operation, bool) {
	for o, n := range opNames {
		if n == s {
			return o, true
		}
	}
	return 0, false
}

// ValueType is a deposit's value type (WbCPSValueType); only Basic is served.
type ValueType string

// Value types; the gateway refuses all but Basic with E1001.
const (
	ValueBasic  ValueType = "BASIC"
	ValueBonus  ValueType = "BONUS"
	ValueCoupon ValueType = "COUPON"
	ValuePoint  ValueType = "POINT"
)

// Currency is a price currency (WbCPSCurrencyType); the contract fixes JPY.
type Currency string

// Currencies of library spec 3.2.
const (
	CNY Currency = "CNY"
	GBP Currency = "GBP"
	HKD Currency = "HKD"
	USD Currency = "USD"
	JPY Currency = "JPY"
	CAD Currency = "CAD"
	AUD Currency = "AUD"
	EUR Currency = "EUR"
	NZD Currency = "NZD"
	KRW Currency = "KRW"
)
