//go:build linux

package lazyfs

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// PageSize is the unit a torn write is cut at: file offsets that are
// multiples of it are page boundaries.
const PageSize = 4096

// dnode is an inode as the disk holds it: what survives a cut.
type dnode struct {
	ftype   uint32 // S_IFREG, S_IFDIR, S_IFLNK, …
	mode    uint32 // permission bits
	rdev    uint32
	data    []byte            // regular file
	target  string            // symlink
	entries map[string]uint64 // directory: name → inode id
}

// meta is what an inode was created as, to make a durable record of it
// when its name becomes durable before its data does.
type meta struct {
	ftype  uint32
	mode   uint32
	rdev   uint32
	target string
}

// edit sets one directory entry: child 0 removes it.
type edit struct {
	dir   uint64
	name  string
	child uint64
}

// nsop is one namespace operation (create, mkdir, link, unlink, rename, …):
// its edits become durable together, or not at all.
type nsop struct {
	desc  string
	edits []edit
}

// dirty is what changed in an inode's data since its last fsync.
type dirty struct {
	all     bool               // copy the whole file at the next fsync
	minSize int64              // smallest size a truncation left (-1: none)
	pages   map[int64]struct{} // page numbers written
}

// write is the last write not yet covered by an fsync, kept for a tear.
type write struct {
	id   uint64
	off  int64
	data []byte
	path string
}

// model is the durable image plus what is pending. Not safe for concurrent
// use: the FS calls it under its mutex.
type model struct {
	root    uint64
	next    uint64
	durable map[uint64]*dnode
	meta    map[uint64]meta
	ops     []nsop // pending namespace operations, oldest first
	dirty   map[uint64]*dirty
	last    *write
}

func newModel() *model {
	return &model{next: 1, durable: map[uint64]*dnode{}, meta: map[uint64]meta{}, dirty: map[uint64]*dirty{}}
}

// newID registers a new inode created as m.
func (m *model) newID(mt meta) uint64 {
	id := m.next
	m.next++
	m.meta[id] = mt
	return id
}

// logOp appends a pending namespace operation.
func (m *model) logOp(desc string, edits ...edit) {
	m.ops = append(m.ops, nsop{desc: desc, edits: edits})
}

func (m *model) dirtyOf(id uint64) *dirty {
	d := m.dirty[id]
	if d == nil {
		d = &dirty{minSize: -1, pages: map[int64]struct{}{}}
		m.dirty[id] = d
	}
	return d
}

// wrote records a write of data at off to inode id (path names it in a
// report).
func (m *model) wrote(id uint64, off int64, data []byte, path string) {
	if len(data) == 0 {
		return
	}
	d := m.dirtyOf(id)
	for p := off / PageSize; p <= (off+int64(len(data))-1)/PageSize; p++ {
		d.pages[p] = struct{}{}
	}
	m.last = &write{id: id, off: off, data: append([]byte(nil), data...), path: path}
}

// touched marks the bytes [off, off+n) of id as changed (fallocate).
func (m *model) touched(id uint64, off, n int64) {
	d := m.dirtyOf(id)
	for p := off / PageSize; n > 0 && p <= (off+n-1)/PageSize; p++ {
		d.pages[p] = struct{}{}
	}
}

// truncated records that id's size was set to size.
func (m *model) truncated(id uint64, size int64) {
	d := m.dirtyOf(id)
	if d.minSize < 0 || size < d.minSize {
		d.minSize = size
	}
}

// allDirty makes the next fsync of id copy the whole file.
func (m *model) allDirty(id uint64) { m.dirtyOf(id).all = true }

// ensure returns id's durable record, making an empty one (as its meta
// says) when it has none: a name became durable before any data.
func (m *model) ensure(id uint64) *dnode {
	n := m.durable[id]
	if n == nil {
		mt := m.meta[id]
		n = &dnode{ftype: mt.ftype, mode: mt.mode, rdev: mt.rdev, target: mt.target}
		if mt.ftype == syscall.S_IFDIR {
			n.entries = map[string]uint64{}
		}
		m.durable[id] = n
	}
	return n
}

// promoteData makes id's data durable as the live file fd holds it now.
func (m *model) promoteData(id uint64, fd int) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	n := m.durable[id]
	d := m.dirty[id]
	size := st.Size
	readRange := func(from, to int64) error {
		for off := from; off < to; {
			k, err := syscall.Pread(fd, n.data[off:to], off)
			if err != nil {
				return err
			}
			if k == 0 {
				return fmt.Errorf("lazyfs: short read of inode %d at %d", id, off)
			}
			off += int64(k)
		}
		return nil
	}
	switch {
	case n == nil || d != nil && d.all:
		n = m.ensure(id)
		n.data = make([]byte, size)
		if err := readRange(0, size); err != nil {
			return err
		}
	case d != nil:
		if d.minSize >= 0 && d.minSize < int64(len(n.data)) {
			n.data = n.data[:d.minSize]
		}
		n.data = resize(n.data, size)
		pages := make([]int64, 0, len(d.pages))
		for p := range d.pages {
			pages = append(pages, p)
		}
		sort.Slice(pages, func(i, j int) bool { return pages[i] < pages[j] })
		for _, p := range pages {
			from, to := p*PageSize, min((p+1)*PageSize, size)
			if from >= size {
				break
			}
			if err := readRange(from, to); err != nil {
				return err
			}
		}
	}
	n.mode = st.Mode & 0o7777
	delete(m.dirty, id)
	if m.last != nil && m.last.id == id {
		m.last = nil
	}
	return nil
}

// resize returns b cut or zero-extended to n bytes.
func resize(b []byte, n int64) []byte {
	if int64(len(b)) >= n {
		return b[:n]
	}
	if int64(cap(b)) >= n {
		old := len(b)
		b = b[:n]
		clear(b[old:])
		return b
	}
	nb := make([]byte, n, n+n/4)
	copy(nb, b)
	return nb
}

// promoteDir makes durable every pending namespace operation on directory
// dir, and every earlier one that shares a directory with one of those
// (a directory's history becomes durable in order).
func (m *model) promoteDir(dir uint64) {
	dirs := map[uint64]bool{dir: true}
	marked := make([]bool, len(m.ops))
	found := false
	for i := len(m.ops) - 1; i >= 0; i-- {
		op := m.ops[i]
		hit := false
		for _, e := range op.edits {
			if dirs[e.dir] {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		marked[i], found = true, true
		for _, e := range op.edits {
			dirs[e.dir] = true
		}
	}
	if !found {
		return
	}
	rest := m.ops[:0:0]
	for i, op := range m.ops {
		if marked[i] {
			m.apply(op)
		} else {
			rest = append(rest, op)
		}
	}
	m.ops = rest
}

// apply makes op's edits durable.
func (m *model) apply(op nsop) {
	for _, e := range op.edits {
		d := m.ensure(e.dir)
		if d.entries == nil {
			d.entries = map[string]uint64{}
		}
		if e.child == 0 {
			delete(d.entries, e.name)
			continue
		}
		m.ensure(e.child)
		d.entries[e.name] = e.child
	}
}

// Report says what a cut kept and what it discarded.
type Report struct {
	Seed        int64    `json:"seed"`
	Tear        bool     `json:"tear"`
	UnsyncedOps int      `json:"unsyncedOps"`       // namespace operations no fsync covered
	KeptOps     []string `json:"keptOps,omitempty"` // those the seed let reach the disk (a prefix)
	LostOps     []string `json:"lostOps,omitempty"` // those it discarded
	DirtyFiles  int      `json:"dirtyFiles"`        // inodes with written data no fsync covered (discarded)
	Torn        *Torn    `json:"torn,omitempty"`    // the last unsynced write, when the cut tore it
	Skipped     []string `json:"skipped,omitempty"` // directories reachable twice, written once
}

// Torn describes the part of the last unsynced write that reached the disk.
type Torn struct {
	Path string `json:"path"`
	Off  int64  `json:"off"`
	Len  int    `json:"len"`
	Kept int    `json:"kept"` // bytes from Off that reached the disk: 0, Len, or up to a page boundary
}

// cut applies what the seed lets survive of the pending state to the
// durable image and returns the report; the model is not usable afterwards.
func (m *model) cut(seed int64, tear bool) Report {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6c617a7966732121))
	rep := Report{Seed: seed, Tear: tear, UnsyncedOps: len(m.ops), DirtyFiles: len(m.dirty)}
	k := rng.IntN(len(m.ops) + 1)
	for i, op := range m.ops {
		if i < k {
			m.apply(op)
			rep.KeptOps = append(rep.KeptOps, op.desc)
		} else {
			rep.LostOps = append(rep.LostOps, op.desc)
		}
	}
	m.ops = nil
	if tear && m.last != nil {
		w := m.last
		first, last := w.off/PageSize, (w.off+int64(len(w.data))-1)/PageSize
		keep := 0
		if pages := last - first + 1; pages >= 2 {
			keep = int((first+1+rng.Int64N(pages-1))*PageSize - w.off)
		} else if rng.IntN(2) == 1 {
			keep = len(w.data)
		}
		if keep > 0 {
			n := m.ensure(w.id)
			if end := w.off + int64(keep); int64(len(n.data)) < end {
				n.data = resize(n.data, end)
			}
			copy(n.data[w.off:], w.data[:keep])
		}
		rep.Torn = &Torn{Path: w.path, Off: w.off, Len: len(w.data), Kept: keep}
	}
	m.dirty = map[uint64]*dirty{}
	m.last = nil
	return rep
}

// writeImage replaces the contents of dir with the durable image.
func (m *model) writeImage(dir string, rep *Report) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	w := imageWriter{m: m, visited: map[uint64]bool{m.root: true}, links: map[uint64]string{}, rep: rep}
	if err := w.dir(m.root, dir); err != nil {
		return fmt.Errorf("lazyfs: write image to %s: %w", dir, err)
	}
	return nil
}

type imageWriter struct {
	m       *model
	visited map[uint64]bool
	links   map[uint64]string
	rep     *Report
}

func (w *imageWriter) dir(id uint64, path string) error {
	d := w.m.durable[id]
	names := make([]string, 0, len(d.entries))
	for name := range d.entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cid := d.entries[name]
		c := w.m.ensure(cid)
		p := filepath.Join(path, name)
		switch c.ftype {
		case syscall.S_IFDIR:
			if w.visited[cid] {
				if w.rep != nil {
					w.rep.Skipped = append(w.rep.Skipped, p)
				}
				continue
			}
			w.visited[cid] = true
			if err := os.Mkdir(p, 0o700); err != nil {
				return err
			}
			if err := w.dir(cid, p); err != nil {
				return err
			}
			if err := os.Chmod(p, os.FileMode(c.mode&0o777)); err != nil {
				return err
			}
		case syscall.S_IFREG:
			if lp, ok := w.links[cid]; ok {
				if err := os.Link(lp, p); err != nil {
					return err
				}
				continue
			}
			if err := os.WriteFile(p, c.data, 0o600); err != nil {
				return err
			}
			if err := os.Chmod(p, os.FileMode(c.mode&0o777)); err != nil {
				return err
			}
			w.links[cid] = p
		case syscall.S_IFLNK:
			if err := os.Symlink(c.target, p); err != nil {
				return err
			}
		default:
			if err := syscall.Mknod(p, c.ftype|c.mode, int(c.rdev)); err != nil {
				return err
			}
		}
	}
	return nil
}
