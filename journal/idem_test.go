package journal

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestIdempotencyKeyIndex: a key is found again, filters List, survives a
// reopen, and Verify holds the index to the snapshots.
func TestIdempotencyKeyIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openAt(t, path)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	fullPay(t, j, 1, at) // no key: the journal has no by-idem bucket yet
	got, err := j.ByIdempotencyKey("k1")
	require.NoError(t, err)
	assert.Nil(t, got, "no key journaled yet")
	_, err = j.Verify()
	require.NoError(t, err, "a journal without the optional index verifies")

	keyed := func(n int, key string) *tb {
		b := newPay(t, j, n, at.Add(time.Duration(n)*time.Minute))
		b.snap.IdempotencyKey = key
		b.send()
		b.paid()
		return b
	}
	keyed(2, "receipt-2")
	keyed(3, "0123456789abcdef0123") // lower-case hex: stored packed
	for n, key := range map[int]string{2: "receipt-2", 3: "0123456789abcdef0123"} {
		got, err := j.ByIdempotencyKey(key)
		require.NoError(t, err)
		require.NotNil(t, got, "key %q", key)
		assert.Equal(t, txnID(n), got.ID)
		assert.Equal(t, key, got.IdempotencyKey)
		list, err := j.List(Query{IdempotencyKey: key})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, txnID(n), list[0].ID)
	}
	rep, err := j.Verify()
	require.NoError(t, err)
	assert.EqualValues(t, 3, rep.Txns)
	require.NoError(t, j.Close())

	j = openAt(t, path)
	got, err = j.ByIdempotencyKey("receipt-2")
	require.NoError(t, err)
	require.NotNil(t, got, "the key survives a reopen")
	require.NoError(t, j.Close())

	// Damage: the index loses the key, or gains one no snapshot has.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	d := &damaged{raw: raw}
	for name, edit := range map[string]func(*bolt.Tx) error{
		"key missing": func(tx *bolt.Tx) error { return tx.Bucket(bucketByIdem).Delete(pairKey("receipt-2", txnID(2))) },
		"stray key":   func(tx *bolt.Tx) error { return tx.Bucket(bucketByIdem).Put(pairKey("other", txnID(1)), []byte{}) },
	} {
		t.Run(name, func(t *testing.T) {
			p, before := d.edited(t, edit)
			requireCorrupt(t, openAndVerify(t, p), p, before)
		})
	}
}
