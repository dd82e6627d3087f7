//go:build linux

package lazyfs

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// newTestModel is a model with a durable root and two empty directories.
func newTestModel() (m *model, a, b uint64) {
	m = newModel()
	m.root = m.newID(meta{ftype: syscall.S_IFDIR, mode: 0o755})
	m.ensure(m.root)
	a = m.newID(meta{ftype: syscall.S_IFDIR, mode: 0o755})
	b = m.newID(meta{ftype: syscall.S_IFDIR, mode: 0o755})
	m.apply(nsop{edits: []edit{{dir: m.root, name: "a", child: a}, {dir: m.root, name: "b", child: b}}})
	return m, a, b
}

// A rename promoted by an fsync of its target directory takes the earlier
// create in its source directory with it, so that a later fsync of the
// source cannot bring the old name back.
func TestPromoteDirKeepsADirectoryHistoryInOrder(t *testing.T) {
	m, a, b := newTestModel()
	x := m.newID(meta{ftype: syscall.S_IFREG})
	m.logOp("create a/x", edit{dir: a, name: "x", child: x})
	m.logOp("rename a/x b/y", edit{dir: a, name: "x"}, edit{dir: b, name: "y", child: x})
	other := m.newID(meta{ftype: syscall.S_IFREG})
	m.logOp("create a/later", edit{dir: a, name: "later", child: other})
	m.promoteDir(b)
	assert.Equal(t, map[string]uint64{"y": x}, m.durable[b].entries)
	assert.Empty(t, m.durable[a].entries, "a/x was created and renamed away: neither survives as a/x")
	if assert.Len(t, m.ops, 1) {
		assert.Equal(t, "create a/later", m.ops[0].desc, "a later, unrelated operation stays pending")
	}
	m.promoteDir(a)
	assert.Equal(t, map[string]uint64{"later": other}, m.durable[a].entries)
}

// A cut keeps a prefix of the pending operations, the same for the same seed.
func TestCutKeepsAPrefixBySeed(t *testing.T) {
	run := func(seed int64) Report {
		m, a, _ := newTestModel()
		for _, n := range []string{"1", "2", "3", "4", "5"} {
			m.logOp("create a/"+n, edit{dir: a, name: n, child: m.newID(meta{ftype: syscall.S_IFREG})})
		}
		return m.cut(seed, false)
	}
	lengths := map[int]bool{}
	for seed := int64(0); seed < 40; seed++ {
		rep := run(seed)
		assert.Equal(t, 5, rep.UnsyncedOps)
		assert.Equal(t, 5, len(rep.KeptOps)+len(rep.LostOps))
		for i, d := range rep.KeptOps {
			assert.Equal(t, "create a/"+string(rune('1'+i)), d, "seed %d keeps a prefix", seed)
		}
		assert.Equal(t, rep, run(seed), "seed %d replays", seed)
		lengths[len(rep.KeptOps)] = true
	}
	assert.Len(t, lengths, 6, "over 40 seeds every prefix length 0..5 appears: %v", lengths)
}

// An fsync after a truncation and a write past the end reproduces the
// live file exactly from the dirty pages.
func TestPromoteDataAppliesTruncationsAndPages(t *testing.T) {
	m := newModel()
	id := m.newID(meta{ftype: syscall.S_IFREG})
	n := m.ensure(id)
	n.data = []byte("0123456789")
	m.truncated(id, 4)
	m.wrote(id, PageSize+2, []byte("zz"), "/f")
	assert.NotNil(t, m.last)
	f := t.TempDir() + "/live"
	want := append(append([]byte("0123"), make([]byte, PageSize-2)...), "zz"...)
	fd, err := syscall.Open(f, syscall.O_CREAT|syscall.O_RDWR, 0o600)
	if !assert.NoError(t, err) {
		return
	}
	defer syscall.Close(fd)
	_, err = syscall.Pwrite(fd, want, 0)
	assert.NoError(t, err)
	assert.NoError(t, m.promoteData(id, fd))
	assert.Equal(t, want, m.durable[id].data)
	assert.Nil(t, m.last, "an fsync of the file covers its last write")
	assert.Empty(t, m.dirty)
}
