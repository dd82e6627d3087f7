package journal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEntriesFromAndChanged(t *testing.T) {
	j := openTest(t)
	ch := j.Changed()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for n := range 3 {
		fullPay(t, j, n, at.Add(time.Duration(n)*time.Minute))
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed did not fire after an Append")
	}
	last, err := j.LastSeq()
	require.NoError(t, err)
	require.NotZero(t, last)

	var all []Entry
	require.NoError(t, j.ForEachEntry(func(e Entry) error { all = append(all, e); return nil }))
	require.Len(t, all, int(last))

	for _, from := range []uint64{0, 1, 2, last, last + 1, last + 10} {
		var got []uint64
		require.NoError(t, j.EntriesFrom(from, func(e Entry) error { got = append(got, e.Seq); return nil }), "from %d", from)
		var want []uint64
		for _, e := range all {
			if e.Seq >= max(from, 1) {
				want = append(want, e.Seq)
			}
		}
		assert.Equal(t, want, got, "EntriesFrom(%d)", from)
		if len(got) > 0 {
			var first *Entry
			require.NoError(t, j.EntriesFrom(from, func(e Entry) error {
				if first == nil {
					first = &e
				}
				return nil
			}))
			assert.Equal(t, all[first.Seq-1].PrevHash, first.PrevHash, "first entry's link from %d", from)
		}
	}

	ch = j.Changed()
	require.NoError(t, j.Close())
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed did not fire on Close")
	}
}
