package journal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordPrint(t *testing.T) {
	path := t.TempDir() + "/j.db"
	j, err := Open(path, Options{})
	require.NoError(t, err)
	id := "0195f3a2b4c07d3e9a1b2c3d4e5f6071"
	at := time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC)

	_, err = j.RecordPrint(id, "customer", at)
	assert.ErrorIs(t, err, ErrNotFound, "no print of an unknown transaction")
	p, err := j.Prints(id, "customer")
	require.NoError(t, err, "a journal without the prints bucket reads as never printed")
	assert.Zero(t, p.Count)

	require.NoError(t, j.Append(&Entry{TxnID: id, Time: at, Event: "send", From: "new", To: "sending"},
		&Txn{ID: id, Op: 1, State: "sending", CreatedAt: at, UpdatedAt: at}))
	for i, want := range []struct {
		copy  string
		count int
	}{{"customer", 1}, {"customer", 2}, {"merchant", 1}, {"customer", 3}} {
		p, err := j.RecordPrint(id, want.copy, at.Add(time.Duration(i)*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, want.count, p.Count, "print %d (%s)", i, want.copy)
		assert.True(t, p.First.Equal(at) || want.copy == "merchant", "the first print's time is kept")
	}
	_, err = j.RecordPrint(id, "", at)
	assert.ErrorIs(t, err, ErrInvalid)

	// Durable: a reopened journal still knows, and its chain still verifies.
	require.NoError(t, j.Close())
	j, err = Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	p, err = j.Prints(id, "customer")
	require.NoError(t, err)
	assert.Equal(t, 3, p.Count)
	assert.True(t, p.First.Equal(at))
	assert.True(t, p.Last.Equal(at.Add(3*time.Minute)))
	_, err = j.Verify()
	assert.NoError(t, err)
}
