package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyPageHeaderFlips damages bytes 16–63 of every page of the test
// journal (the element headers of branch and leaf pages, the start of the
// freelist), one byte at a time, with several values each and in several
// rounds, and zeroes that range too. Open and Verify must end in nil or a
// *CorruptError every time: never a panic or a fault (bbolt's own page
// check faulted the process on such files). On a page in use, every
// damage that changes the bytes it holds must be reported.
func TestVerifyPageHeaderFlips(t *testing.T) {
	d := buildDamaged(t)
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	buf := make([]byte, len(d.raw))
	var cases, reported, missed int
	check := func(id int, what string, damage func(page []byte)) {
		t.Helper()
		copy(buf, d.raw)
		page := buf[id*d.pageSize : (id+1)*d.pageSize]
		damage(page)
		unchanged := string(page) == string(d.raw[id*d.pageSize:(id+1)*d.pageSize])
		require.NoError(t, os.WriteFile(path, buf, 0o600))
		cases++
		err := openAndVerify(t, path)
		if err != nil {
			var ce *CorruptError
			require.True(t, errors.As(err, &ce), "page %d (%s) %s: %v is not a *CorruptError", id, d.types[id], what, err)
			assert.Equal(t, path, ce.Path)
			reported++
			return
		}
		if !unchanged && d.types[id] != "free" && usedByte(d, id, what) {
			missed++
			t.Errorf("page %d (%s) %s: damage not reported", id, d.types[id], what)
		}
	}
	for round := range rounds {
		for id := 0; id < len(d.types); id++ {
			check(id, fmt.Sprintf("round %d: bytes 16-63 zeroed", round), func(p []byte) { clear(p[16:64]) })
			for off := 16; off < 64; off++ {
				v := byte(rng.IntN(255) + 1)
				if round == 0 {
					v = 0xff
				}
				check(id, fmt.Sprintf("round %d: byte %d ^= %#x", round, off, v), func(p []byte) { p[off] ^= v })
			}
		}
	}
	t.Logf("%d damaged files: %d reported as corrupt, %d not (free pages, unused bytes)", cases, reported, cases-reported)
	assert.Zero(t, missed)
}

// usedByte reports whether the damage described by what (one byte, or the
// zeroed range) touches bytes that page id of the undamaged file uses: its
// element headers and the keys and values they point to, or the freelist's
// ids. Bytes past them are unused (stale data), and a change there is
// harmless.
func usedByte(d *damaged, id int, what string) bool {
	page := d.raw[id*d.pageSize : (id+1)*d.pageSize]
	ne := binary.NativeEndian
	flags, count := ne.Uint16(page[8:]), int(ne.Uint16(page[10:]))
	end := boltPageHeader
	switch flags {
	case boltLeafFlag:
		end = boltPageHeader + 16*count
		if count > 0 {
			el := boltPageHeader + 16*(count-1)
			end = max(end, el+int(ne.Uint32(page[el+4:])+ne.Uint32(page[el+8:])+ne.Uint32(page[el+12:])))
		}
	case boltBranchFlag:
		end = boltPageHeader + 16*count
		if count > 0 {
			el := boltPageHeader + 16*(count-1)
			end = max(end, el+int(ne.Uint32(page[el:])+ne.Uint32(page[el+4:])))
		}
	case boltFreelistFlag:
		end = boltPageHeader + 8*count
	case boltMetaFlag:
		end = boltPageHeader + boltMetaSize + 8
	}
	var off int
	if _, err := fmt.Sscanf(what[len("round 0: "):], "byte %d", &off); err != nil {
		return end > 16 // the zeroed range starts at 16
	}
	return off < end
}

// TestVerifyZeroPages zeroes every page (and then pairs of neighbouring
// pages) of the test journal: damage, never a crash.
func TestVerifyZeroPages(t *testing.T) {
	d := buildDamaged(t)
	path := filepath.Join(t.TempDir(), "journal.db")
	buf := make([]byte, len(d.raw))
	for id := 0; id < len(d.types); id++ {
		for span := 1; span <= 2 && id+span <= len(d.types); span++ {
			copy(buf, d.raw)
			clear(buf[id*d.pageSize : (id+span)*d.pageSize])
			require.NoError(t, os.WriteFile(path, buf, 0o600))
			err := openAndVerify(t, path)
			if d.types[id] == "free" && (span == 1 || d.types[id+1] == "free") {
				assert.NoError(t, err, "page %d is free", id)
				continue
			}
			var ce *CorruptError
			require.True(t, errors.As(err, &ce), "pages %d-%d zeroed: %v", id, id+span-1, err)
		}
	}
}

// TestVerifyWhileAppending runs Verify beside Appends on the same journal:
// its page check must not mistake pages that the writer reuses meanwhile
// for damage.
func TestVerifyWhileAppending(t *testing.T) {
	j := openTest(t)
	noSync(j)
	for n := range 30 {
		fullPay(t, j, n, t0.Add(time.Duration(n)*time.Minute))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 30; n < 130; n++ {
			fullPay(t, j, n, t0.Add(time.Duration(n)*time.Minute))
		}
	}()
	verified := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		_, err := j.Verify()
		require.NoError(t, err)
		verified++
	}
	assert.Positive(t, verified)
	assert.NoError(t, j.Damaged())
}
