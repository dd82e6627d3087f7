package journal

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
)

// pageOf returns the id of the page that holds the value of key in bucket.
func (d *damaged) pageOf(t *testing.T, bucket, key []byte) int {
	t.Helper()
	return valueOffset(t, d.path, bucket, key) / d.pageSize
}

// repaired damages a copy of d, repairs it and checks what every repair
// must hold: the damaged file kept byte for byte as .broken, the rebuilt
// journal verifying, the report's counts adding up.
func repaired(t *testing.T, d *damaged, damage func(b []byte) []byte) (*RepairReport, *Journal) {
	t.Helper()
	path := d.write(t, damage)
	before := fileBytes(t, path)
	rep, err := Repair(path, RepairOptions{})
	require.NoError(t, err)
	assert.Equal(t, before, fileBytes(t, path+BrokenSuffix), "the damaged file is kept untouched")
	j, err := Open(path, Options{ReadOnly: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	vr, err := j.Verify()
	require.NoError(t, err, "the rebuilt journal verifies")
	assert.Equal(t, rep.Entries, vr.Entries)
	var lost uint64
	for _, r := range rep.Lost {
		lost += r.To - r.From + 1
	}
	assert.Equal(t, rep.LastSeq, rep.Entries+lost, "every seq is carried or reported lost: %+v", rep.Lost)
	return rep, j
}

func TestRepairLostEntriesPage(t *testing.T) {
	d := buildDamaged(t)
	mid := d.entries[len(d.entries)/2]
	page := d.pageOf(t, bucketEntries, seqKey(mid.Seq))
	rep, j := repaired(t, d, func(b []byte) []byte { clear(b[page*d.pageSize : (page+1)*d.pageSize]); return b })
	require.NotEmpty(t, rep.Lost)
	assert.True(t, rep.Lost[0].From <= mid.Seq && mid.Seq <= rep.Lost[0].To, "the zeroed page's entries are reported: %v", rep.Lost)
	assert.True(t, rep.Renumbered)
	var named bool
	for _, l := range rep.LostTxns {
		named = named || l.ID == mid.TxnID
	}
	assert.True(t, named, "the txn of a lost entry is named: %+v", rep.LostTxns)

	// The unfinished pay (last entry, another page) survives for recovery.
	assert.Equal(t, 1, rep.Unfinished)
	us, err := j.Unfinished()
	require.NoError(t, err)
	require.Len(t, us, 1)
	assert.Equal(t, d.open.ID, us[0].ID)
	assert.Equal(t, fsm.StateSending, us[0].State)
	assert.Equal(t, d.open.Amount, us[0].Amount)
	assert.Equal(t, d.open.Step, us[0].Step)
	id, err := j.ID()
	require.NoError(t, err)
	assert.NotEmpty(t, id, "the damaged journal's id is kept")
}

func TestRepairLostSnapshotPage(t *testing.T) {
	d := buildDamaged(t)
	page := d.pageOf(t, bucketTxns, []byte(d.paid.ID))
	rep, j := repaired(t, d, func(b []byte) []byte { clear(b[page*d.pageSize : (page+1)*d.pageSize]); return b })
	assert.Empty(t, rep.Lost, "every entry is intact")
	assert.False(t, rep.Renumbered)
	got, err := j.Get(d.paid.ID)
	require.NoError(t, err, "a finished txn whose snapshot is lost is rebuilt from its entries")
	assert.Equal(t, fsm.StatePaid, got.State)
	var named bool
	for _, l := range rep.LostTxns {
		if l.ID == d.paid.ID {
			named = true
			assert.Contains(t, l.Reason, "snapshot is lost")
		}
	}
	assert.True(t, named, "%+v", rep.LostTxns)
}

func TestRepairRefuses(t *testing.T) {
	d := buildDamaged(t)
	t.Run("intact", func(t *testing.T) {
		path := d.write(t, func(b []byte) []byte { return b })
		_, err := Repair(path, RepairOptions{})
		assert.ErrorContains(t, err, "nothing to repair")
		assert.Equal(t, d.raw, fileBytes(t, path))
	})
	damage := func(b []byte) []byte { b[d.pageOf(t, bucketEntries, seqKey(3))*d.pageSize+20] ^= 0xff; return b }
	t.Run("broken copy exists", func(t *testing.T) {
		path := d.write(t, damage)
		before := fileBytes(t, path)
		require.NoError(t, os.WriteFile(path+BrokenSuffix, []byte("older"), 0o600))
		_, err := Repair(path, RepairOptions{})
		assert.ErrorContains(t, err, "never overwritten")
		assert.Equal(t, before, fileBytes(t, path))
		assert.Equal(t, []byte("older"), fileBytes(t, path+BrokenSuffix))
	})
	t.Run("held by an engine", func(t *testing.T) {
		path := d.write(t, damage)
		j, err := Open(path, Options{})
		if err != nil {
			t.Skipf("the damage is found at Open: %v", err)
		}
		defer j.Close()
		_, err = Repair(path, RepairOptions{})
		assert.ErrorIs(t, err, ErrLocked)
	})
}
