package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"time"

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
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	if t.IdempotencyKey == "" {
		return b // snapshots without a key end here, as before keys existed
	}
	return appendStr(append(b, sectionIdem), t.IdempotencyKey)
}

// sectionIdem marks the optional idempotency key after a snapshot's
// Recovered byte.
const sectionIdem = 1

// idemSection reads the optional section after Recovered: the key, or ""
// when the snapshot ends there.
func (r *bodyReader) idemSection() stored {
	if len(r.b) == 0 || r.err != nil {
		return stored{}
	}
	if r.byte("section") != sectionIdem {
		r.fail("section")
		return stored{}
	}
	k := r.field("idempotencyKey")
	if len(k.raw) == 0 {
		r.fail("idempotencyKey")
	}
	return k
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
	t.IdempotencyKey = r.idemSection().String()
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

// snapFields are the fields of a stored snapshot that Verify checks, as
// scanTxn reads them in place.
type snapFields struct {
	id, state, receiptNo, orderID, idemKey stored
	created                                uint64 // timeKey of CreatedAt
	seqs                                   []uint64
}

// scanTxn checks value as decodeTxn does, building no Txn: it appends the
// entries' seqs to seqs[:0] and returns the fields Verify needs. ok is false
// wherever decodeTxn fails, and also where it might not (request keys that
// are hex-packed or not in increasing order): decodeTxn then decides.
func scanTxn(value []byte, seqs []uint64) (f snapFields, ok bool) {
	if len(value) < 6 || crc32.Checksum(value[4:], castagnoli) != binary.BigEndian.Uint32(value[:4]) {
		return f, false
	}
	r := &bodyReader{b: value[4:]}
	n := r.uvarint("entry count")
	if r.err != nil || n == 0 || n > uint64(len(r.b)) {
		return f, false
	}
	f.seqs = seqs[:0]
	var prev uint64
	for range n {
		d := r.uvarint("entry list")
		if r.err != nil || d == 0 || prev+d < prev {
			return f, false
		}
		prev += d
		f.seqs = append(f.seqs, prev)
	}
	f.id = r.field("id")
	r.varint("op")
	f.state = r.field("state")
	sec, nsec, _ := r.unix("createdAt")
	r.unix("updatedAt")
	r.varint("amount")
	for range 3 { // payType, userCodeMasked, userCodeHash
		r.field("string")
	}
	f.receiptNo, f.orderID = r.field("receiptNo"), r.field("orderId")
	r.field("targetRequestId")
	r.varint("transStatus")
	if !r.sortedPairs("request") {
		return f, false
	}
	for range 3 { // step requestId, kind, reverseRequestId
		r.field("string")
	}
	r.varint("step confirms")
	r.varint("step resends")
	if r.flag("waitingSince") {
		r.unix("waitingSince")
	}
	r.errorView("lastError")
	r.flag("recovered")
	f.idemKey = r.idemSection()
	if r.err != nil || len(r.b) != 0 || len(f.id.raw) == 0 {
		return f, false
	}
	f.created = timeKey(time.Unix(sec, nsec))
	return f, true
}

// sortedPairs reads a map as appendTxn wrote it (a count, then key and
// value pairs), building nothing. It returns false on a read error, and
// unless its keys are plain (not hex-packed) and strictly increasing, as
// appendTxn writes them: then there are no two equal keys.
func (r *bodyReader) sortedPairs(what string) bool {
	n := r.uvarint(what)
	if r.err != nil || n > uint64(len(r.b)) {
		return false
	}
	var last []byte
	for i := range n {
		k := r.field(what)
		r.field(what)
		if r.err != nil || k.packed || (i > 0 && bytes.Compare(last, k.raw) >= 0) {
			return false
		}
		last = k.raw
	}
	return true
}

// fieldsOf returns what scanTxn would for the decoded snapshot s.
func fieldsOf(s *Txn, seqs []uint64) snapFields {
	plain := func(v string) stored { return stored{raw: []byte(v)} }
	return snapFields{id: plain(s.ID), state: plain(string(s.State)), receiptNo: plain(s.ReceiptNo), orderID: plain(s.OrderID),
		idemKey: plain(s.IdempotencyKey), created: timeKey(s.CreatedAt), seqs: seqs}
}
