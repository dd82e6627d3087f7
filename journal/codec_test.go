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

// TestBodyRoundTrip checks that every Entry field but Seq, PrevHash and
// Hash survives the stored body: a field added to Entry and forgotten by the
// codec fails here.
func TestBodyRoundTrip(t *testing.T) {
	e, seq, prev := goldenEventsEntry()
	e.ResultCode, e.Error.SubCode = "NG", "S01"
	c, _, _ := goldenCloseEntry()
	e.Close = c.Close
	et := reflect.TypeFor[Entry]()
	v := reflect.ValueOf(e)
	for i := range et.NumField() {
		if f := et.Field(i); f.Name != "Seq" && f.Name != "PrevHash" && f.Name != "Hash" {
			require.False(t, v.Field(i).IsZero(), "set %s in the test entry", f.Name)
		}
	}
	value, _ := encodeEntry(&e, seq, prev)
	got, err := decodeEntry(seq, prev, value)
	require.NoError(t, err)
	assert.True(t, e.Time.Equal(got.Time))
	_, wantOff := e.Time.Zone()
	_, gotOff := got.Time.Zone()
	assert.Equal(t, wantOff, gotOff, "the zone offset is kept")
	require.NotNil(t, got.Close)
	assert.True(t, e.Close.From.Equal(got.Close.From) && e.Close.Until.Equal(got.Close.Until), "the close's window survives")
	got.Close.From, got.Close.Until = e.Close.From, e.Close.Until
	got.Time, got.Seq, got.PrevHash, got.Hash = e.Time, 0, "", ""
	assert.Equal(t, e, got)

	for _, s := range []string{"", "a", "0123456789abcdef", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdeg", "日本語"} {
		r := &bodyReader{b: appendStr(nil, s)}
		assert.Equal(t, s, r.str("s"), "string %q", s)
		assert.NoError(t, r.err)
		assert.Empty(t, r.b)
	}
	assert.Len(t, appendStr(nil, "0195f3a2b4c07d3e9a1b2c3d4e5f6071"), 17, "a hex id takes half its length")
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

// goldenEventsEntry is the entry pinned by testdata/entry-events-golden.json:
// a transition followed by a CompleteEvent and an ErrorEvent.
func goldenEventsEntry() (Entry, uint64, string) {
	e, seq, prev := goldenEntry()
	e.Events = []EventRec{
		{Final: false, Recovered: true, Op: paytree.OpPay, TransStatus: 2, OrderID: "ORD-1", Amount: 1200, PayType: "01", TransTime: "20250401100001", RefundedTotal: 300},
		{Error: true, Final: true, Op: paytree.OpPay, Err: &ErrorInfo{Type: 2, Code: "N0002", SubCode: "x", Message: "outcome unknown", Action: "CPSCall"}},
	}
	return e, seq, prev
}

// goldenCloseEntry is the entry pinned by testdata/entry-close-golden.json:
// a business day's close (a section of its own after the note, no events).
func goldenCloseEntry() (Entry, uint64, string) {
	_, seq, prev := goldenEntry()
	day := time.Date(2025, 4, 1, 0, 0, 0, 0, paytree.JST)
	return Entry{
		TxnID: "close-20250401", Time: time.Date(2025, 4, 1, 22, 30, 0, 0, paytree.JST),
		Event: fsm.EvClose, From: fsm.StateNew, To: fsm.StateClosed, Kind: "close", Note: "日計 2025-04-01",
		Close: &DayClose{Day: "2025-04-01", From: day, Until: time.Date(2025, 4, 1, 22, 30, 0, 0, paytree.JST), LastSeq: 41,
			Lines: []CloseLine{
				{PayType: "PAYPAY", Op: paytree.OpPay, Count: 3, Amount: 4500},
				{PayType: "PAYPAY", Op: paytree.OpRefund, Count: 1, Amount: 500},
				{PayType: "LINE", Op: paytree.OpDeposit, Count: 1, Amount: 10000},
				{PayType: "", Op: paytree.OpReverse, Count: 1, Amount: 1200},
			},
			Open: []CloseOpen{
				{TxnID: "0195f3a2b4c07d3e9a1b2c3d4e5f6071", Op: paytree.OpPay, State: fsm.StateEscalated, PayType: "PAYPAY", Amount: 800},
				{TxnID: "0195f3a2b4c07d3e9a1b2c3d4e5f6072", Op: paytree.OpRefund, State: fsm.StateConfirming, OrderID: "ORD-9", Amount: 300},
			}},
	}, seq, prev
}

type golden struct {
	Seq      uint64 `json:"seq"`
	PrevHash string `json:"prevHash"`
	Hash     string `json:"hash"`
	Body     string `json:"body"`  // the stored body, hex
	Entry    Entry  `json:"entry"` // the entry as Entries and exports return it
}

func TestEntryGolden(t *testing.T) {
	for file, mk := range map[string]func() (Entry, uint64, string){
		"entry-golden.json":        goldenEntry,
		"entry-events-golden.json": goldenEventsEntry,
		"entry-close-golden.json":  goldenCloseEntry,
	} {
		t.Run(file, func(t *testing.T) { checkEntryGolden(t, file, mk) })
	}
}

func checkEntryGolden(t *testing.T, file string, mk func() (Entry, uint64, string)) {
	e, seq, prev := mk()
	value, hash := encodeEntry(&e, seq, prev)
	got, err := decodeEntry(seq, prev, value)
	require.NoError(t, err)
	g := golden{Seq: seq, PrevHash: prev, Hash: hash, Body: hex.EncodeToString(value[sha256.Size:]), Entry: got}
	out, err := json.MarshalIndent(g, "", "  ")
	require.NoError(t, err)
	out = append(out, '\n')

	path := filepath.Join("testdata", file)
	if os.Getenv("WBPAY_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, out, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "refresh with WBPAY_UPDATE_GOLDEN=1")
	assert.Equal(t, string(want), string(out), "the stored encoding or the hash changed: a journal written before would no longer verify")

	var w golden
	require.NoError(t, json.Unmarshal(want, &w))
	raw, err := hex.DecodeString(w.Hash + w.Body)
	require.NoError(t, err)
	back, err := decodeEntry(w.Seq, w.PrevHash, raw)
	require.NoError(t, err, "the golden value decodes and its hash verifies")
	assert.Equal(t, w.Hash, back.Hash)
	assert.True(t, e.Time.Equal(back.Time))
	assert.Equal(t, e.Error, back.Error)
	assert.Equal(t, e.Note, back.Note)
	assert.Equal(t, e.Events, back.Events)
	if e.Close != nil {
		require.NotNil(t, back.Close)
		assert.Equal(t, e.Close.Lines, back.Close.Lines)
		assert.Equal(t, e.Close.Open, back.Close.Open)
		assert.Equal(t, e.Close.Day, back.Close.Day)
	}

	_, err = decodeEntry(w.Seq+1, w.PrevHash, raw)
	assert.ErrorIs(t, err, errBadHash, "the seq is hashed")
	_, err = decodeEntry(w.Seq, "", raw)
	assert.ErrorIs(t, err, errBadHash, "the previous hash is hashed")
}

func TestDecodeEntryRejects(t *testing.T) {
	e, seq, prev := goldenEntry()
	value, _ := encodeEntry(&e, seq, prev)
	body := value[sha256.Size:]
	with := func(b []byte) []byte { sum := entryHash(prev, seq, b); return append(sum[:], b...) }
	minimal := func(txn string, errFlag byte) []byte {
		b := appendStr(nil, txn)
		b = append(b, 0, 0, 0)            // time: 0 s, 0 ns, offset 0
		b = append(b, make([]byte, 7)...) // seven empty strings
		b = append(b, errFlag)
		return append(b, 0) // note
	}
	require.NotPanics(t, func() { _, _ = decodeEntry(seq, prev, with(minimal("a", 0))) })
	_, err := decodeEntry(seq, prev, with(minimal("a", 0)))
	require.NoError(t, err, "the minimal body is valid")
	tests := map[string][]byte{
		"empty":           nil,
		"short":           value[:20],
		"hash only":       value[:sha256.Size],
		"truncated body":  with(body[:len(body)-3]),
		"trailing data":   with(append(bytes.Clone(body), 0)),
		"empty events":    with(append(bytes.Clone(body), sectionEvents, 0)),
		"events cut off":  with(append(bytes.Clone(body), sectionEvents, 2, 0)),
		"bad event flags": with(append(bytes.Clone(body), sectionEvents, 1, 0x80)),
		"no txn id":       with(minimal("", 0)),
		"bad error flag":  with(minimal("a", 7)),
		"string too long": with([]byte{0xfe, 0x01, 'a'}),
		"short hex":       with(append([]byte{0x03}, 0xab)),
		"nanos too large": with(append(appendStr(nil, "a"), 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0)),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEntry(seq, prev, v)
			assert.Error(t, err)
			assert.NotErrorIs(t, err, errBadHash, "rejected for its shape, not its hash")
		})
	}
}

func FuzzDecodeEntry(f *testing.F) {
	e, seq, prev := goldenEntry()
	value, _ := encodeEntry(&e, seq, prev)
	f.Add(seq, prev, value)
	f.Add(uint64(1), "", value)
	f.Add(seq, prev, value[:40])
	c, cseq, cprev := goldenCloseEntry()
	cv, _ := encodeEntry(&c, cseq, cprev)
	f.Add(cseq, cprev, cv)
	f.Add(seq, prev, append(bytes.Repeat([]byte{0}, 32), 2, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0, 0))
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
		again, hash := encodeEntry(&got, seq, prev)
		if bytes.Equal(again[sha256.Size:], value[sha256.Size:]) {
			require.Equal(t, value, again)
			require.Equal(t, got.Hash, hash)
		}
	})
}

// fullTxn is a snapshot with every field set (a field added to Txn and
// forgotten by the codec fails TestTxnCodec).
func fullTxn() *Txn {
	return &Txn{ID: "0195f3a2b4c07d3e9a1b2c3d4e5f6071", Op: paytree.OpRefund, State: fsm.StateConfirming,
		CreatedAt: t0, UpdatedAt: t0.Add(1500 * time.Millisecond), Amount: 500, PayType: "01",
		UserCodeMasked: MaskUserCode(testCode), UserCodeHash: HashUserCode(testCode), ReceiptNo: "R-0001",
		OrderID: "PT20250401100000AB12CD34EF56GH78", TargetRequestID: "0195f3a2b4c07d3e9a1b2c3d4e5f6000", TransStatus: 9,
		Request:      map[string]string{paytree.FRefundAmount: "500", paytree.FOrderID: "PT20250401100000AB12CD34EF56GH78", paytree.FRefundReason: "返品"},
		Step:         Step{RequestID: "0195f3a2b4c07d3e9a1b2c3d4e5f6072", Kind: "confirm", ReverseRequestID: "0195f3a2b4c07d3e9a1b2c3d4e5f6073", Confirms: 2, Resends: 1},
		WaitingSince: t0.Add(time.Second), LastError: &ErrorInfo{Type: 2, Code: "E2002", SubCode: "S1", Message: "processing", Action: "Retry"},
		Recovered: true}
}

// keyedTxn is fullTxn with an idempotency key: the golden snapshot keeps
// none, which pins that snapshots without a key encode as they did before.
func keyedTxn() *Txn {
	t := fullTxn()
	t.IdempotencyKey = "receipt-0001_A"
	return t
}

func TestTxnCodec(t *testing.T) {
	full := keyedTxn()
	v := reflect.ValueOf(*full)
	for i := range v.NumField() {
		require.False(t, v.Field(i).IsZero(), "set %s in fullTxn", v.Type().Field(i).Name)
	}
	sparse := &Txn{ID: "t1", Op: paytree.OpPay, State: fsm.StateSending, CreatedAt: t0.UTC()}
	for _, tc := range []struct {
		name string
		txn  *Txn
		seqs []uint64
	}{{"full", full, []uint64{3, 4, 1 << 40}}, {"sparse", sparse, []uint64{1}}, {"many entries", sparse, []uint64{7, 8, 9, 10, 11, 12}}} {
		t.Run(tc.name, func(t *testing.T) {
			value := encodeTxn(tc.txn, tc.seqs)
			got, gotSeqs, err := decodeTxn(value)
			require.NoError(t, err)
			assert.Equal(t, tc.seqs, gotSeqs)
			for _, p := range []struct{ want, got *time.Time }{{&tc.txn.CreatedAt, &got.CreatedAt}, {&tc.txn.UpdatedAt, &got.UpdatedAt}, {&tc.txn.WaitingSince, &got.WaitingSince}} {
				assert.True(t, p.want.Equal(*p.got), "time: got %v, want %v", *p.got, *p.want)
			}
			want := *tc.txn
			got.CreatedAt, got.UpdatedAt, got.WaitingSince = want.CreatedAt, want.UpdatedAt, want.WaitingSince
			assert.Equal(t, &want, got)
			for i := range value {
				bad := bytes.Clone(value)
				bad[i] ^= 0x20
				_, _, err := decodeTxn(bad)
				assert.Error(t, err, "byte %d flipped", i)
			}
		})
	}
	_, _, err := decodeTxn([]byte{1, 2, 3})
	assert.Error(t, err)
}

func TestTxnGolden(t *testing.T) {
	value := encodeTxn(fullTxn(), []uint64{3, 4, 9})
	type golden struct {
		Value string `json:"value"` // the stored snapshot, hex
		Txn   *Txn   `json:"txn"`
	}
	got, _, err := decodeTxn(value)
	require.NoError(t, err)
	out, err := json.MarshalIndent(golden{hex.EncodeToString(value), got}, "", "  ")
	require.NoError(t, err)
	out = append(out, '\n')
	path := filepath.Join("testdata", "txn-golden.json")
	if os.Getenv("WBPAY_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, out, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "refresh with WBPAY_UPDATE_GOLDEN=1")
	assert.Equal(t, string(want), string(out), "the stored snapshot encoding changed: existing journals would no longer decode")
}

func FuzzDecodeTxn(f *testing.F) {
	v := encodeTxn(fullTxn(), []uint64{1, 5})
	// The corpus is what follows the CRC; the harness prepends a matching
	// one, so that the fuzzer reaches the seq list and the fields.
	f.Add(v[4:])
	f.Add(encodeTxn(&Txn{ID: "x"}, []uint64{1})[4:])
	f.Add(v[4:10])
	f.Fuzz(func(t *testing.T, rest []byte) {
		value := binary.BigEndian.AppendUint32(nil, crc32.Checksum(rest, castagnoli))
		value = append(value, rest...)
		got, seqs, err := decodeTxn(value)
		if err != nil {
			return
		}
		require.NotEmpty(t, got.ID)
		require.NotEmpty(t, seqs)
		for i := 1; i < len(seqs); i++ {
			require.Greater(t, seqs[i], seqs[i-1])
		}
		// What decodes re-encodes to something that decodes the same.
		again, againSeqs, err := decodeTxn(encodeTxn(got, seqs))
		require.NoError(t, err)
		require.Equal(t, seqs, againSeqs)
		require.Equal(t, got.ID, again.ID)
		require.Equal(t, got.Request, again.Request)
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
