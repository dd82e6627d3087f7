package journal

import (
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

// ErrorInfo is the error a transition recorded (the wire contract's error
// catalog: type, code, sub-code, message and recommended action).
type ErrorInfo struct {
	Type    int    `json:"type"`
	Code    string `json:"code"`
	SubCode string `json:"subCode,omitempty"`
	Message string `json:"message"`
	Action  string `json:"action"`
}

// Txn is a transaction's snapshot: its latest state and what recovery needs
// to resume it. The customer's full userCode is never stored: only
// UserCodeMasked and UserCodeHash (see MaskUserCode, HashUserCodeKeyed), and
// Append drops a "userCode" key from Request.
type Txn struct {
	ID              string            `json:"id"` // requestId of its first request
	Op              paytree.Operation `json:"op"`
	State           fsm.State         `json:"state"`
	CreatedAt       time.Time         `json:"createdAt"`
	UpdatedAt       time.Time         `json:"updatedAt"`
	Amount          int64             `json:"amount"`
	PayType         string            `json:"payType,omitempty"` // wire code; "" = auto-detect
	UserCodeMasked  string            `json:"userCodeMasked,omitempty"`
	UserCodeHash    string            `json:"userCodeHash,omitempty"` // HashUserCodeKeyed ("01" + hex HMAC-SHA256); 64 hex digits (unkeyed SHA-256) in older entries
	ReceiptNo       string            `json:"receiptNo,omitempty"`
	OrderID         string            `json:"orderId,omitempty"` // the gateway's order (for refund/reverse: the target order)
	TargetRequestID string            `json:"targetRequestId,omitempty"`
	TransStatus     int               `json:"transStatus,omitempty"`
	Request         map[string]string `json:"request,omitempty"` // the first request's operation fields, userCode removed
	Step            Step              `json:"step"`              // where the sequence is
	WaitingSince    time.Time         `json:"waitingSince,omitzero"`
	LastError       *ErrorInfo        `json:"lastError,omitempty"`
	Recovered       bool              `json:"recovered,omitempty"` // finished by recovery after a restart
	// IdempotencyKey is the caller's key for the request that started the
	// transaction ("" = none): a retry with the same key gets this
	// transaction back instead of a second one (see ByIdempotencyKey).
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// Step records the in-flight sub-request so recovery knows what to resend
// or confirm.
type Step struct {
	RequestID        string `json:"requestId,omitempty"`        // requestId of the request in flight / last sent
	Kind             string `json:"kind,omitempty"`             // "pay","refund","reverse","deposit","confirm"
	ReverseRequestID string `json:"reverseRequestId,omitempty"` // the reverse that undoes this pay/deposit (reused on every resend)
	Confirms         int    `json:"confirms"`                   // confirms sent in the current phase
	Resends          int    `json:"resends"`
}

// Entry is one journaled transition. Seq, PrevHash and Hash are assigned by
// Append; the rest is the caller's.
type Entry struct {
	Seq        uint64     `json:"seq"` // global, strictly increasing from 1, assigned by Append
	TxnID      string     `json:"txnId"`
	Time       time.Time  `json:"time"`
	Event      fsm.Event  `json:"event"`
	From       fsm.State  `json:"from"`
	To         fsm.State  `json:"to"`
	RequestID  string     `json:"requestId,omitempty"`  // the request this step sends or whose answer it records
	Kind       string     `json:"kind,omitempty"`       // pay|refund|reverse|deposit|confirm
	HTTP       string     `json:"http,omitempty"`       // outcome: "200", "500", "timeout", "closed", "bad-signature", "not-sent", …
	ResultCode string     `json:"resultCode,omitempty"` // the answer's resultCode
	Error      *ErrorInfo `json:"error,omitempty"`
	Note       string     `json:"note,omitempty"`
	Events     []EventRec `json:"events,omitempty"` // the CompleteEvents and ErrorEvents raised right after this transition, in order
	Close      *DayClose  `json:"close,omitempty"`  // the totals of a business day's close (only on a close entry)
	PrevHash   string     `json:"prevHash"`         // hex SHA-256 of the previous entry (global chain); "" for the first
	Hash       string     `json:"hash"`             // hex SHA-256 over PrevHash, Seq and the entry's stored body (see doc.go)
}

// EventRec is one CompleteEvent or ErrorEvent as the engine raised it,
// journaled with the transition it follows, so that the event survives a
// crash once the transition is durable (the daemon replays them).
type EventRec struct {
	Error     bool              `json:"error,omitempty"`     // an ErrorEvent (else a CompleteEvent)
	Final     bool              `json:"final,omitempty"`     // the transaction is terminal after this event
	Recovered bool              `json:"recovered,omitempty"` // raised by recovery after a restart
	Op        paytree.Operation `json:"op"`                  // the transaction's operation (the event's request type)
	// CompleteEvent fields.
	TransStatus   int    `json:"transStatus,omitempty"`
	OrderID       string `json:"orderId,omitempty"`
	Amount        int64  `json:"amount,omitempty"`
	PayType       string `json:"payType,omitempty"` // wire code
	TransTime     string `json:"transTime,omitempty"`
	RefundedTotal int64  `json:"refundedTotal,omitempty"`
	// ErrorEvent field.
	Err *ErrorInfo `json:"err,omitempty"`
}

// DayClose is what a business day's close (日計) journals: the day's
// totals as they stood when it was closed. It is hashed with its entry, so
// a closed day's totals never change and reprint identically.
type DayClose struct {
	Day     string      `json:"day"`     // the JST business day, YYYY-MM-DD
	From    time.Time   `json:"from"`    // transactions created at From or later …
	Until   time.Time   `json:"until"`   // … and before Until belong to the day
	LastSeq uint64      `json:"lastSeq"` // the journal's last entry when the day was closed
	Lines   []CloseLine `json:"lines"`   // settled money, one line per channel and operation
	Open    []CloseOpen `json:"open"`    // the day's transactions still unfinished or escalated
}

// CloseLine counts and sums one operation on one channel.
type CloseLine struct {
	PayType string            `json:"payType"` // wire code; "" when the channel is not known
	Op      paytree.Operation `json:"op"`
	Count   int64             `json:"count"`
	Amount  int64             `json:"amount"`
}

// CloseOpen is a transaction of the day whose outcome was not settled when
// the day was closed (unfinished, or escalated to a person).
type CloseOpen struct {
	TxnID   string            `json:"txnId"`
	Op      paytree.Operation `json:"op"`
	State   fsm.State         `json:"state"`
	PayType string            `json:"payType,omitempty"`
	OrderID string            `json:"orderId,omitempty"`
	Amount  int64             `json:"amount"`
}

// Query selects transactions for List and ForEachTxn. Zero fields match
// everything: Since is inclusive, Until exclusive (both on CreatedAt), and
// Limit 0 means no limit.
type Query struct {
	Since, Until   time.Time
	State          fsm.State
	Op             paytree.Operation
	OrderID        string
	ReceiptNo      string
	IdempotencyKey string
	Limit          int
}

// Report is what Verify checked.
type Report struct {
	Entries  uint64 // entries whose hash and link were recomputed
	Txns     uint64 // snapshots checked against their entries and the indexes
	LastSeq  uint64
	LastHash string // hex; "" for an empty journal
}

// Stats are cheap counters and sizes (no scan of the history).
type Stats struct {
	Entries    uint64 // entries appended (== LastSeq)
	Txns       uint64 // transactions ever journaled
	Unfinished uint64 // transactions not in a terminal state
	LastSeq    uint64
	FileBytes  int64 // size of the file on disk
	PageSize   int
	DataBytes  int64 // bytes below bbolt's high-water mark (pages ever used)
	FreeBytes  int64 // of DataBytes, bytes in free or pending pages
}
