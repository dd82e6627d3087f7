package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

// formatVersion is the layout described in doc.go; Open refuses any other.
const formatVersion = "wbpay-journal/1"

// Bucket names and meta keys (see doc.go).
var (
	bucketEntries    = []byte("entries")
	bucketTxns       = []byte("txns")
	bucketUnfinished = []byte("unfinished")
	bucketByOrder    = []byte("by-order")
	bucketByReceipt  = []byte("by-receipt")
	bucketByCreated  = []byte("by-created")
	// bucketByIdem is created with the first snapshot that has an
	// idempotency key (journals from before keys existed lack it).
	bucketByIdem = []byte("by-idem")
	bucketMeta   = []byte("meta")

	allBuckets = [][]byte{bucketEntries, bucketTxns, bucketUnfinished, bucketByOrder, bucketByReceipt, bucketByCreated, bucketMeta}

	metaVersion  = []byte("version")
	metaLastSeq  = []byte("last-seq")
	metaLastHash = []byte("last-hash")
	metaTxns     = []byte("txns")

	metaVerifiedSeq = []byte("verified-seq")
	metaID          = []byte("id")
)

// appendFill is the FillPercent of buckets whose keys mostly arrive in
// increasing order (seq, creation time, UUIDv7 ids): pages split at 90%.
const appendFill = 0.9

// Limits on key parts, well below bbolt's MaxKeySize.
const maxKeyPart = 256

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// seqKey is the entries bucket key of seq: 8 bytes big-endian.
func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// entryHash is SHA-256 over the previous entry's hex hash, the decimal seq
// and the body, each followed by '\n' except the body.
func entryHash(prevHash string, seq uint64, body []byte) [sha256.Size]byte {
	var buf [256]byte
	return sha256.Sum256(appendHashInput(buf[:0], prevHash, seq, body))
}

// appendHashInput appends what entryHash hashes: prevHash (the previous
// entry's hex hash), '\n', the decimal seq, '\n' and the body.
func appendHashInput[S ~string | ~[]byte](b []byte, prevHash S, seq uint64, body []byte) []byte {
	b = append(b, prevHash...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, '\n')
	return append(b, body...)
}

// encodeEntry returns the stored value of e (raw hash, then the body) and
// the hex hash, given e's seq and the previous entry's hex hash.
func encodeEntry(e *Entry, seq uint64, prevHash string) (value []byte, hash string) {
	value = make([]byte, sha256.Size, sha256.Size+160)
	value = appendBody(value, e)
	sum := entryHash(prevHash, seq, value[sha256.Size:])
	copy(value, sum[:])
	return value, hex.EncodeToString(sum[:])
}

// appendBody appends e's body (see doc.go): its fields but Seq, PrevHash
// and Hash, in the order of the Entry struct.
func appendBody(b []byte, e *Entry) []byte {
	b = appendStr(b, e.TxnID)
	b = appendTime(b, e.Time)
	for _, s := range [...]string{string(e.Event), string(e.From), string(e.To), e.RequestID, e.Kind, e.HTTP, e.ResultCode} {
		b = appendStr(b, s)
	}
	b = appendErrorInfo(b, e.Error)
	b = appendStr(b, e.Note)
	if len(e.Events) > 0 { // entries without events or close end after the note, as before either existed
		b = append(b, sectionEvents)
		b = binary.AppendUvarint(b, uint64(len(e.Events)))
		for i := range e.Events {
			b = appendEventRec(b, &e.Events[i])
		}
	}
	if e.Close != nil {
		b = append(b, sectionClose)
		b = appendDayClose(b, e.Close)
	}
	return b
}

// Optional sections after an entry's note, each at most once and in this
// order.
const (
	sectionEvents = 1
	sectionClose  = 2
)

// appendDayClose appends a close section's record: Day, From, Until,
// uvarint LastSeq, uvarint count of lines and each line (PayType, varint
// Op, varint Count, varint Amount), uvarint count of open transactions and
// each (TxnID, varint Op, State, PayType, OrderID, varint Amount).
func appendDayClose(b []byte, c *DayClose) []byte {
	b = appendStr(b, c.Day)
	b = appendTime(b, c.From)
	b = appendTime(b, c.Until)
	b = binary.AppendUvarint(b, c.LastSeq)
	b = binary.AppendUvarint(b, uint64(len(c.Lines)))
	for _, l := range c.Lines {
		b = appendStr(b, l.PayType)
		b = binary.AppendVarint(b, int64(l.Op))
		b = binary.AppendVarint(b, l.Count)
		b = binary.AppendVarint(b, l.Amount)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Open)))
	for _, o := range c.Open {
		b = appendStr(b, o.TxnID)
		b = binary.AppendVarint(b, int64(o.Op))
		b = appendStr(b, string(o.State))
		b = appendStr(b, o.PayType)
		b = appendStr(b, o.OrderID)
		b = binary.AppendVarint(b, o.Amount)
	}
	return b
}

// dayClose reads what appendDayClose wrote.
func (r *bodyReader) dayClose() *DayClose {
	c := &DayClose{Day: r.str("close day"), From: r.time("close from"), Until: r.time("close until"), LastSeq: r.uvarint("close lastSeq")}
	n := r.uvarint("close lines")
	if n > uint64(len(r.b)) {
		r.fail("close lines")
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		c.Lines = append(c.Lines, CloseLine{PayType: r.str("close line payType"), Op: paytree.Operation(r.varint("close line op")),
			Count: r.varint("close line count"), Amount: r.varint("close line amount")})
	}
	n = r.uvarint("close open")
	if n > uint64(len(r.b)) {
		r.fail("close open")
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		c.Open = append(c.Open, CloseOpen{TxnID: r.str("close open txnId"), Op: paytree.Operation(r.varint("close open op")),
			State: fsm.State(r.str("close open state")), PayType: r.str("close open payType"), OrderID: r.str("close open orderId"),
			Amount: r.varint("close open amount")})
	}
	return c
}

// Flags of an EventRec's first byte.
const (
	evError     = 1 << 0
	evFinal     = 1 << 1
	evRecovered = 1 << 2
	evKnown     = evError | evFinal | evRecovered
)

// appendEventRec appends a flags byte, the operation's name, then for a CompleteEvent its
// TransStatus, OrderID, Amount, PayType, TransTime and RefundedTotal, for an
// ErrorEvent its error.
func appendEventRec(b []byte, ev *EventRec) []byte {
	var flags byte
	if ev.Error {
		flags |= evError
	}
	if ev.Final {
		flags |= evFinal
	}
	if ev.Recovered {
		flags |= evRecovered
	}
	b = append(b, flags)
	b = appendStr(b, ev.Op.String())
	if ev.Error {
		return appendErrorInfo(b, ev.Err)
	}
	b = binary.AppendVarint(b, int64(ev.TransStatus))
	b = appendStr(b, ev.OrderID)
	b = binary.AppendVarint(b, ev.Amount)
	b = appendStr(b, ev.PayType)
	b = appendStr(b, ev.TransTime)
	return binary.AppendVarint(b, ev.RefundedTotal)
}

// appendStr appends s as uvarint(n<<1 | hex) and n bytes: a string of
// lower-case hex digits (even length, at least 16) is stored as the n bytes
// it spells, with hex = 1; any other string as its n bytes, with hex = 0.
func appendStr(b []byte, s string) []byte {
	if isLowerHex(s) {
		b = binary.AppendUvarint(b, uint64(len(s)/2)<<1|1)
		b, _ = hex.AppendDecode(b, []byte(s)) // valid: isLowerHex
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(s))<<1)
	return append(b, s...)
}

// appendTime appends t as varint unix seconds, uvarint nanoseconds and the
// varint offset of its zone in seconds (the zone's name is not kept).
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	_, off := t.Zone()
	return binary.AppendVarint(b, int64(off))
}

func isLowerHex(s string) bool {
	if len(s) < 16 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// appendErrorInfo appends 0 for nil, else 1, the type and the four strings.
func appendErrorInfo(b []byte, e *ErrorInfo) []byte {
	if e == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, int64(e.Type))
	for _, s := range [...]string{e.Code, e.SubCode, e.Message, e.Action} {
		b = appendStr(b, s)
	}
	return b
}

// bodyReader reads a body; the first error sticks and every later read
// returns zero values, so that decodeBody checks once at the end.
type bodyReader struct {
	b   []byte
	err error
}

func (r *bodyReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or malformed body at %s", what)
	}
}

func (r *bodyReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) > 0 && r.b[0] < 0x80 { // one byte: most lengths and counts
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *bodyReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *bodyReader) str(what string) string {
	return r.field(what).String()
}

// stored is a string as appendStr stored it: its bytes as read (not
// copied) and whether they are hex-packed.
type stored struct {
	raw    []byte
	packed bool
}

// String returns the string s stands for.
func (s stored) String() string {
	if s.packed {
		return hex.EncodeToString(s.raw)
	}
	return string(s.raw)
}

// appendTo appends the string s stands for to b.
func (s stored) appendTo(b []byte) []byte {
	if s.packed {
		return hex.AppendEncode(b, s.raw)
	}
	return append(b, s.raw...)
}

// is reports whether s stands for the string v, without allocating.
func (s stored) is(v []byte) bool {
	if !s.packed {
		return bytes.Equal(s.raw, v)
	}
	if len(v) != 2*len(s.raw) {
		return false
	}
	const digits = "0123456789abcdef"
	for i, c := range s.raw {
		if v[2*i] != digits[c>>4] || v[2*i+1] != digits[c&0x0f] {
			return false
		}
	}
	return true
}

// field reads what appendStr wrote, in place: str without the copy.
func (r *bodyReader) field(what string) stored {
	h := r.uvarint(what)
	n := h >> 1
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail(what)
		return stored{}
	}
	s := stored{raw: r.b[:n], packed: h&1 == 1}
	r.b = r.b[n:]
	if s.packed && n < 8 {
		r.fail(what)
		return stored{}
	}
	return s
}

// time reads what appendTime wrote; UTC when the offset is 0.
func (r *bodyReader) time(what string) time.Time {
	sec, nsec, off := r.unix(what)
	if r.err != nil {
		return time.Time{}
	}
	return unixTime(sec, nsec, off)
}

// unixTime is the time appendTime wrote as sec, nsec and off; UTC when the
// offset is 0.
func unixTime(sec, nsec, off int64) time.Time {
	loc := time.UTC
	if off != 0 {
		loc = time.FixedZone("", int(off))
	}
	return time.Unix(sec, nsec).In(loc)
}

// unix reads and checks what appendTime wrote: unix seconds, nanoseconds
// (below 1e9) and the zone's offset in seconds (less than a day either
// way); zeros after an error.
func (r *bodyReader) unix(what string) (sec, nsec, off int64) {
	sec, ns, off := r.varint(what), r.uvarint(what), r.varint(what)
	if r.err == nil && (ns >= 1e9 || off <= -24*3600 || off >= 24*3600) {
		r.fail(what)
	}
	if r.err != nil {
		return 0, 0, 0
	}
	return sec, int64(ns), off
}

// flag reads a byte that must be 0 or 1.
func (r *bodyReader) flag(what string) bool {
	switch r.byte(what) {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(what)
	return false
}

func (r *bodyReader) byte(what string) byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail(what)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// errorInfo reads what appendErrorInfo wrote.
func (r *bodyReader) errorInfo(what string) *ErrorInfo { return r.errorView(what).info() }

// errorView is what appendErrorInfo wrote, read in place.
type errorView struct {
	present                        bool
	typ                            int64
	code, subCode, message, action stored
}

func (r *bodyReader) errorView(what string) errorView {
	if !r.flag(what) {
		return errorView{}
	}
	return errorView{present: true, typ: r.varint(what + " type"), code: r.field(what + " code"), subCode: r.field(what + " subCode"),
		message: r.field(what + " message"), action: r.field(what + " action")}
}

// info builds the ErrorInfo v stands for (nil when absent).
func (v errorView) info() *ErrorInfo {
	if !v.present {
		return nil
	}
	return &ErrorInfo{Type: int(v.typ), Code: v.code.String(), SubCode: v.subCode.String(), Message: v.message.String(), Action: v.action.String()}
}

// bodyView is an entry's body as appendBody wrote it, read and checked in
// place: the one reading of the layout, shared by decodeBody and scanBody.
type bodyView struct {
	idEnd                                                           int // where the txn id field (header included) ends
	txnID, event, from, to, requestID, kind, http, resultCode, note stored
	sec, nsec, off                                                  int64
	err                                                             errorView
	events                                                          []EventRec // decoded only when decode is set
	close                                                           *DayClose  // decoded only when decode is set
	decode                                                          bool
}

// readBody reads body into v (filled in place: a bodyView is large),
// failing as decodeBody documents.
func readBody(body []byte, v *bodyView) error {
	r := &bodyReader{b: body}
	v.txnID = r.field("txnId")
	v.idEnd = len(body) - len(r.b)
	v.sec, v.nsec, v.off = r.unix("time")
	v.event, v.from, v.to = r.field("event"), r.field("from"), r.field("to")
	v.requestID, v.kind, v.http, v.resultCode = r.field("requestId"), r.field("kind"), r.field("http"), r.field("resultCode")
	v.err = r.errorView("error")
	v.note = r.field("note")
	last := byte(0) // the last section read: each at most once, in order
	for len(r.b) > 0 && r.err == nil {
		sec := r.byte("section")
		if sec <= last {
			r.fail("section")
			break
		}
		last = sec
		switch sec {
		case sectionEvents:
			n := r.uvarint("events")
			if n == 0 || n > uint64(len(r.b)) {
				r.fail("events count")
			}
			for i := uint64(0); i < n && r.err == nil; i++ {
				ev := r.eventRec("event")
				if v.decode {
					v.events = append(v.events, ev)
				}
			}
		case sectionClose:
			c := r.dayClose()
			if v.decode {
				v.close = c
			}
		default:
			r.fail("section")
		}
	}
	switch {
	case r.err != nil:
		return r.err
	case len(r.b) != 0:
		return fmt.Errorf("%d bytes after the body", len(r.b))
	case len(v.txnID.raw) == 0:
		return errors.New("entry without txn id")
	}
	return nil
}

// eventRec reads what appendEventRec wrote.
func (r *bodyReader) eventRec(what string) EventRec {
	flags := r.byte(what)
	if flags&^evKnown != 0 {
		r.fail(what + " flags")
	}
	ev := EventRec{Error: flags&evError != 0, Final: flags&evFinal != 0, Recovered: flags&evRecovered != 0}
	if op := r.str(what + " op"); r.err == nil {
		var ok bool
		if ev.Op, ok = paytree.ParseOperation(op); !ok {
			r.fail(what + " op")
		}
	}
	if ev.Error {
		ev.Err = r.errorInfo(what + " error")
		return ev
	}
	ev.TransStatus = int(r.varint(what + " transStatus"))
	ev.OrderID = r.str(what + " orderId")
	ev.Amount = r.varint(what + " amount")
	ev.PayType = r.str(what + " payType")
	ev.TransTime = r.str(what + " transTime")
	ev.RefundedTotal = r.varint(what + " refundedTotal")
	return ev
}

// decodeBody reads an entry's body into an Entry without Seq, PrevHash and
// Hash. It never panics.
func decodeBody(body []byte) (Entry, error) {
	v := bodyView{decode: true}
	if err := readBody(body, &v); err != nil {
		return Entry{}, err
	}
	return Entry{TxnID: v.txnID.String(), Time: unixTime(v.sec, v.nsec, v.off),
		Event: fsm.Event(v.event.String()), From: fsm.State(v.from.String()), To: fsm.State(v.to.String()),
		RequestID: v.requestID.String(), Kind: v.kind.String(), HTTP: v.http.String(), ResultCode: v.resultCode.String(),
		Error: v.err.info(), Note: v.note.String(), Events: v.events, Close: v.close}, nil
}

// scanBody reads body as decodeBody does, building nothing and copying
// nothing: it returns the stored txn id (appendStr's bytes, header
// included) and the from and to states. ok is false exactly where
// decodeBody fails (decodeBody then says why).
func scanBody(body []byte) (id []byte, from, to stored, ok bool) {
	var v bodyView
	if err := readBody(body, &v); err != nil {
		return nil, stored{}, stored{}, false
	}
	return body[:v.idEnd], v.from, v.to, true
}

// errBadHash is the reason decodeEntry gives when the stored hash does not
// match the recomputed one.
var errBadHash = errors.New("hash mismatch: the entry was altered")

// decodeEntry reads the stored value of entry seq whose predecessor's hex
// hash is prevHash, recomputes its hash and fills Seq, PrevHash and Hash.
// It never panics; any damage is an error naming what is wrong.
func decodeEntry(seq uint64, prevHash string, value []byte) (Entry, error) {
	if len(value) < sha256.Size+1 {
		return Entry{}, fmt.Errorf("value of %d bytes is too short", len(value))
	}
	stored, body := value[:sha256.Size], value[sha256.Size:]
	e, err := decodeBody(body)
	if err != nil {
		return Entry{}, err
	}
	e.Seq, e.PrevHash, e.Hash = seq, prevHash, hex.EncodeToString(stored)
	if sum := entryHash(prevHash, seq, body); !bytes.Equal(sum[:], stored) {
		return e, errBadHash
	}
	return e, nil
}

// storedHash returns the hex hash stored in front of an entry's value.
func storedHash(value []byte) (string, bool) {
	if len(value) < sha256.Size {
		return "", false
	}
	return hex.EncodeToString(value[:sha256.Size]), true
}

// createdKey is the by-created key: CreatedAt as unix nanoseconds with the
// sign bit flipped (so that keys sort by time), big-endian, then the id.
func createdKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, timeKey(t))
	return append(k, id...)
}

func timeKey(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }

// pairKey is a by-order or by-receipt key: value, 0x00, id.
func pairKey(value, id string) []byte {
	k := make([]byte, 0, len(value)+1+len(id))
	k = append(k, value...)
	k = append(k, 0)
	return append(k, id...)
}

// pairID returns the id part of a pairKey whose first part is value.
func pairID(key []byte, value string) (string, bool) {
	if len(key) <= len(value)+1 || string(key[:len(value)]) != value || key[len(value)] != 0 {
		return "", false
	}
	return string(key[len(value)+1:]), true
}

func u64(v []byte) (uint64, bool) {
	if len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}
