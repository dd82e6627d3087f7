package journal

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
	bolt "go.etcd.io/bbolt"
)

// runSweep runs Verify's chain walk and quick pass on j, and the exact pass
// too: it returns whether the quick pass settled the journal and the two
// passes' reports.
func runSweep(t *testing.T, j *Journal) (quick bool, fast, exact Report) {
	t.Helper()
	require.NoError(t, j.db.View(func(tx *bolt.Tx) error {
		tb, err := openTables(j.path, tx)
		require.NoError(t, err)
		m, err := readMetaBucket(j.path, tb.meta)
		require.NoError(t, err)
		codes := newStateCodes()
		recs, err := j.verifyChain(tb, &pos{}, m, codes, &fast)
		require.NoError(t, err)
		exact = fast
		quick = j.sweepTxns(tb, &pos{}, m, recs, codes, &fast)
		return j.verifyTxnsExact(tb, &pos{}, m, &exact)
	}))
	return quick, fast, exact
}

// TestVerifyQuickPass checks that the quick pass settles sound journals
// (else Verify silently takes the slow way) and counts as the exact pass
// does, also for what Append accepts but the engine never writes: states
// outside fsm's, request keys that are hex-packed or out of order.
func TestVerifyQuickPass(t *testing.T) {
	j := openTest(t)
	noSync(j)
	for n := range 5 {
		fullPay(t, j, n, t0.Add(time.Duration(n)*time.Minute))
	}
	newPay(t, j, 10, t0).send()
	odd := newPay(t, j, 11, t0.Add(-time.Hour)) // created before the others
	odd.snap.Request["0123456789abcdef0123"] = "hex key"
	odd.snap.OrderID = "0123456789abcdef" // hex-packed in the snapshot
	odd.send()
	odd.must("custom", "custom-state", Entry{Note: "a state fsm does not know"}, nil)
	odd.must("custom", "custom-state", Entry{}, nil)

	quick, fast, exact := runSweep(t, j)
	assert.True(t, quick, "the quick pass settles a sound journal")
	assert.Equal(t, exact, fast)
	assert.Equal(t, uint64(7), fast.Txns)
	rep, err := j.Verify()
	require.NoError(t, err)
	assert.Equal(t, exact, rep)
}

// TestVerifyQuickPassDefers damages journals where the quick pass sees only
// that something does not add up (an index key swapped for another, the
// entry lists of two snapshots swapped): the exact pass must name the txn.
func TestVerifyQuickPassDefers(t *testing.T) {
	d := buildDamaged(t)
	paid, other := d.paid, d.entries[0].TxnID
	var paidFirst, paidLast uint64
	for _, e := range d.entries {
		if e.TxnID == paid.ID {
			paidFirst = cmp.Or(paidFirst, e.Seq)
			paidLast = e.Seq
		}
	}
	cases := []struct {
		name string
		edit func(tx *bolt.Tx) error
		seq  uint64
		txn  string
	}{
		{"order index key swapped", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketByOrder)
			require.NoError(t, b.Delete(pairKey(paid.OrderID, paid.ID)))
			return b.Put(pairKey(paid.OrderID+"X", paid.ID), []byte{})
		}, paidLast, paid.ID},
		{"creation index key moved in time", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketByCreated)
			require.NoError(t, b.Delete(createdKey(paid.CreatedAt, paid.ID)))
			return b.Put(createdKey(paid.CreatedAt.Add(time.Nanosecond), paid.ID), []byte{})
		}, paidLast, paid.ID},
		{"nested bucket under an index key", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketByReceipt)
			require.NoError(t, b.Delete(pairKey(paid.ReceiptNo, paid.ID)))
			_, err := b.CreateBucket(pairKey(paid.ReceiptNo, paid.ID))
			return err
		}, paidLast, paid.ID},
		{"entry lists swapped", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTxns)
			s1, seqs1, err := decodeTxn(b.Get([]byte(paid.ID)))
			require.NoError(t, err)
			s2, seqs2, err := decodeTxn(b.Get([]byte(other)))
			require.NoError(t, err)
			require.NoError(t, b.Put([]byte(paid.ID), encodeTxn(s1, seqs2)))
			return b.Put([]byte(other), encodeTxn(s2, seqs1))
		}, paidFirst, other},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, before := d.edited(t, tc.edit)
			for _, ro := range []bool{false, true} {
				j, err := Open(path, Options{ReadOnly: ro})
				require.NoError(t, err)
				_, err = j.Verify()
				require.NoError(t, j.Close())
				ce := requireCorrupt(t, err, path, before)
				assert.Equal(t, tc.seq, ce.Seq, "seq in %v", ce)
				assert.Equal(t, tc.txn, ce.TxnID, "txn in %v", ce)
			}
		})
	}
}

// TestStored checks stored against appendStr and str.
func TestStored(t *testing.T) {
	for _, s := range []string{"", "a", "0123456789abcdef", "0123456789ABCDEF", "0123456789abcde", "日本語"} {
		r := &bodyReader{b: appendStr(nil, s)}
		f := r.field("s")
		require.NoError(t, r.err)
		assert.Equal(t, s, f.String())
		assert.Equal(t, s, string(f.appendTo(nil)))
		assert.True(t, f.is([]byte(s)), "%q", s)
		assert.False(t, f.is([]byte(s+"0")), "%q", s)
		if s != "" {
			assert.False(t, f.is([]byte(s[:len(s)-1]+"0")), "%q", s)
		}
	}
}

// FuzzScanBody checks that scanBody accepts no body decodeBody refuses and
// reads the same txn id and states, and accepts what appendBody writes.
func FuzzScanBody(f *testing.F) {
	e, seq, prev := goldenEntry()
	value, _ := encodeEntry(&e, seq, prev)
	f.Add(value[sha256.Size:])
	f.Add(appendBody(nil, &Entry{TxnID: "x"}))
	f.Add([]byte{2, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		id, from, to, ok := scanBody(body)
		e, err := decodeBody(body)
		if !ok {
			if err == nil {
				_, _, _, ok := scanBody(appendBody(nil, &e))
				require.True(t, ok, "scanBody refuses what appendBody writes")
			}
			return
		}
		require.NoError(t, err, "scanBody accepted what decodeBody refuses")
		r := &bodyReader{b: id}
		assert.Equal(t, e.TxnID, r.str("id"))
		assert.Empty(t, r.b)
		assert.Equal(t, string(e.From), from.String())
		assert.Equal(t, string(e.To), to.String())
	})
}

// FuzzScanTxn checks that scanTxn accepts no snapshot decodeTxn refuses and
// reads the same fields, and accepts what encodeTxn writes (unless request
// keys are hex-packed).
func FuzzScanTxn(f *testing.F) {
	f.Add(encodeTxn(fullTxn(), []uint64{1, 5})[4:])
	f.Add(encodeTxn(keyedTxn(), []uint64{1, 5})[4:])
	f.Add(encodeTxn(&Txn{ID: "x"}, []uint64{1})[4:])
	f.Add(encodeTxn(&Txn{ID: "x", Request: map[string]string{"0123456789abcdef": "", "a": "b"}}, []uint64{1})[4:])
	f.Fuzz(func(t *testing.T, rest []byte) {
		value := binary.BigEndian.AppendUint32(nil, crc32.Checksum(rest, castagnoli))
		value = append(value, rest...)
		fs, ok := scanTxn(value, nil)
		s, seqs, err := decodeTxn(value)
		if !ok {
			if err == nil {
				_, ok := scanTxn(encodeTxn(s, seqs), nil)
				hexKey := false
				for k := range s.Request {
					hexKey = hexKey || isLowerHex(k)
				}
				require.True(t, ok || hexKey, "scanTxn refuses what encodeTxn writes")
			}
			return
		}
		require.NoError(t, err, "scanTxn accepted what decodeTxn refuses")
		want := fieldsOf(s, seqs)
		assert.Equal(t, want.id.String(), fs.id.String())
		assert.Equal(t, want.state.String(), fs.state.String())
		assert.Equal(t, want.orderID.String(), fs.orderID.String())
		assert.Equal(t, want.receiptNo.String(), fs.receiptNo.String())
		assert.Equal(t, want.created, fs.created)
		assert.Equal(t, want.seqs, fs.seqs)
	})
}

// TestStateCodes checks that codes tell states apart, packed ones too.
func TestStateCodes(t *testing.T) {
	c := newStateCodes()
	paid := c.of(stored{raw: []byte(fsm.StatePaid)})
	assert.NotZero(t, paid)
	assert.True(t, c.terminal(paid))
	assert.False(t, c.terminal(c.of(stored{raw: []byte(fsm.StateSending)})))
	r := &bodyReader{b: appendStr(nil, "0123456789abcdef")}
	packed := r.field("s")
	require.True(t, packed.packed)
	x := c.of(packed)
	assert.Equal(t, x, c.of(stored{raw: []byte("0123456789abcdef")}))
	assert.NotEqual(t, paid, x)
	for n := 0; n < 300; n++ {
		c.of(stored{raw: binary.BigEndian.AppendUint32([]byte("s"), uint32(n))})
	}
	assert.Zero(t, c.of(stored{raw: []byte("one too many")}))
	assert.Equal(t, paid, c.of(stored{raw: []byte(fsm.StatePaid)}))
}
