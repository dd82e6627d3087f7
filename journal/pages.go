package journal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
)

// pageCheck is Verify's check of the bbolt file's pages. It replaces bbolt's
// Tx.Check, which walks the pages on a goroutine of its own, through the
// memory map, where a damaged page can fault the process beyond recovery.
// pageCheck reads every page with ReadAt on the caller's goroutine and
// trusts nothing it reads: a bad offset, count or page id is an error,
// never a fault or a panic. It checks what Tx.Check checks: every page
// below the high-water mark is reachable from the root exactly once or
// free (never both), each reachable page is a branch or leaf page that
// names itself, its elements lie inside it, its keys are in order and
// inside the range its parent gives it, and the freelist lists each page
// once. It also checks that no bucket has a sequence (the journal never
// uses NextSequence). Damage in the entries bucket is reported against the
// entry after the last one the walk read intact.
type pageCheck struct {
	path string
	f    io.ReaderAt
	ps   uint64 // page size
	hw   uint64 // high-water mark: pages below it are in use or free
	seen []uint8
	bufs [][]byte // one page buffer per depth

	bucket    string // top-level bucket being walked ("" in the root)
	lastEntry uint64 // the last entry key read intact in the entries bucket
}

const (
	pageFree      = 1
	pageReachable = 2
)

// checkPagesAt checks the pages of the bbolt file at path as of meta m.
func checkPagesAt(path string, f io.ReaderAt, m boltMeta) error {
	c := &pageCheck{path: path, f: f, ps: uint64(m.pageSize), hw: m.pgid}
	if c.hw < 3 || c.hw > 1<<40 {
		return c.bad(0, "high-water mark %d out of range", c.hw)
	}
	c.seen = make([]uint8, c.hw)
	c.seen[0], c.seen[1] = pageReachable, pageReachable
	if err := c.freelist(m.freelist); err != nil {
		return err
	}
	if err := c.tree(m.root, nil, nil, 0); err != nil {
		return err
	}
	for id := uint64(2); id < c.hw; id++ {
		if c.seen[id] == 0 {
			return c.bad(id, "neither reachable nor free")
		}
	}
	return nil
}

// bad reports damage at page id, against the next entry when the walk is
// in the entries bucket.
func (c *pageCheck) bad(id uint64, format string, args ...any) *CorruptError {
	reason := fmt.Sprintf("bbolt page %d: ", id) + fmt.Sprintf(format, args...)
	e := &CorruptError{Path: c.path, Reason: reason}
	if c.bucket != "" {
		e.Reason = fmt.Sprintf("bucket %q: %s", c.bucket, reason)
	}
	if c.bucket == string(bucketEntries) {
		e.Seq = c.lastEntry + 1
	}
	return e
}

// read returns page id with its overflow pages, in the buffer for depth.
func (c *pageCheck) read(id uint64, depth int) ([]byte, error) {
	if id < 2 || id >= c.hw {
		return nil, c.bad(id, "page id outside the file's %d pages", c.hw)
	}
	for len(c.bufs) <= depth {
		c.bufs = append(c.bufs, make([]byte, c.ps))
	}
	buf := c.bufs[depth][:c.ps]
	if _, err := c.f.ReadAt(buf, int64(id*c.ps)); err != nil {
		return nil, c.bad(id, "cannot be read: %v", err)
	}
	ne := binary.NativeEndian
	if got := ne.Uint64(buf[0:]); got != id {
		return nil, c.bad(id, "names itself page %d", got)
	}
	over := uint64(ne.Uint32(buf[12:]))
	if over >= c.hw-id {
		return nil, c.bad(id, "%d overflow pages run past the file's %d pages", over, c.hw)
	}
	if over > 0 {
		n := (over + 1) * c.ps
		if uint64(cap(c.bufs[depth])) < n {
			nb := make([]byte, n)
			copy(nb, buf)
			c.bufs[depth] = nb
		}
		buf = c.bufs[depth][:n]
		if _, err := c.f.ReadAt(buf[c.ps:], int64((id+1)*c.ps)); err != nil {
			return nil, c.bad(id, "overflow cannot be read: %v", err)
		}
	}
	return buf, nil
}

// mark records pages id … id+over as state, refusing a second reference.
func (c *pageCheck) mark(id, over uint64, state uint8) error {
	for i := id; i <= id+over; i++ {
		switch {
		case c.seen[i] == 0:
			c.seen[i] = state
		case c.seen[i] == pageFree && state == pageFree:
			return c.bad(i, "listed twice in the freelist")
		case c.seen[i] == pageFree || state == pageFree:
			return c.bad(i, "both free and in use")
		default:
			return c.bad(i, "referenced twice")
		}
	}
	return nil
}

// freelist reads the freelist page and marks the pages it lists.
func (c *pageCheck) freelist(id uint64) error {
	buf, err := c.read(id, 0)
	if err != nil {
		return err
	}
	ne := binary.NativeEndian
	if fl := ne.Uint16(buf[8:]); fl != boltFreelistFlag {
		return c.bad(id, "freelist page has flags %#x", fl)
	}
	over := uint64(ne.Uint32(buf[12:]))
	if err := c.mark(id, over, pageReachable); err != nil {
		return err
	}
	data := buf[boltPageHeader:]
	n := uint64(ne.Uint16(buf[10:]))
	if n == 0xFFFF {
		if len(data) < 8 {
			return c.bad(id, "freelist too short for its count")
		}
		n, data = ne.Uint64(data), data[8:]
	}
	if n > uint64(len(data))/8 {
		return c.bad(id, "freelist of %d pages does not fit its %d bytes", n, len(data))
	}
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = ne.Uint64(data[8*i:])
	}
	for _, f := range ids {
		if f < 2 || f >= c.hw {
			return c.bad(id, "freelist lists page %d, outside the file's %d pages", f, c.hw)
		}
		if err := c.mark(f, 0, pageFree); err != nil {
			return err
		}
	}
	return nil
}

// tree checks the branch or leaf page id and what hangs from it; its keys
// must lie in [lo, hi) (nil: unbounded).
func (c *pageCheck) tree(id uint64, lo, hi []byte, depth int) error {
	if depth > 64 {
		return c.bad(id, "tree deeper than 64 levels (a cycle)")
	}
	buf, err := c.read(id, depth)
	if err != nil {
		return err
	}
	ne := binary.NativeEndian
	flags := ne.Uint16(buf[8:])
	if flags != boltBranchFlag && flags != boltLeafFlag {
		return c.bad(id, "in the tree but has flags %#x", flags)
	}
	if err := c.mark(id, uint64(ne.Uint32(buf[12:])), pageReachable); err != nil {
		return err
	}
	if flags == boltLeafFlag {
		return c.leaf(id, buf, lo, hi, depth)
	}
	count := int(ne.Uint16(buf[10:]))
	if count == 0 {
		return c.bad(id, "branch page without elements")
	}
	type child struct {
		key []byte
		id  uint64
	}
	kids := make([]child, count)
	var prev []byte
	for i := range count {
		el := boltPageHeader + 16*i
		if el+16 > len(buf) {
			return c.bad(id, "element %d of %d outside the page", i, count)
		}
		pos, ksize := uint64(ne.Uint32(buf[el:])), uint64(ne.Uint32(buf[el+4:]))
		start := uint64(el) + pos
		if start+ksize > uint64(len(buf)) {
			return c.bad(id, "key %d (%d bytes at %d) outside the page", i, ksize, start)
		}
		key := buf[start : start+ksize]
		if err := c.inRange(id, i, key, prev, lo, hi); err != nil {
			return err
		}
		if i == 0 && lo != nil && !bytes.Equal(key, lo) {
			return c.bad(id, "first key %s is not its parent's %s", quoteKey(key), quoteKey(lo))
		}
		prev = key
		kids[i] = child{bytes.Clone(key), ne.Uint64(buf[el+8:])}
	}
	for i, k := range kids {
		next := hi
		if i+1 < len(kids) {
			next = kids[i+1].key
		}
		if err := c.tree(k.id, k.key, next, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// inRange checks key i of page id: above prev, within [lo, hi).
func (c *pageCheck) inRange(id uint64, i int, key, prev, lo, hi []byte) error {
	switch {
	case prev != nil && bytes.Compare(key, prev) <= 0:
		return c.bad(id, "key %d (%s) not above the previous one (%s)", i, quoteKey(key), quoteKey(prev))
	case lo != nil && bytes.Compare(key, lo) < 0:
		return c.bad(id, "key %d (%s) below its parent's range", i, quoteKey(key))
	case hi != nil && bytes.Compare(key, hi) >= 0:
		return c.bad(id, "key %d (%s) above its parent's range", i, quoteKey(key))
	}
	return nil
}

// leaf checks the elements of leaf page id (buf: the page, or an inline
// bucket's page) and the buckets they hold.
func (c *pageCheck) leaf(id uint64, buf []byte, lo, hi []byte, depth int) error {
	ne := binary.NativeEndian
	count := int(ne.Uint16(buf[10:]))
	if count == 0 && lo != nil {
		return c.bad(id, "leaf page without elements below a branch")
	}
	var prev []byte
	for i := range count {
		el := boltPageHeader + 16*i
		if el+16 > len(buf) {
			return c.bad(id, "element %d of %d outside the page", i, count)
		}
		flags := ne.Uint32(buf[el:])
		pos, ksize, vsize := uint64(ne.Uint32(buf[el+4:])), uint64(ne.Uint32(buf[el+8:])), uint64(ne.Uint32(buf[el+12:]))
		start := uint64(el) + pos
		if start+ksize+vsize > uint64(len(buf)) {
			return c.bad(id, "element %d (%d+%d bytes at %d) outside the page", i, ksize, vsize, start)
		}
		key, value := buf[start:start+ksize], buf[start+ksize:start+ksize+vsize]
		if err := c.inRange(id, i, key, prev, lo, hi); err != nil {
			return err
		}
		if i == 0 && lo != nil && !bytes.Equal(key, lo) {
			return c.bad(id, "first key %s is not its parent's %s", quoteKey(key), quoteKey(lo))
		}
		prev = key
		switch flags {
		case 0:
			if c.bucket == "" {
				return c.bad(id, "key %s in the root is not a bucket", quoteKey(key))
			}
			if len(value) != 0 && isIndex(c.bucket) {
				return c.bad(id, "index key %s has a value of %d bytes (index values are empty)", quoteKey(key), len(value))
			}
			if c.bucket == string(bucketEntries) {
				if seq, ok := u64(key); ok && seq > c.lastEntry {
					c.lastEntry = seq
				}
			}
		case 1:
			if err := c.nested(id, key, value, depth); err != nil {
				return err
			}
		default:
			return c.bad(id, "element %d has flags %#x", i, flags)
		}
	}
	return nil
}

// isIndex reports whether the top-level bucket name is an index.
func isIndex(name string) bool {
	return name == string(bucketByCreated) || name == string(bucketByOrder) || name == string(bucketByReceipt) || name == string(bucketByIdem)
}

// nested checks the bucket stored under key in page id. A bucket nested in
// a top-level one is walked as part of it (the journal's own checks reject
// it, naming the transaction).
func (c *pageCheck) nested(id uint64, key, value []byte, depth int) error {
	if len(value) < 16 {
		return c.bad(id, "bucket %s: header of %d bytes", quoteKey(key), len(value))
	}
	ne := binary.NativeEndian
	root, seq := ne.Uint64(value), ne.Uint64(value[8:])
	if seq != 0 {
		return c.bad(id, "bucket %s has sequence %d (the journal never sets one)", quoteKey(key), seq)
	}
	if c.bucket == "" {
		c.bucket = string(key)
		defer func() { c.bucket = "" }()
	}
	if root != 0 {
		if len(value) != 16 {
			return c.bad(id, "bucket %s: header of %d bytes", quoteKey(key), len(value))
		}
		return c.tree(root, nil, nil, depth+1)
	}
	inline := value[16:]
	if len(inline) < boltPageHeader {
		return c.bad(id, "inline bucket %s of %d bytes", quoteKey(key), len(inline))
	}
	if fl := ne.Uint16(inline[8:]); fl != boltLeafFlag {
		return c.bad(id, "inline bucket %s has flags %#x", quoteKey(key), fl)
	}
	return c.leaf(id, inline, nil, nil, depth)
}

// quoteKey shows a key read from the file for an error message, never as
// raw bytes: mostly printable ASCII as a Go-quoted string (other bytes
// escaped), anything else as hex; at most 64 bytes of it.
func quoteKey(k []byte) string {
	more := ""
	if len(k) > 64 {
		k, more = k[:64], "…"
	}
	printable := 0
	for _, b := range k {
		if b >= 0x20 && b < 0x7f {
			printable++
		}
	}
	if 5*printable >= 4*len(k) {
		return strconv.QuoteToASCII(string(k)) + more
	}
	return fmt.Sprintf("0x%x", k) + more
}

// currentMeta reads the file's meta pages and returns the one of txid
// (ok false when neither is).
func currentMeta(f io.ReaderAt, txid uint64) (boltMeta, bool) {
	m0, ok0 := readMeta(f, 0)
	if !ok0 {
		return boltMeta{}, false
	}
	if m0.txid == txid {
		return m0, true
	}
	m1, ok1 := readMeta(f, int64(m0.pageSize))
	if ok1 && m1.txid == txid {
		return m1, true
	}
	return boltMeta{}, false
}

// openForPages opens the journal file for pageCheck's reads.
func openForPages(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: verify: %w", err)
	}
	return f, nil
}
