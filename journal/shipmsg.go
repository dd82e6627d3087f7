package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ShipVersion is the version of ShipRecord's layout; a reader refuses
// others.
const ShipVersion = 1

// SubjectPrefix is the NATS subject prefix of shipped entries: a record of
// merchant M and terminal T goes to SubjectPrefix + "M.T".
const SubjectPrefix = "wbpay.journal."

// ShipRecord is one journal entry as shipped to HQ, as JSON: the entry
// exactly as stored (Seq, stored hash, the predecessor's stored hash and the
// body bytes), so that HQ recomputes the chain with EntryHash, and the
// transaction's snapshot (ShipTxn) for HQ's queries. It never holds a full
// userCode, a key or a secret.
type ShipRecord struct {
	V            int       `json:"v"`
	MerchantID   string    `json:"merchantId"`
	Terminal     string    `json:"terminal"` // TerminalUniquId
	Store        string    `json:"store"`    // BranchCode
	TerminalCode string    `json:"terminalCode"`
	Seq          uint64    `json:"seq"`
	Hash         string    `json:"hash"`     // stored, hex
	PrevHash     string    `json:"prevHash"` // stored hash of Seq-1, hex; "" for Seq 1
	Body         []byte    `json:"body"`     // as stored (base64 in JSON)
	Txn          *ShipTxn  `json:"txn,omitempty"`
	ShippedAt    time.Time `json:"shippedAt"`
}

// ShipTxn is the part of a transaction's snapshot that HQ keeps, as it
// stood when its entry was read; Seq is the Seq of the snapshot's last
// entry, so that HQ keeps the newest snapshot whatever the delivery order.
type ShipTxn struct {
	ID              string    `json:"id"`
	Seq             uint64    `json:"seq"`
	Op              string    `json:"op"`
	State           string    `json:"state"`
	Amount          int64     `json:"amount"`
	OrderID         string    `json:"orderId,omitempty"`
	ReceiptNo       string    `json:"receiptNo,omitempty"`
	PayType         string    `json:"payType,omitempty"`
	TransStatus     int       `json:"transStatus,omitempty"`
	TargetRequestID string    `json:"targetRequestId,omitempty"`
	UserCodeMasked  string    `json:"userCodeMasked,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
	ErrorCode       string    `json:"errorCode,omitempty"`
	Recovered       bool      `json:"recovered,omitempty"`
}

// ShipSubject returns the subject of the records of merchant and terminal.
func ShipSubject(merchant, terminal string) string { return SubjectPrefix + merchant + "." + terminal }

// ShipMsgID returns the Nats-Msg-Id of record seq of terminal, by which
// JetStream drops a record sent twice.
func ShipMsgID(terminal string, seq uint64) string {
	return terminal + "/" + strconv.FormatUint(seq, 10)
}

// ShipTxnOf returns the shipped part of s (nil for nil), the userCode masked
// again so that no full code can leave even from a damaged snapshot.
func ShipTxnOf(s *Txn, seq uint64) *ShipTxn {
	if s == nil {
		return nil
	}
	t := &ShipTxn{ID: s.ID, Seq: seq, Op: s.Op.String(), State: string(s.State), Amount: s.Amount, OrderID: s.OrderID,
		ReceiptNo: s.ReceiptNo, PayType: s.PayType, TransStatus: s.TransStatus, TargetRequestID: s.TargetRequestID,
		UserCodeMasked: MaskUserCode(s.UserCodeMasked), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Recovered: s.Recovered}
	if s.LastError != nil {
		t.ErrorCode = s.LastError.Code
	}
	return t
}

// errShipRecord prefixes DecodeShipRecord's errors.
var errShipRecord = errors.New("journal: bad ship record")

// DecodeShipRecord reads a ShipRecord, refusing another version, a record
// without terminal, merchant or Seq, and hashes that are not 64 hex digits.
// It never panics.
func DecodeShipRecord(data []byte) (*ShipRecord, error) {
	var r ShipRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", errShipRecord, err)
	}
	switch {
	case r.V != ShipVersion:
		return nil, fmt.Errorf("%w: version %d (this build reads %d)", errShipRecord, r.V, ShipVersion)
	case r.Terminal == "" || r.MerchantID == "":
		return nil, fmt.Errorf("%w: no terminal or merchant", errShipRecord)
	case r.Seq == 0:
		return nil, fmt.Errorf("%w: seq 0", errShipRecord)
	case !isHash(r.Hash):
		return nil, fmt.Errorf("%w: hash %.70q", errShipRecord, r.Hash)
	case r.Seq == 1 && r.PrevHash != "", r.Seq > 1 && !isHash(r.PrevHash):
		return nil, fmt.Errorf("%w: prev hash %.70q for seq %d", errShipRecord, r.PrevHash, r.Seq)
	}
	return &r, nil
}

func isHash(s string) bool { return len(s) == 64 && isLowerHex(s) }
