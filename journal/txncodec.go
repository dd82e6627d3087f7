package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

// encodeTxn returns the stored value of a snapshot (see doc.go): a CRC-32C
// (Castagnoli, big-endian) of the rest, the number of the txn's entries and
// their seqs (uvarints: the first seq, then the gaps), then the snapshot's
// fields in the order of the Txn struct.
func encodeTxn(t *Txn, seqs []uint64) []byte {
	v := make([]byte, 4, 320)
	v = binary.AppendUvarint(v, uint64(len(seqs)))
	var prev uint64
	for _, s := range seqs {
		v = binary.AppendUvarint(v, s-prev)
		prev = s
	}
	v = appendTxn(v, t)
	binary.BigEndian.PutUint32(v[:4], crc32.Checksum(v[4:], castagnoli))
	return v
}

// appendTxn appends the snapshot's fields: strings as appendStr, times as
// appendTime, ints as varints, Request as a count and its pairs sorted by
// key, the zero WaitingSince as a 0 byte (else 1 and the time), LastError as
// appendErrorInfo, Recovered as one byte.
func appendTxn(b []byte, t *Txn) []byte {
	b = appendStr(b, t.ID)
	b = binary.AppendVarint(b, int64(t.Op))
	b = appendStr(b, string(t.State))
	b = appendTime(b, t.CreatedAt)
	b = appendTime(b, t.UpdatedAt)
	b = binary.AppendVarint(b, t.Amount)
	for _, s := range [...]string{t.PayType, t.UserCodeMasked, t.UserCodeHash, t.ReceiptNo, t.OrderID, t.TargetRequestID} {
		b = appendStr(b, s)
	}
	b = binary.AppendVarint(b, int64(t.TransStatus))
	keys := make([]string, 0, len(t.Request))
	for k := range t.Request {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendStr(appendStr(b, k), t.Request[k])
	}
	b = appendStr(b, t.Step.RequestID)
	b = appendStr(b, t.Step.Kind)
	b = appendStr(b, t.Step.ReverseRequestID)
	b = binary.AppendVarint(b, int64(t.Step.Confirms))
	b = binary.AppendVarint(b, int64(t.Step.Resends))
	if t.WaitingSince.IsZero() {
		b = append(b, 0)
	} else {
		b = appendTime(append(b, 1), t.WaitingSince)
	}
	b = appendErrorInfo(b, t.LastError)
	if t.Recovered {
		return append(b, 1)
	}
	return append(b, 0)
}

// decodeTxn reads a stored snapshot and its entries' seqs. It never panics.
func decodeTxn(value []byte) (*Txn, []uint64, error) {
	if len(value) < 6 {
		return nil, nil, fmt.Errorf("snapshot of %d bytes is too short", len(value))
	}
	if got, want := crc32.Checksum(value[4:], castagnoli), binary.BigEndian.Uint32(value[:4]); got != want {
		return nil, nil, fmt.Errorf("snapshot checksum %08x, stored %08x: the snapshot was altered", got, want)
	}
	r := &bodyReader{b: value[4:]}
	n := r.uvarint("entry count")
	if r.err == nil && (n == 0 || n > uint64(len(r.b))) {
		return nil, nil, errors.New("snapshot: bad entry count")
	}
	seqs := make([]uint64, 0, n)
	var prev uint64
	for i := uint64(0); i < n && r.err == nil; i++ {
		d := r.uvarint("entry list")
		if r.err == nil && (d == 0 || prev+d < prev) {
			return nil, nil, errors.New("snapshot: bad entry list")
		}
		prev += d
		seqs = append(seqs, prev)
	}
	t := new(Txn)
	t.ID = r.str("id")
	t.Op = paytree.Operation(r.varint("op"))
	t.State = fsm.State(r.str("state"))
	t.CreatedAt, t.UpdatedAt = r.time("createdAt"), r.time("updatedAt")
	t.Amount = r.varint("amount")
	t.PayType, t.UserCodeMasked, t.UserCodeHash = r.str("payType"), r.str("userCodeMasked"), r.str("userCodeHash")
	t.ReceiptNo, t.OrderID, t.TargetRequestID = r.str("receiptNo"), r.str("orderId"), r.str("targetRequestId")
	t.TransStatus = int(r.varint("transStatus"))
	if nreq := r.uvarint("request"); nreq > 0 && r.err == nil {
		if nreq > uint64(len(r.b)) {
			r.fail("request")
		} else {
			t.Request = make(map[string]string, nreq)
		}
		for i := uint64(0); i < nreq && r.err == nil; i++ {
			k := r.str("request key")
			if _, dup := t.Request[k]; dup {
				r.fail("request key")
			}
			t.Request[k] = r.str("request value")
		}
	}
	t.Step.RequestID, t.Step.Kind, t.Step.ReverseRequestID = r.str("step requestId"), r.str("step kind"), r.str("step reverseRequestId")
	t.Step.Confirms, t.Step.Resends = int(r.varint("step confirms")), int(r.varint("step resends"))
	if r.flag("waitingSince") {
		t.WaitingSince = r.time("waitingSince")
	}
	t.LastError = r.errorInfo("lastError")
	t.Recovered = r.flag("recovered")
	switch {
	case r.err != nil:
		return nil, nil, fmt.Errorf("snapshot: %v", r.err)
	case len(r.b) != 0:
		return nil, nil, fmt.Errorf("snapshot: %d bytes after the fields", len(r.b))
	case t.ID == "":
		return nil, nil, errors.New("snapshot without id")
	}
	return t, seqs, nil
}
