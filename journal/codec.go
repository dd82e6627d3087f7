package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"time"

	"github.com/wbpay/wbpay/fsm"
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
	bucketMeta       = []byte("meta")

	allBuckets = [][]byte{bucketEntries, bucketTxns, bucketUnfinished, bucketByOrder, bucketByReceipt, bucketByCreated, bucketMeta}

	metaVersion  = []byte("version")
	metaLastSeq  = []byte("last-seq")
	metaLastHash = []byte("last-hash")
	metaTxns     = []byte("txns")
)

// appendFill is the FillPercent of buckets whose keys mostly arrive in
// increasing order (seq, creation time, UUIDv7 ids): pages split at 90%.
const appendFill = 0.9

// Limits on key parts, well below bbolt's MaxKeySize.
const maxKeyPart = 256

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entryBody is the part of an Entry that is stored as JSON: everything but
// Seq (the key), PrevHash (the previous entry's hash) and Hash (stored raw in
// front of the body). Its fields mirror Entry's, in the same order.
type entryBody struct {
	TxnID      string     `json:"txnId"`
	Time       time.Time  `json:"time"`
	Event      fsm.Event  `json:"event"`
	From       fsm.State  `json:"from"`
	To         fsm.State  `json:"to"`
	RequestID  string     `json:"requestId,omitempty"`
	Kind       string     `json:"kind,omitempty"`
	HTTP       string     `json:"http,omitempty"`
	ResultCode string     `json:"resultCode,omitempty"`
	Error      *ErrorInfo `json:"error,omitempty"`
	Note       string     `json:"note,omitempty"`
}

func bodyOf(e *Entry) entryBody {
	return entryBody{TxnID: e.TxnID, Time: e.Time, Event: e.Event, From: e.From, To: e.To, RequestID: e.RequestID,
		Kind: e.Kind, HTTP: e.HTTP, ResultCode: e.ResultCode, Error: e.Error, Note: e.Note}
}

func (b *entryBody) entry(seq uint64) Entry {
	return Entry{Seq: seq, TxnID: b.TxnID, Time: b.Time, Event: b.Event, From: b.From, To: b.To, RequestID: b.RequestID,
		Kind: b.Kind, HTTP: b.HTTP, ResultCode: b.ResultCode, Error: b.Error, Note: b.Note}
}

// seqKey is the entries bucket key of seq: 8 bytes big-endian.
func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// entryHash is SHA-256 over the previous entry's hex hash, the decimal seq
// and the body, each followed by '\n' except the body.
func entryHash(prevHash string, seq uint64, body []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write([]byte{'\n'})
	h.Write(strconv.AppendUint(nil, seq, 10))
	h.Write([]byte{'\n'})
	h.Write(body)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// encodeEntry returns the stored value of e (raw hash, then the body JSON)
// and the hex hash, given e's seq and the previous entry's hex hash.
func encodeEntry(e *Entry, seq uint64, prevHash string) (value []byte, hash string, err error) {
	body, err := json.Marshal(bodyOf(e))
	if err != nil {
		return nil, "", fmt.Errorf("encode entry: %w", err)
	}
	sum := entryHash(prevHash, seq, body)
	value = make([]byte, 0, len(sum)+len(body))
	value = append(value, sum[:]...)
	value = append(value, body...)
	return value, hex.EncodeToString(sum[:]), nil
}

// errBadHash is the reason decodeEntry gives when the stored hash does not
// match the recomputed one.
var errBadHash = errors.New("hash mismatch: the entry was altered")

// decodeEntry reads the stored value of entry seq whose predecessor's hex
// hash is prevHash, recomputes its hash and fills Seq, PrevHash and Hash.
// It never panics; any damage is an error naming what is wrong.
func decodeEntry(seq uint64, prevHash string, value []byte) (Entry, error) {
	if len(value) < sha256.Size+2 {
		return Entry{}, fmt.Errorf("value of %d bytes is too short", len(value))
	}
	stored, body := value[:sha256.Size], value[sha256.Size:]
	var b entryBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Entry{}, fmt.Errorf("undecodable body: %v", err)
	}
	if dec.More() {
		return Entry{}, errors.New("undecodable body: data after the JSON object")
	}
	e := b.entry(seq)
	e.PrevHash = prevHash
	e.Hash = hex.EncodeToString(stored)
	if e.TxnID == "" {
		return e, errors.New("entry without txn id")
	}
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

// encodeTxn returns the stored value of a snapshot: a CRC-32C (Castagnoli,
// big-endian) of the rest, the number of the txn's entries and their seqs
// (uvarints: the first seq, then the gaps), then the snapshot's JSON.
func encodeTxn(t *Txn, seqs []uint64) ([]byte, error) {
	js, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	v := make([]byte, 4, 4+binary.MaxVarintLen64*(len(seqs)+1)+len(js))
	v = binary.AppendUvarint(v, uint64(len(seqs)))
	var prev uint64
	for _, s := range seqs {
		v = binary.AppendUvarint(v, s-prev)
		prev = s
	}
	v = append(v, js...)
	binary.BigEndian.PutUint32(v[:4], crc32.Checksum(v[4:], castagnoli))
	return v, nil
}

// decodeTxn reads a stored snapshot and its entries' seqs. It never panics.
func decodeTxn(value []byte) (*Txn, []uint64, error) {
	if len(value) < 6 {
		return nil, nil, fmt.Errorf("snapshot of %d bytes is too short", len(value))
	}
	if got, want := crc32.Checksum(value[4:], castagnoli), binary.BigEndian.Uint32(value[:4]); got != want {
		return nil, nil, fmt.Errorf("snapshot checksum %08x, stored %08x: the snapshot was altered", got, want)
	}
	rest := value[4:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)) {
		return nil, nil, errors.New("snapshot: bad entry count")
	}
	rest = rest[k:]
	seqs := make([]uint64, 0, n)
	var prev uint64
	for i := uint64(0); i < n; i++ {
		d, k := binary.Uvarint(rest)
		if k <= 0 || d == 0 || prev+d < prev {
			return nil, nil, errors.New("snapshot: bad entry list")
		}
		prev += d
		seqs = append(seqs, prev)
		rest = rest[k:]
	}
	t := new(Txn)
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(t); err != nil {
		return nil, nil, fmt.Errorf("snapshot: undecodable JSON: %v", err)
	}
	if dec.More() {
		return nil, nil, errors.New("snapshot: data after the JSON object")
	}
	if len(seqs) == 0 {
		return nil, nil, errors.New("snapshot without entries")
	}
	return t, seqs, nil
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
