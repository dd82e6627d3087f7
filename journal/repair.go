package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
	"go.uber.org/zap"
)

// BrokenSuffix is appended to a damaged journal's name by Repair, which
// keeps the file there untouched.
const BrokenSuffix = layout.BrokenSuffix

// RepairOptions configure Repair.
type RepairOptions struct {
	// ID is the id the rebuilt journal gets: the home's journal id. ""
	// keeps the damaged journal's own id when its meta can still be read,
	// else draws a new one.
	ID     string
	Logger *zap.Logger // nil means zap.NewNop()
	// Now stamps the report (nil: time.Now).
	Now func() time.Time
}

// SeqRange is a range of Seqs, both ends included.
type SeqRange struct{ From, To uint64 }

func (r SeqRange) String() string {
	if r.From == r.To {
		return fmt.Sprint(r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// LostTxn is a transaction that Repair could not carry over whole.
type LostTxn struct {
	ID      string
	Carried int    // of its entries, how many the rebuilt journal holds (0: the transaction is not in it)
	Reason  string // why
}

// RepairReport says what Repair did: what the rebuilt journal holds, and
// exactly what it could not carry over, by the damaged journal's Seqs.
type RepairReport struct {
	Path       string // the rebuilt journal (the path Repair was given)
	Broken     string // where the damaged file is kept, untouched
	Damage     string // what Verify said of the damaged file
	Entries    uint64 // entries carried over
	Txns       int    // transactions carried over
	Unfinished int    // of them, how many are not finished: recovery finishes them
	LastSeq    uint64 // the highest Seq found in the damaged file
	Lost       []SeqRange
	LostTxns   []LostTxn
	Renumbered bool // entries after the first lost one have new Seqs (and hashes)
}

// Repair rebuilds the journal at path, which Verify finds damaged, from the
// entries of the damaged file whose hash verifies, and keeps the damaged
// file beside it untouched as path+BrokenSuffix. It never overwrites a file:
// it fails when path+BrokenSuffix exists. The damaged file's pages are read
// with ReadAt, every page that looks like a bbolt leaf, reachable or not
// (stale copies in free pages count too): an entry is carried over when its
// stored hash recomputes from its body and the stored hash of the entry
// before it, in Seq order; the transaction's entries are carried over up to
// the first one missing; snapshots are the newest intact copy found, their
// state set to the last carried entry's, and the indexes are derived
// again by Append. A transaction whose snapshot is lost entirely is carried
// over only when its carried entries end in a terminal state (its fields
// then hold only what the entries say). The rebuilt journal passes Verify
// before it takes path's place. ErrLocked when an engine holds the file;
// an error (nothing changed) when the journal is not damaged.
func Repair(path string, opts RepairOptions) (*RepairReport, error) {
	lg := opts.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	rep := &RepairReport{Path: path, Broken: path + BrokenSuffix}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("repair: %w", err)
	}
	defer f.Close()
	unlock, err := lockFile(f)
	if err != nil {
		return nil, fmt.Errorf("repair %s: %w", path, err)
	}
	defer unlock()

	oldID, damage := verifyForRepair(path)
	if damage == nil {
		return nil, fmt.Errorf("repair: %s verifies intact: nothing to repair", path)
	}
	rep.Damage = damage.Error()
	if _, err := os.Lstat(rep.Broken); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("repair: %s exists: an earlier repair's copy is never overwritten (move it away first)", rep.Broken)
	}
	id := opts.ID
	if id == "" {
		id = oldID
	}

	s, err := salvage(f)
	if err != nil {
		return nil, fmt.Errorf("repair %s: %w", path, err)
	}
	tmp := filepath.Join(filepath.Dir(path), filepath.Base(path)+layout.RepairingInfix+now().UTC().Format("20060102T150405.000000000"))
	if err := rebuild(tmp, id, s, rep, lg); err != nil {
		_ = os.Remove(tmp)
		return nil, err
	}
	if err := swapIn(path, rep.Broken, tmp); err != nil {
		_ = os.Remove(tmp)
		return nil, err
	}
	lg.Warn("journal repaired", zap.String("path", path), zap.String("broken", rep.Broken), zap.Uint64("entries", rep.Entries),
		zap.Int("txns", rep.Txns), zap.Int("lost-ranges", len(rep.Lost)), zap.Int("lost-txns", len(rep.LostTxns)))
	return rep, nil
}

// verifyForRepair runs Verify on path read-only: the journal's id when its
// meta could be read, and the damage (nil when it is intact).
func verifyForRepair(path string) (id string, damage error) {
	j, err := Open(path, Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return "", err
		}
		return "", fmt.Errorf("%w: cannot be opened: %v", ErrCorrupt, err)
	}
	defer j.Close()
	id, _ = j.ID()
	if _, err := j.Verify(); err != nil {
		return id, err
	}
	return id, nil
}

// salvaged is what salvage found in the damaged file's pages.
type salvaged struct {
	entries map[uint64][][]byte // candidate values by seq (distinct)
	snaps   map[string][]byte   // the newest intact snapshot by txn id
	snapTop map[string]uint64   // its last seq
	maxSeq  uint64
}

// salvage reads every page of f that looks like a bbolt leaf page (or holds
// inline buckets) and collects what decodes as an entry or a snapshot.
func salvage(f *os.File) (*salvaged, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ps := int64(4096)
	if m, ok := readMeta(f, 0); ok {
		ps = int64(m.pageSize)
	} else if m, ok := readMeta(f, 4096); ok {
		ps = int64(m.pageSize)
	}
	s := &salvaged{entries: map[uint64][][]byte{}, snaps: map[string][]byte{}, snapTop: map[string]uint64{}}
	buf := make([]byte, ps)
	for id := int64(2); (id+1)*ps <= fi.Size(); id++ {
		if _, err := f.ReadAt(buf[:ps], id*ps); err != nil {
			return nil, err
		}
		ne := binary.NativeEndian
		if ne.Uint64(buf) != uint64(id) || ne.Uint16(buf[8:]) != boltLeafFlag {
			continue
		}
		page := buf[:ps]
		if over := int64(ne.Uint32(buf[12:])); over > 0 && over < fi.Size()/ps-id {
			page = make([]byte, (over+1)*ps)
			if _, err := f.ReadAt(page, id*ps); err != nil {
				return nil, err
			}
		}
		s.leaf(page, 0)
	}
	return s, nil
}

// leaf collects the elements of one leaf page (or inline bucket page),
// trusting none of its offsets.
func (s *salvaged) leaf(page []byte, depth int) {
	ne := binary.NativeEndian
	count := int(ne.Uint16(page[10:]))
	for i := range count {
		el := boltPageHeader + 16*i
		if el+16 > len(page) {
			return
		}
		flags := ne.Uint32(page[el:])
		pos, ksize, vsize := uint64(ne.Uint32(page[el+4:])), uint64(ne.Uint32(page[el+8:])), uint64(ne.Uint32(page[el+12:]))
		start := uint64(el) + pos
		if start+ksize+vsize > uint64(len(page)) {
			continue
		}
		key, value := page[start:start+ksize], page[start+ksize:start+ksize+vsize]
		switch {
		case flags == 1 && depth == 0 && len(value) >= 16+boltPageHeader && ne.Uint64(value) == 0:
			s.leaf(value[16:], depth+1) // an inline bucket
		case flags == 0:
			s.element(key, value)
		}
	}
}

// element keeps key/value when it decodes as an entry or a snapshot.
func (s *salvaged) element(key, value []byte) {
	if seq, ok := u64(key); ok && seq > 0 && len(value) > sha256.Size {
		if _, err := decodeBody(value[sha256.Size:]); err == nil {
			for _, c := range s.entries[seq] {
				if bytes.Equal(c, value) {
					return
				}
			}
			s.entries[seq] = append(s.entries[seq], bytes.Clone(value))
			s.maxSeq = max(s.maxSeq, seq)
			return
		}
	}
	if len(key) == 0 || len(key) > maxKeyPart {
		return
	}
	t, seqs, err := decodeTxn(value)
	if err != nil || t.ID != string(key) {
		return
	}
	if top := seqs[len(seqs)-1]; s.snaps[t.ID] == nil || top > s.snapTop[t.ID] {
		s.snaps[t.ID], s.snapTop[t.ID] = bytes.Clone(value), top
	}
}

// verified returns the entries whose hash recomputes from their body and
// the stored hash of a candidate for the entry before them, by seq.
func (s *salvaged) verified() map[uint64]Entry {
	out := map[uint64]Entry{}
	for seq := uint64(1); seq <= s.maxSeq; seq++ {
		var prevs []string
		if seq == 1 {
			prevs = []string{""}
		}
		for _, p := range s.entries[seq-1] {
			if h, ok := storedHash(p); ok {
				prevs = append(prevs, h)
			}
		}
	found:
		for _, c := range s.entries[seq] {
			for _, ph := range prevs {
				if e, err := decodeEntry(seq, ph, c); err == nil {
					out[seq] = e
					break found
				}
			}
		}
	}
	return out
}

// rebuild writes the new journal at tmp from s, filling rep, and verifies it.
func rebuild(tmp, id string, s *salvaged, rep *RepairReport, lg *zap.Logger) error {
	good := s.verified()
	rep.LastSeq = s.maxSeq

	// Per txn, the entries that can be carried: in Seq order, up to the
	// first whose From is not where the carried ones left it.
	type plan struct {
		seqs  []uint64
		state fsm.State
		cut   bool // an entry of it was lost or broke its sequence
		snap  *Txn
	}
	plans := map[string]*plan{}
	var order []string
	for seq := uint64(1); seq <= s.maxSeq; seq++ {
		e, ok := good[seq]
		if !ok {
			continue
		}
		p := plans[e.TxnID]
		if p == nil {
			p = &plan{state: fsm.StateNew}
			plans[e.TxnID] = p
			order = append(order, e.TxnID)
		}
		if p.cut || e.From != p.state {
			p.cut = true
			continue
		}
		p.seqs, p.state = append(p.seqs, seq), e.To
	}
	lost := map[string]string{}
	for id, v := range s.snaps {
		t, seqs, _ := decodeTxn(v)
		p := plans[id]
		if p == nil {
			lost[id] = "none of its entries is intact"
			continue
		}
		p.snap = t
		if len(seqs) > len(p.seqs) || !slices.Equal(seqs[:min(len(seqs), len(p.seqs))], p.seqs[:min(len(seqs), len(p.seqs))]) {
			p.cut = true
		}
	}
	for _, id := range order {
		p := plans[id]
		switch {
		case len(p.seqs) == 0:
			lost[id] = "its first entry is lost"
		case p.snap == nil && !p.state.Terminal():
			lost[id] = fmt.Sprintf("its snapshot is lost and its entries end in %s, not finished: the gateway's record decides (a person must check it)", p.state)
			p.seqs = nil
		case p.snap == nil:
			op, _ := paytree.ParseOperation(good[p.seqs[0]].Kind)
			first := good[p.seqs[0]]
			p.snap = &Txn{ID: id, Op: op, CreatedAt: first.Time}
			lost[id] = "its snapshot is lost: rebuilt from its entries alone (amount, order id and request fields unknown)"
		case p.cut:
			lost[id] = fmt.Sprintf("entries after the first %d are lost: carried up to state %s", len(p.seqs), p.state)
		}
	}

	j, err := Open(tmp, Options{ID: id, Logger: lg})
	if err != nil {
		return fmt.Errorf("repair: create %s: %w", tmp, err)
	}
	j.db.NoSync = true // one fsync at the end instead of two per entry
	closeJ := func() error {
		if j == nil {
			return nil
		}
		err := j.db.Sync()
		if cerr := j.Close(); err == nil {
			err = cerr
		}
		j = nil
		return err
	}
	defer func() { _ = closeJ() }()
	carried := map[uint64]bool{}
	txns := map[string]bool{}
	for seq := uint64(1); seq <= s.maxSeq; seq++ {
		e, ok := good[seq]
		if !ok {
			continue
		}
		p := plans[e.TxnID]
		if !slices.Contains(p.seqs, seq) {
			continue
		}
		snap := *p.snap
		snap.State, snap.UpdatedAt = e.To, e.Time
		ne := e
		ne.Seq, ne.PrevHash, ne.Hash = 0, "", ""
		if err := j.Append(&ne, &snap); err != nil {
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) {
				lost[e.TxnID] = fmt.Sprintf("entry %d cannot be journaled again: %v", seq, err)
				continue
			}
			return fmt.Errorf("repair: write %s: %w", tmp, err)
		}
		if ne.Seq != seq {
			rep.Renumbered = true
		}
		carried[seq] = true
		txns[e.TxnID] = true
		rep.Entries++
	}
	for id := range txns {
		if !plans[id].state.Terminal() {
			rep.Unfinished++
		}
	}
	rep.Txns = len(txns)
	if err := closeJ(); err != nil {
		return fmt.Errorf("repair: write %s: %w", tmp, err)
	}
	for seq := uint64(1); seq <= s.maxSeq; seq++ {
		if carried[seq] {
			continue
		}
		if n := len(rep.Lost); n > 0 && rep.Lost[n-1].To == seq-1 {
			rep.Lost[n-1].To = seq
		} else {
			rep.Lost = append(rep.Lost, SeqRange{seq, seq})
		}
	}
	for id, why := range lost {
		n := 0
		if txns[id] {
			n = len(plans[id].seqs)
		}
		rep.LostTxns = append(rep.LostTxns, LostTxn{ID: id, Carried: n, Reason: why})
	}
	slices.SortFunc(rep.LostTxns, func(a, b LostTxn) int { return compareStr(a.ID, b.ID) })

	nj, err := Open(tmp, Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("repair: the rebuilt journal: %w", err)
	}
	defer nj.Close()
	if _, err := nj.Verify(); err != nil {
		return fmt.Errorf("repair: the rebuilt journal does not verify (nothing was changed): %w", err)
	}
	return nil
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// swapIn keeps the damaged file at path as broken (never overwriting one)
// and puts the rebuilt journal tmp at path.
func swapIn(path, broken, tmp string) error {
	if err := os.Link(path, broken); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("repair: %s exists: never overwritten", broken)
		}
		if _, serr := os.Lstat(broken); !errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("repair: keep %s: %w", broken, err)
		}
		if err := os.Rename(path, broken); err != nil { // no hard links here
			return fmt.Errorf("repair: keep %s: %w", broken, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("repair: put the rebuilt journal at %s (the damaged one is kept as %s): %w", path, broken, err)
	}
	return syncDir(filepath.Dir(path))
}
