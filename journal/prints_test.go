package journal

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
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

// TestPrintGolden pins the prints value (testdata/print-golden.hex):
// a journal written before a change of it would read its counts wrong.
func TestPrintGolden(t *testing.T) {
	p := Print{Count: 3, First: time.Date(2025, 4, 1, 10, 0, 1, 0, paytree.JST), Last: time.Date(2025, 4, 2, 9, 30, 0, 500, paytree.JST)}
	got := hex.EncodeToString(encodePrint(p)) + "\n"
	path := filepath.Join("testdata", "print-golden.hex")
	if os.Getenv("WBPAY_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "refresh with WBPAY_UPDATE_GOLDEN=1")
	assert.Equal(t, string(want), got)
	raw, err := hex.DecodeString(strings.TrimSpace(string(want)))
	require.NoError(t, err)
	back, err := decodePrint(raw)
	require.NoError(t, err)
	assert.Equal(t, p.Count, back.Count)
	assert.True(t, p.First.Equal(back.First) && p.Last.Equal(back.Last))
	for _, bad := range [][]byte{nil, {0}, raw[:len(raw)-1], append(append([]byte(nil), raw...), 0)} {
		_, err := decodePrint(bad)
		assert.Error(t, err, "%x", bad)
	}
}
