package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
	bolt "go.etcd.io/bbolt"
)

// damaged is a closed journal to damage: 20 finished pays (80 entries, so
// the entries bucket has several leaves and a branch) and one unfinished.
type damaged struct {
	path     string // the undamaged original
	raw      []byte
	pageSize int
	types    map[int]string // bbolt's page type by page id, "free" when free
	entries  []Entry
	open     *Txn // the unfinished one (its entry is the last)
	paid     *Txn // a finished one
}

func buildDamaged(t *testing.T) *damaged {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, Options{})
	require.NoError(t, err)
	noSync(j)
	d := &damaged{}
	var paid *tb
	for n := range 20 {
		paid = fullPay(t, j, n, t0.Add(time.Duration(n)*time.Minute))
	}
	open := newPay(t, j, 99, t0.Add(time.Hour))
	open.send()
	d.open, d.paid = open.snap, paid.snap
	require.NoError(t, j.ForEachEntry(func(e Entry) error { d.entries = append(d.entries, e); return nil }))
	require.NoError(t, j.Close())
	d.path, d.raw = path, fileBytes(t, path)
	d.pageSize, d.types = pageTypes(t, path)
	return d
}

// pageTypes lists the type bbolt gives every page below the high-water mark.
func pageTypes(t *testing.T, path string) (int, map[int]string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	require.NoError(t, err)
	defer db.Close()
	types := map[int]string{}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		for id := 0; ; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil {
				return nil
			}
			types[id] = info.Type
			for k := 1; k <= info.OverflowCount; k++ {
				types[id+k] = info.Type + "-overflow"
			}
			id += info.OverflowCount
		}
	}))
	return db.Info().PageSize, types
}

// write puts a damaged copy in a new file and returns its path.
func (d *damaged) write(t *testing.T, damage func(b []byte) []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	require.NoError(t, os.WriteFile(path, damage(bytes.Clone(d.raw)), 0o600))
	return path
}

// edited writes a copy of the journal with edit applied through bbolt (the
// pages stay valid: only the journal's own checks can tell) and returns its
// path and bytes.
func (d *damaged) edited(t *testing.T, edit func(*bolt.Tx) error) (string, []byte) {
	t.Helper()
	path := d.write(t, func(b []byte) []byte { return b })
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(edit))
	require.NoError(t, db.Close())
	return path, fileBytes(t, path)
}

// openAndVerify opens path and verifies it; the error of whichever fails.
func openAndVerify(t *testing.T, path string) error {
	t.Helper()
	j, err := Open(path, Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	defer j.Close()
	_, err = j.Verify()
	return err
}

// requireCorrupt checks that err reports damage in the file at path, and
// that the file was left as it was.
func requireCorrupt(t *testing.T, err error, path string, before []byte) *CorruptError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrCorrupt)
	var ce *CorruptError
	require.True(t, errors.As(err, &ce), "error %v is not a *CorruptError", err)
	assert.Equal(t, path, ce.Path)
	assert.Contains(t, err.Error(), path)
	assert.Equal(t, before, fileBytes(t, path), "the damaged file was left as it was")
	return ce
}

// valueOffset returns where in the file the value of key in bucket lies,
// as bbolt maps it (stale copies of it linger in free pages and in the
// unused tails of pages).
func valueOffset(t *testing.T, path string, bucket, key []byte) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var off int
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get(key)
		require.NotNil(t, v, "no %s/%x", bucket, key)
		off = int(uintptr(unsafe.Pointer(&v[0])) - db.Info().Data)
		if raw := fileBytes(t, path); off < 0 || off+len(v) > len(raw) {
			// bbolt copies an unaligned inline bucket out of the map:
			// find the value's bytes in the file instead.
			off = bytes.Index(raw, v)
			require.GreaterOrEqual(t, off, 0, "%s/%x not found in the file", bucket, key)
		}
		return nil
	}))
	return off
}

func TestGoodFileIsClean(t *testing.T) {
	d := buildDamaged(t)
	path := d.write(t, func(b []byte) []byte { return b })
	require.NoError(t, openAndVerify(t, path))
	assert.Equal(t, d.raw, fileBytes(t, path), "open, verify and close write nothing")
}

func TestOpenTruncated(t *testing.T) {
	d := buildDamaged(t)
	var hw int
	for id := range d.types {
		hw = max(hw, id+1)
	}
	sizes := map[string]int{
		"empty":                   0,
		"100 bytes":               100,
		"one page":                d.pageSize,
		"three pages":             3 * d.pageSize,
		"half":                    hw * d.pageSize / 2,
		"one page short":          (hw - 1) * d.pageSize,
		"mid-page below the mark": hw*d.pageSize - 100,
	}
	for name, size := range sizes {
		t.Run(name, func(t *testing.T) {
			path := d.write(t, func(b []byte) []byte { return b[:size] })
			before := fileBytes(t, path)
			_, err := Open(path, Options{})
			requireCorrupt(t, err, path, before)
			_, err = Open(path, Options{ReadOnly: true})
			requireCorrupt(t, err, path, before)
		})
	}
}

func TestZeroEachPage(t *testing.T) {
	d := buildDamaged(t)
	require.Greater(t, len(d.types), 10)
	counts := map[string]int{}
	for id := 0; id < len(d.types); id++ {
		typ := d.types[id]
		counts[typ]++
		t.Run(fmt.Sprintf("page %d (%s)", id, typ), func(t *testing.T) {
			path := d.write(t, func(b []byte) []byte {
				clear(b[id*d.pageSize : (id+1)*d.pageSize])
				return b
			})
			before := fileBytes(t, path)
			err := openAndVerify(t, path)
			if typ == "free" {
				assert.NoError(t, err, "a free page holds nothing")
				return
			}
			requireCorrupt(t, err, path, before)
			t.Logf("%v", err)
		})
	}
	t.Logf("page types: %v", counts)
	assert.Positive(t, counts["branch"], "the test journal must have a branch page")
}

func TestFlipEntryByte(t *testing.T) {
	d := buildDamaged(t)
	last := d.entries[len(d.entries)-1].Seq
	flips := []struct {
		name string
		at   func(value int) int // offset of the byte to flip, given the value's
		bits byte
		txn  bool // the error can name the txn
	}{
		{"in the stored hash", func(v int) int { return v + 7 }, 0x01, true},
		// The body starts with the txn id (a length byte, then the id), then
		// the time's seconds as a varint: flipping a low bit of its second
		// byte keeps the body well-formed.
		{"a bit of the time", func(v int) int { return v + 32 + 1 + int(d.raw[v+32]>>1) + 1 }, 0x02, true},
		{"the body's first byte", func(v int) int { return v + 32 }, 0xff, false},
	}
	for _, e := range d.entries {
		v := valueOffset(t, d.path, bucketEntries, seqKey(e.Seq))
		for _, f := range flips {
			t.Run(fmt.Sprintf("entry %d %s", e.Seq, f.name), func(t *testing.T) {
				path := d.write(t, func(b []byte) []byte { b[f.at(v)] ^= f.bits; return b })
				before := fileBytes(t, path)
				j, err := Open(path, Options{})
				if err != nil || e.Seq == last {
					// Open checks the last two entries and the unfinished txns'.
					ce := requireCorrupt(t, err, path, before)
					assert.Equal(t, e.Seq, ce.Seq, "Open names the entry")
					assert.True(t, e.Seq >= last-1 || e.TxnID == d.open.ID, "Open reads only the tail")
					return
				}
				defer j.Close()
				_, err = j.Verify()
				ce := requireCorrupt(t, err, path, before)
				assert.Equal(t, e.Seq, ce.Seq, "Verify names the first bad entry")
				if f.txn {
					assert.Equal(t, e.TxnID, ce.TxnID)
				}
				_, err = j.Entries(e.TxnID)
				assert.ErrorIs(t, err, ErrCorrupt, "Entries checks hashes")
				err = j.ForEachEntry(func(Entry) error { return nil })
				require.ErrorIs(t, err, ErrCorrupt, "ForEachEntry checks hashes")
				var ce2 *CorruptError
				require.ErrorAs(t, err, &ce2)
				assert.Equal(t, e.Seq, ce2.Seq)
			})
		}
	}
}

func TestFlipSnapshotByte(t *testing.T) {
	d := buildDamaged(t)
	for _, s := range []*Txn{d.paid, d.open} {
		bucket := bucketTxns
		if !s.State.Terminal() {
			bucket = bucketUnfinished
		}
		v := valueOffset(t, d.path, bucket, []byte(s.ID))
		amount := v + bytes.Index(d.raw[v:], []byte(`"amount":`)) + len(`"amount":`)
		t.Run(string(s.State), func(t *testing.T) {
			path := d.write(t, func(b []byte) []byte { b[amount] ^= 0x01; return b }) // 1 → 0: still valid JSON
			before := fileBytes(t, path)
			j, err := Open(path, Options{})
			if !s.State.Terminal() {
				ce := requireCorrupt(t, err, path, before)
				assert.Equal(t, s.ID, ce.TxnID, "Open checks unfinished snapshots")
				return
			}
			require.NoError(t, err)
			defer j.Close()
			_, err = j.Get(s.ID)
			assert.ErrorIs(t, err, ErrCorrupt)
			_, err = j.Verify()
			ce := requireCorrupt(t, err, path, before)
			assert.Equal(t, s.ID, ce.TxnID)
		})
	}
}

// TestInconsistentContent damages the journal through bbolt itself: the
// file is a healthy bbolt file whose content no longer adds up.
func TestInconsistentContent(t *testing.T) {
	d := buildDamaged(t)
	put := func(bucket, k, v []byte) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(k, v) }
	}
	del := func(bucket, k []byte) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete(k) }
	}
	move := func(from, to []byte, id string, keep bool) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			v := bytes.Clone(tx.Bucket(from).Get([]byte(id)))
			require.NotNil(t, v)
			if !keep {
				if err := tx.Bucket(from).Delete([]byte(id)); err != nil {
					return err
				}
			}
			return tx.Bucket(to).Put([]byte(id), v)
		}
	}
	lastSeq := d.entries[len(d.entries)-1].Seq
	cases := []struct {
		name   string
		edit   func(tx *bolt.Tx) error
		atOpen bool
		seq    uint64
		txn    string
	}{
		{"unknown format version", put(bucketMeta, metaVersion, []byte("wbpay-journal/9")), true, 0, ""},
		{"meta without version", del(bucketMeta, metaVersion), true, 0, ""},
		{"bucket dropped", func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketByReceipt) }, true, 0, ""},
		{"last entry removed", del(bucketEntries, seqKey(lastSeq)), true, lastSeq, ""},
		{"last hash altered", put(bucketMeta, metaLastHash, bytes.Repeat([]byte{7}, 32)), true, lastSeq, d.open.ID},
		{"empty unfinished snapshot", put(bucketUnfinished, []byte("ghost"), nil), true, 0, "ghost"},
		{"finished snapshot among the unfinished", move(bucketTxns, bucketUnfinished, d.paid.ID, false), true, 0, d.paid.ID},
		{"finished snapshot also among the unfinished", move(bucketTxns, bucketUnfinished, d.paid.ID, true), true, 0, d.paid.ID},
		{"unfinished snapshot among the finished", move(bucketUnfinished, bucketTxns, d.open.ID, false), false, 0, d.open.ID},
		{"middle entry removed", del(bucketEntries, seqKey(10)), false, 10, ""},
		{"unfinished snapshot removed", del(bucketUnfinished, []byte(d.open.ID)), false, lastSeq, d.open.ID},
		{"order index key removed", del(bucketByOrder, pairKey(d.paid.OrderID, d.paid.ID)), false, 0, d.paid.ID},
		{"stray receipt index key", put(bucketByReceipt, pairKey("R-GHOST", d.paid.ID), nil), false, 0, ""},
		{"creation index key removed", del(bucketByCreated, createdKey(d.paid.CreatedAt, d.paid.ID)), false, 0, d.paid.ID},
		{"finished snapshot removed", del(bucketTxns, []byte(d.paid.ID)), false, d.entries[len(d.entries)-5].Seq, d.paid.ID},
		{"entry moved to another seq", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketEntries)
			return b.Put(seqKey(3), bytes.Clone(b.Get(seqKey(4))))
		}, false, 3, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, before := d.edited(t, tc.edit)

			j, err := Open(path, Options{})
			if !tc.atOpen {
				require.NoError(t, err)
				defer j.Close()
				_, err = j.Verify()
			}
			ce := requireCorrupt(t, err, path, before)
			if tc.seq != 0 {
				assert.Equal(t, tc.seq, ce.Seq, "seq in %v", ce)
			}
			if tc.txn != "" {
				assert.Equal(t, tc.txn, ce.TxnID, "txn in %v", ce)
			}
		})
	}
}

func TestNotAJournal(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.db")
	require.NoError(t, os.WriteFile(text, bytes.Repeat([]byte("not a journal\n"), 1000), 0o600))
	plain := filepath.Join(dir, "plain.db")
	db, err := bolt.Open(plain, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }))
	require.NoError(t, db.Close())
	nofree := filepath.Join(dir, "nofree.db")
	db, err = bolt.Open(nofree, 0o600, &bolt.Options{NoFreelistSync: true})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }))
	require.NoError(t, db.Close())
	for _, path := range []string{text, plain, nofree} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			before := fileBytes(t, path)
			_, err := Open(path, Options{})
			requireCorrupt(t, err, path, before)
		})
	}
	t.Run("directory", func(t *testing.T) {
		_, err := Open(dir, Options{})
		assert.Error(t, err)
	})
}

func TestCorruptErrorMessage(t *testing.T) {
	tests := []struct {
		err  CorruptError
		want string
	}{
		{CorruptError{Path: "/j.db", Seq: 7, TxnID: "abc", Reason: "hash mismatch"}, "journal: corrupt journal /j.db: entry 7 (txn abc): hash mismatch"},
		{CorruptError{Path: "/j.db", Seq: 7, Reason: "r"}, "journal: corrupt journal /j.db: entry 7: r"},
		{CorruptError{Path: "/j.db", TxnID: "abc", Reason: "r"}, "journal: corrupt journal /j.db: txn abc: r"},
		{CorruptError{Path: "/j.db", Reason: "r"}, "journal: corrupt journal /j.db: r"},
		{CorruptError{Path: "/j.db", TxnID: "0195f3a2\x00\x1b[2J7000", Reason: "r"}, `journal: corrupt journal /j.db: txn "0195f3a2\x00\x1b[2J7000": r`},
		{CorruptError{Path: "/j.db", Seq: 3, TxnID: "\xff\xfe\x01\x02", Reason: "r"}, "journal: corrupt journal /j.db: entry 3 (txn 0xfffe0102): r"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.err.Error())
		assert.ErrorIs(t, &tc.err, ErrCorrupt)
	}
	_ = fsm.StateNew
}
