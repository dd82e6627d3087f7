package journal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestCheckRecentMark: CheckRecent checks the entries after the verified
// mark, the mark is stored with the next Append, and what it checked is
// not checked again.
func TestCheckRecentMark(t *testing.T) {
	path := t.TempDir() + "/journal.db"
	j := openAt(t, path)
	for n := range 3 {
		fullPay(t, j, n, t0.Add(time.Duration(n)*time.Minute))
	}
	r, err := j.CheckRecent()
	require.NoError(t, err)
	assert.Equal(t, Recent{From: 0, To: 12, Txns: 3}, r)
	fullPay(t, j, 3, t0.Add(time.Hour)) // stores the mark 12
	require.NoError(t, j.Close())

	j = openAt(t, path)
	r, err = j.CheckRecent()
	require.NoError(t, err)
	assert.Equal(t, Recent{From: 12, To: 16, Txns: 1}, r, "only the pay after the mark")
	require.NoError(t, j.Close()) // no Append: Close stores the mark

	j = openAt(t, path)
	r, err = j.CheckRecent()
	require.NoError(t, err)
	assert.Equal(t, Recent{From: 16, To: 16}, r, "a run that only checked stored its mark at Close")
	require.NoError(t, j.Close())

	ro := openAt(t, path, func(o *Options) { o.ReadOnly = true })
	_, err = ro.Verify()
	require.NoError(t, err)
	require.NoError(t, ro.Close(), "a read-only journal stores nothing")
}

// TestCheckRecentFindsDamage: damage after the mark is found and recorded
// (Damaged), with the entry or transaction named.
func TestCheckRecentFindsDamage(t *testing.T) {
	d := buildDamaged(t)
	cases := []struct {
		name string
		edit func(tx *bolt.Tx) error
		seq  uint64
		txn  string
	}{
		{"entry altered", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketEntries)
			v := append([]byte(nil), b.Get(seqKey(5))...)
			v[3] ^= 1
			return b.Put(seqKey(5), v)
		}, 5, ""},
		{"order index key removed", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketByOrder).Delete(pairKey(d.paid.OrderID, d.paid.ID))
		}, 0, d.paid.ID},
		{"receipt index key removed", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketByReceipt).Delete(pairKey(d.paid.ReceiptNo, d.paid.ID))
		}, 0, d.paid.ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, before := d.edited(t, tc.edit)
			j, err := Open(path, Options{})
			require.NoError(t, err)
			defer j.Close()
			require.NoError(t, j.Damaged())
			_, err = j.CheckRecent()
			ce := requireCorrupt(t, err, path, before)
			if tc.seq != 0 {
				assert.Equal(t, tc.seq, ce.Seq)
			}
			if tc.txn != "" {
				assert.Equal(t, tc.txn, ce.TxnID)
			}
			assert.ErrorIs(t, j.Damaged(), ErrCorrupt, "the damage is recorded")
		})
	}
}

// TestCheckRecentLegacy: a journal without a mark (older than it) is
// trusted up to its last entry; the mark starts there.
func TestCheckRecentLegacy(t *testing.T) {
	d := buildDamaged(t)
	path, _ := d.edited(t, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(metaVerifiedSeq) })
	j, err := Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	r, err := j.CheckRecent()
	require.NoError(t, err)
	last := d.entries[len(d.entries)-1].Seq
	assert.Equal(t, Recent{From: last, To: last, Legacy: true}, r)
}

// TestJournalID: a new journal has an id (the given one, or a random one),
// a journal without one gets one from EnsureID, and bad ids are refused.
func TestJournalID(t *testing.T) {
	j := openTest(t)
	id, err := j.ID()
	require.NoError(t, err)
	assert.True(t, validID(id), "random id %q", id)

	want := "0123456789abcdef0123456789abcdef"
	j2 := openTest(t, func(o *Options) { o.ID = want })
	got, err := j2.EnsureID()
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = Open(t.TempDir()+"/j.db", Options{ID: "not-an-id"})
	assert.ErrorContains(t, err, "not 32 lower-case hex digits")

	d := buildDamaged(t)
	path, _ := d.edited(t, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(metaID) })
	j3 := openAt(t, path)
	id3, err := j3.ID()
	require.NoError(t, err)
	assert.Empty(t, id3)
	id3, err = j3.EnsureID()
	require.NoError(t, err)
	assert.True(t, validID(id3))
	again, err := j3.ID()
	require.NoError(t, err)
	assert.Equal(t, id3, again)
}
