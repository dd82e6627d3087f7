package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func TestEntryBodyMirrorsEntry(t *testing.T) {
	et, bt := reflect.TypeFor[Entry](), reflect.TypeFor[entryBody]()
	var want []reflect.StructField
	for i := range et.NumField() {
		f := et.Field(i)
		if f.Name != "Seq" && f.Name != "PrevHash" && f.Name != "Hash" {
			want = append(want, f)
		}
	}
	require.Equal(t, len(want), bt.NumField(), "entryBody must have Entry's fields but Seq, PrevHash and Hash")
	for i, w := range want {
		g := bt.Field(i)
		assert.Equal(t, w.Name, g.Name, "field %d", i)
		assert.Equal(t, w.Type, g.Type, "field %s", w.Name)
		assert.Equal(t, w.Tag, g.Tag, "field %s", w.Name)
	}
}

// goldenEntry is the entry pinned by testdata/entry-golden.json.
func goldenEntry() (Entry, uint64, string) {
	prev := sha256.Sum256([]byte("the previous entry"))
	return Entry{
		TxnID: "0195f3a2b4c07d3e9a1b2c3d4e5f6071", Time: time.Date(2025, 4, 1, 10, 0, 1, 250_000_000, paytree.JST),
		Event: fsm.EvLost, From: fsm.StateSending, To: fsm.StateUnknown,
		RequestID: "0195f3a2b4c07d3e9a1b2c3d4e5f6071", Kind: "pay", HTTP: "timeout",
		Error: &ErrorInfo{Type: 3, Code: "L0001", Message: "no answer <in time> & \"lost\"", Action: "Retry"},
		Note:  "アンサーなし",
	}, 42, hex.EncodeToString(prev[:])
}

type golden struct {
	Seq      uint64 `json:"seq"`
	PrevHash string `json:"prevHash"`
	Hash     string `json:"hash"`
	Body     string `json:"body"`  // the stored body, byte for byte
	Entry    Entry  `json:"entry"` // the entry as Entries and exports return it
}

func TestEntryGolden(t *testing.T) {
	e, seq, prev := goldenEntry()
	value, hash, err := encodeEntry(&e, seq, prev)
	require.NoError(t, err)
	got, err := decodeEntry(seq, prev, value)
	require.NoError(t, err)
	g := golden{Seq: seq, PrevHash: prev, Hash: hash, Body: string(value[sha256.Size:]), Entry: got}
	out, err := json.MarshalIndent(g, "", "  ")
	require.NoError(t, err)
	out = append(out, '\n')

	path := filepath.Join("testdata", "entry-golden.json")
	if os.Getenv("WBPAY_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, out, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "refresh with WBPAY_UPDATE_GOLDEN=1")
	assert.Equal(t, string(want), string(out), "the stored encoding or the hash changed: a journal written before would no longer verify")

	var w golden
	require.NoError(t, json.Unmarshal(want, &w))
	raw, err := hex.DecodeString(w.Hash)
	require.NoError(t, err)
	back, err := decodeEntry(w.Seq, w.PrevHash, append(raw, w.Body...))
	require.NoError(t, err, "the golden value decodes and its hash verifies")
	assert.Equal(t, w.Hash, back.Hash)
	assert.True(t, e.Time.Equal(back.Time))
	assert.Equal(t, e.Error, back.Error)
	assert.Equal(t, e.Note, back.Note)

	_, err = decodeEntry(w.Seq+1, w.PrevHash, append(raw, w.Body...))
	assert.ErrorIs(t, err, errBadHash, "the seq is hashed")
	_, err = decodeEntry(w.Seq, "", append(raw, w.Body...))
	assert.ErrorIs(t, err, errBadHash, "the previous hash is hashed")
}

func TestDecodeEntryRejects(t *testing.T) {
	e, seq, prev := goldenEntry()
	value, _, err := encodeEntry(&e, seq, prev)
	require.NoError(t, err)
	body := func(b string) []byte { sum := entryHash(prev, seq, []byte(b)); return append(sum[:], b...) }
	tests := map[string][]byte{
		"empty":          nil,
		"short":          value[:20],
		"hash only":      value[:sha256.Size],
		"truncated body": value[:len(value)-3],
		"unknown field":  body(`{"txnId":"a","extra":1}`),
		"trailing data":  body(`{"txnId":"a"} {}`),
		"not an object":  body(`[1,2]`),
		"no txn id":      body(`{"event":"send"}`),
		"bad time":       body(`{"txnId":"a","time":"yesterday"}`),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEntry(seq, prev, v)
			assert.Error(t, err)
		})
	}
}

func FuzzDecodeEntry(f *testing.F) {
	e, seq, prev := goldenEntry()
	value, _, err := encodeEntry(&e, seq, prev)
	require.NoError(f, err)
	f.Add(seq, prev, value)
	f.Add(uint64(1), "", value)
	f.Add(seq, prev, value[:40])
	f.Add(seq, prev, append(bytes.Repeat([]byte{0}, 32), `{"txnId":"x","time":"2025-04-01T10:00:00Z"}`...))
	f.Fuzz(func(t *testing.T, seq uint64, prev string, value []byte) {
		got, err := decodeEntry(seq, prev, value)
		if err != nil {
			return
		}
		require.Equal(t, seq, got.Seq)
		require.Equal(t, prev, got.PrevHash)
		require.NotEmpty(t, got.TxnID)
		sum := entryHash(prev, seq, value[sha256.Size:])
		require.Equal(t, hex.EncodeToString(sum[:]), got.Hash)
		// An accepted value in canonical form re-encodes to itself.
		again, hash, err := encodeEntry(&got, seq, prev)
		require.NoError(t, err)
		if bytes.Equal(again[sha256.Size:], value[sha256.Size:]) {
			require.Equal(t, value, again)
			require.Equal(t, got.Hash, hash)
		}
	})
}

func TestTxnCodec(t *testing.T) {
	s := &Txn{ID: "t1", Op: paytree.OpRefund, State: fsm.StateConfirming, CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
		Amount: 500, OrderID: "O1", TargetRequestID: "t0", Request: map[string]string{"refundAmount": "500"},
		Step: Step{RequestID: "c1", Kind: "confirm", Confirms: 2}, WaitingSince: t0, LastError: &ErrorInfo{Code: "E2002"}}
	for _, seqs := range [][]uint64{{1}, {3, 4, 1 << 40}, {7, 8, 9, 10, 11, 12}} {
		v, err := encodeTxn(s, seqs)
		require.NoError(t, err)
		got, gotSeqs, err := decodeTxn(v)
		require.NoError(t, err)
		assert.Equal(t, seqs, gotSeqs)
		assert.Equal(t, s.ID, got.ID)
		assert.Equal(t, s.Step, got.Step)
		assert.Equal(t, s.Request, got.Request)
		assert.True(t, s.WaitingSince.Equal(got.WaitingSince))
		for i := range v {
			bad := bytes.Clone(v)
			bad[i] ^= 0x20
			_, _, err := decodeTxn(bad)
			assert.Error(t, err, "byte %d flipped", i)
		}
	}
	_, _, err := decodeTxn([]byte{1, 2, 3})
	assert.Error(t, err)
}

func FuzzDecodeTxn(f *testing.F) {
	s := &Txn{ID: "t1", Op: paytree.OpPay, State: fsm.StatePaid, CreatedAt: t0}
	v, err := encodeTxn(s, []uint64{1, 5})
	require.NoError(f, err)
	// The corpus is what follows the CRC; the harness prepends a matching
	// one, so that the fuzzer reaches the seq list and the JSON.
	f.Add(v[4:])
	f.Add(v[4:10])
	f.Add([]byte{2, 1, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, rest []byte) {
		value := binary.BigEndian.AppendUint32(nil, crc32.Checksum(rest, castagnoli))
		value = append(value, rest...)
		got, seqs, err := decodeTxn(value)
		if err != nil {
			return
		}
		require.NotNil(t, got)
		require.NotEmpty(t, seqs)
		for i := 1; i < len(seqs); i++ {
			require.Greater(t, seqs[i], seqs[i-1])
		}
	})
}

func TestKeys(t *testing.T) {
	early, late := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), t0
	assert.Negative(t, bytes.Compare(createdKey(early, "z"), createdKey(late, "a")), "keys sort by time, before 1970 too")
	assert.Negative(t, bytes.Compare(createdKey(late, "a"), createdKey(late.Add(time.Nanosecond), "a")))
	id, ok := pairID(pairKey("ORD1", "t1"), "ORD1")
	assert.True(t, ok)
	assert.Equal(t, "t1", id)
	_, ok = pairID(pairKey("ORD12", "t1"), "ORD1")
	assert.False(t, ok)
}
