package journal

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk constants (go.etcd.io/bbolt/internal/common), needed to
// check a file's shape before bbolt maps it: bbolt trusts its meta page and
// would fault (or panic) on a file cut short or a zeroed freelist page.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16 // id u64, flags u16, count u16, overflow u32
	boltMetaSize     = 56 // magic … txid, followed by the checksum
	boltBranchFlag   = 0x01
	boltLeafFlag     = 0x02
	boltMetaFlag     = 0x04
	boltFreelistFlag = 0x10
	boltNoFreelist   = ^uint64(0)
)

// boltMeta is the part of a bbolt meta page that checkFile needs.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages below it are in use or free
	txid     uint64
}

// readMeta parses the meta page at off; ok is false when it is not a valid
// meta page (bad magic, version or checksum).
func readMeta(f io.ReaderAt, off int64) (m boltMeta, ok bool) {
	var buf [boltPageHeader + boltMetaSize + 8]byte
	if n, _ := f.ReadAt(buf[:], off); n != len(buf) {
		return m, false
	}
	ne := binary.NativeEndian
	body := buf[boltPageHeader:]
	h := fnv.New64a()
	h.Write(body[:boltMetaSize])
	if ne.Uint16(buf[8:]) != boltMetaFlag || ne.Uint32(body[0:]) != boltMagic || ne.Uint32(body[4:]) != boltVersion ||
		ne.Uint64(body[boltMetaSize:]) != h.Sum64() {
		return m, false
	}
	m = boltMeta{pageSize: ne.Uint32(body[8:]), root: ne.Uint64(body[16:]), freelist: ne.Uint64(body[32:]),
		pgid: ne.Uint64(body[40:]), txid: ne.Uint64(body[48:])}
	return m, m.pageSize >= 512 && m.pageSize&(m.pageSize-1) == 0
}

// checkFile checks, in O(1), that the bbolt file at path is whole: both
// meta pages valid, the file at least as long as the high-water mark, and
// the root and freelist pages of the right types. An invalid meta page is
// reported too: bbolt would silently fall back to the older one and lose the
// last commit.
func checkFile(path string, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return &CorruptError{Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	size := fi.Size()
	if size == 0 {
		return bad("empty file (a journal is never empty once created)")
	}
	m0, ok0 := readMeta(f, 0)
	var m1 boltMeta
	var ok1 bool
	if ok0 {
		m1, ok1 = readMeta(f, int64(m0.pageSize))
	} else {
		for ps := int64(1024); ps <= 64*1024 && !ok1; ps *= 2 {
			m1, ok1 = readMeta(f, ps)
		}
	}
	switch {
	case !ok0 && !ok1:
		return bad("no valid bbolt meta page (file of %d bytes)", size)
	case !ok0:
		return bad("bbolt meta page 0 is damaged")
	case !ok1:
		return bad("bbolt meta page 1 is damaged")
	case m0.pageSize != m1.pageSize:
		return bad("bbolt meta pages disagree on the page size (%d, %d)", m0.pageSize, m1.pageSize)
	}
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	ps := int64(m.pageSize)
	if m.pgid < 3 || m.pgid > uint64(size/ps) {
		return bad("file of %d bytes is shorter than its %d pages of %d bytes: truncated", size, m.pgid, ps)
	}
	flags := func(pgid uint64) uint16 {
		var b [boltPageHeader]byte
		if n, _ := f.ReadAt(b[:], int64(pgid)*ps); n != len(b) {
			return 0
		}
		return binary.NativeEndian.Uint16(b[8:])
	}
	if m.root < 2 || m.root >= m.pgid {
		return bad("bbolt root page %d outside the file's %d pages", m.root, m.pgid)
	}
	if fl := flags(m.root); fl != boltLeafFlag && fl != boltBranchFlag {
		return bad("bbolt root page %d is damaged (flags %#x)", m.root, fl)
	}
	if m.freelist == boltNoFreelist {
		// bbolt would write a freelist as soon as it opens the file for
		// writing; a journal always has one.
		return bad("no bbolt freelist: not written by this journal")
	}
	if m.freelist < 2 || m.freelist >= m.pgid {
		return bad("bbolt freelist page %d outside the file's %d pages", m.freelist, m.pgid)
	}
	if fl := flags(m.freelist); fl != boltFreelistFlag {
		return bad("bbolt freelist page %d is damaged (flags %#x)", m.freelist, fl)
	}
	return nil
}
