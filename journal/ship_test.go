package journal

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestEntryHashAndDecodeBodyMatchTheChain(t *testing.T) {
	j := openTest(t)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for n := range 3 {
		fullPay(t, j, n, at.Add(time.Duration(n)*time.Minute))
	}
	raw, err := j.RawEntries(1, 0)
	require.NoError(t, err)
	var all []Entry
	require.NoError(t, j.ForEachEntry(func(e Entry) error { all = append(all, e); return nil }))
	require.Len(t, raw, len(all))
	for i, r := range raw {
		e := all[i]
		assert.Equal(t, e.Seq, r.Seq)
		assert.Equal(t, e.Hash, r.Hash, "stored hash of %d", r.Seq)
		assert.Equal(t, e.PrevHash, r.PrevHash, "prev hash of %d", r.Seq)
		assert.Equal(t, e.Hash, EntryHash(r.PrevHash, r.Seq, r.Body), "EntryHash of %d", r.Seq)
		d, err := DecodeBody(r.Body)
		require.NoError(t, err)
		assert.Equal(t, e.TxnID, d.TxnID)
		assert.Equal(t, e.Event, d.Event)
		assert.Equal(t, e.To, d.To)
		assert.Equal(t, e.TxnID, r.TxnID)
		require.NotNil(t, r.Snapshot, "snapshot of %d", r.Seq)
		assert.Equal(t, e.TxnID, r.Snapshot.ID)
		want, err := j.Entries(e.TxnID)
		require.NoError(t, err)
		assert.Equal(t, want[len(want)-1].Seq, r.SnapshotSeq, "snapshot seq of %d", r.Seq)
	}
	// A different seq, predecessor or body gives another hash.
	r := raw[1]
	assert.NotEqual(t, r.Hash, EntryHash(r.PrevHash, r.Seq+1, r.Body))
	assert.NotEqual(t, r.Hash, EntryHash(raw[0].PrevHash, r.Seq, r.Body))
	flipped := append([]byte(nil), r.Body...)
	flipped[len(flipped)-1] ^= 1
	assert.NotEqual(t, r.Hash, EntryHash(r.PrevHash, r.Seq, flipped))

	t.Run("windows", func(t *testing.T) {
		tests := []struct {
			name      string
			from      uint64
			max       int
			wantFirst uint64
			wantN     int
		}{
			{"from 0 is from 1", 0, 0, 1, len(raw)},
			{"a window", 3, 4, 3, 4},
			{"the last", uint64(len(raw)), 10, uint64(len(raw)), 1},
			{"past the end", uint64(len(raw)) + 1, 10, 0, 0},
			{"far past the end", uint64(len(raw)) + 50, 10, 0, 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := j.RawEntries(tc.from, tc.max)
				require.NoError(t, err)
				require.Len(t, got, tc.wantN)
				if tc.wantN > 0 {
					assert.Equal(t, tc.wantFirst, got[0].Seq)
					assert.Equal(t, raw[tc.wantFirst-1].PrevHash, got[0].PrevHash)
				}
			})
		}
	})
}

func TestDecodeBodyRefusesDamage(t *testing.T) {
	j := openTest(t)
	fullPay(t, j, 1, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	raw, err := j.RawEntries(1, 1)
	require.NoError(t, err)
	body := raw[0].Body
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", body[:len(body)/2]},
		{"trailing byte", append(append([]byte(nil), body...), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBody(tc.b)
			assert.Error(t, err)
		})
	}
}

// TestRawEntriesShipsAlteredEntries checks that a body altered in the file
// is read as stored (its stored hash no longer recomputes), so the receiver
// can report it, while ForEachEntry refuses it.
func TestRawEntriesShipsAlteredEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openAt(t, path)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for n := range 3 {
		fullPay(t, j, n, at.Add(time.Duration(n)*time.Minute))
	}
	require.NoError(t, j.Close())
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries)
		v := append([]byte(nil), b.Get(seqKey(2))...)
		v[len(v)-1] ^= 0x20 // the note's last character
		return b.Put(seqKey(2), v)
	}))
	require.NoError(t, db.Close())
	j = openAt(t, path)
	raw, err := j.RawEntries(1, 0)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(raw), 3)
	assert.NotEqual(t, raw[1].Hash, EntryHash(raw[1].PrevHash, 2, raw[1].Body), "entry 2 no longer recomputes")
	assert.Equal(t, raw[2].Hash, EntryHash(raw[2].PrevHash, 3, raw[2].Body), "entry 3 still links to entry 2's stored hash")
	assert.ErrorIs(t, j.ForEachEntry(func(Entry) error { return nil }), ErrCorrupt)
}

func TestShippedSeq(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openAt(t, path)
	got, err := j.ShippedSeq()
	require.NoError(t, err)
	assert.Zero(t, got, "no shipped seq in a new journal")
	assert.ErrorIs(t, j.SetShippedSeq(1), ErrInvalid, "past the last entry of an empty journal")
	fullPay(t, j, 1, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	last, err := j.LastSeq()
	require.NoError(t, err)
	require.NoError(t, j.SetShippedSeq(2))
	assert.ErrorIs(t, j.SetShippedSeq(last+1), ErrInvalid)
	require.NoError(t, j.SetShippedSeq(last))
	got, err = j.ShippedSeq()
	require.NoError(t, err)
	assert.Equal(t, last, got)
	_, err = j.Verify()
	require.NoError(t, err, "Verify accepts the shipped-seq key")
	require.NoError(t, j.Close())

	j = openAt(t, path)
	got, err = j.ShippedSeq()
	require.NoError(t, err)
	assert.Equal(t, last, got, "the shipped seq survives a reopen")
	require.NoError(t, j.Close())

	ro := openAt(t, path, func(o *Options) { o.ReadOnly = true })
	assert.ErrorIs(t, ro.SetShippedSeq(1), ErrReadOnly)
	require.NoError(t, ro.Close())

	t.Run("damaged key", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			v    []byte
		}{
			{"short", []byte{1, 2, 3}},
			{"past the last entry", binary.BigEndian.AppendUint64(nil, last+5)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				db, err := bolt.Open(path, 0o600, nil)
				require.NoError(t, err)
				require.NoError(t, db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaShippedSeq, tc.v) }))
				require.NoError(t, db.Close())
				_, err = Open(path, Options{})
				assert.ErrorIs(t, err, ErrCorrupt)
				assert.ErrorContains(t, err, "shipped seq")
			})
		}
	})
}
