package journal

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// chunk is how many records ForEachEntry and ForEachTxn hand out per read
// transaction (ForEachTxn scans at most 16 chunks' worth per transaction);
// the callback runs outside it, so it may call Append. A variable for tests.
var chunk = 256

// loadTxn reads and decodes txn id's snapshot; nil, nil when absent.
func (j *Journal) loadTxn(t *tables, id string) (*Txn, []uint64, error) {
	s, seqs, _, err := loadTxn(j.path, t, id)
	return s, seqs, err
}

// liveTxns decodes every unfinished snapshot, in id order.
func (j *Journal) liveTxns(t *tables, p *pos) ([]*Txn, error) {
	var out []*Txn
	*p = pos{where: "reading the unfinished snapshots"}
	c := t.unfinished.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		id := string(k)
		*p = pos{txn: id}
		s, _, err := j.decodeLive(id, v)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		*p = pos{where: "reading the unfinished snapshots after txn " + id}
	}
	return out, nil
}

// decodeLive decodes the value of unfinished txn id.
func (j *Journal) decodeLive(id string, v []byte) (*Txn, []uint64, error) {
	s, seqs, err := decodeTxn(v)
	switch {
	case err != nil:
		return nil, nil, j.corrupt(0, id, "%v", err)
	case s.ID != id:
		return nil, nil, j.corrupt(0, id, "snapshot stored under %q has id %q", id, s.ID)
	case s.State.Terminal():
		return nil, nil, j.corrupt(0, id, "snapshot in state %q stored among the unfinished", s.State)
	}
	return s, seqs, nil
}

// loadEntry reads entry seq and checks its hash against its predecessor's.
func (j *Journal) loadEntry(t *tables, seq uint64) (Entry, error) {
	v := t.entries.Get(seqKey(seq))
	if v == nil {
		return Entry{}, j.corrupt(seq, "", "entry is missing")
	}
	prev := ""
	if seq > 1 {
		pv := t.entries.Get(seqKey(seq - 1))
		h, ok := storedHash(pv)
		if !ok {
			return Entry{}, j.corrupt(seq-1, "", "entry is missing or too short")
		}
		prev = h
	}
	e, err := decodeEntry(seq, prev, v)
	if errors.Is(err, errBadHash) && seq > 1 {
		// The damage may be in the predecessor's stored hash: blame the
		// first bad entry.
		pp := ""
		if seq > 2 {
			pp, _ = storedHash(t.entries.Get(seqKey(seq - 2)))
		}
		if pe, perr := decodeEntry(seq-1, pp, t.entries.Get(seqKey(seq-1))); perr != nil {
			return e, j.corrupt(seq-1, pe.TxnID, "%v", perr)
		}
	}
	if err != nil {
		return e, j.corrupt(seq, e.TxnID, "%v", err)
	}
	return e, nil
}

// openReport is what Open's checks saw.
type openReport struct {
	lastSeq    uint64
	unfinished int
}

// checkOpen is Open's cheap check: meta present and known, the last entry's
// hash recomputes to meta's, every unfinished snapshot decodes and agrees with
// its last entry. Its cost is O(unfinished), not O(history).
func (j *Journal) checkOpen() (openReport, error) {
	var rep openReport
	p := &pos{where: "reading the meta"}
	err := j.guard(p, func() error {
		return j.db.View(func(tx *bolt.Tx) error {
			t, err := openTables(j.path, tx)
			if err != nil {
				return err
			}
			m, err := readMetaBucket(j.path, t.meta)
			if err != nil {
				return err
			}
			rep.lastSeq = m.lastSeq
			p.where = "reading the last entry"
			k, _ := t.entries.Cursor().Last()
			if m.lastSeq == 0 {
				if k != nil {
					return j.corrupt(0, "", "entries stored but meta says none")
				}
			} else {
				if seq, ok := u64(k); !ok || seq != m.lastSeq {
					return j.corrupt(m.lastSeq, "", "last entry key %x, meta's last seq %d", k, m.lastSeq)
				}
				*p = pos{seq: m.lastSeq}
				e, err := j.loadEntry(t, m.lastSeq)
				if err != nil {
					return err
				}
				if e.Hash != m.lastHash {
					return j.corrupt(m.lastSeq, e.TxnID, "hash %s, meta's last hash %s", e.Hash, m.lastHash)
				}
			}
			*p = pos{where: "reading the unfinished snapshots"}
			c := t.unfinished.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				id := string(k)
				*p = pos{txn: id}
				if err := j.checkUnfinished(t, id, v); err != nil {
					return err
				}
				rep.unfinished++
				*p = pos{where: "reading the unfinished snapshots after txn " + id}
			}
			return nil
		})
	})
	return rep, err
}

// checkUnfinished checks that unfinished txn id's snapshot v decodes, is
// not terminal, is not also stored as finished and agrees with its last entry.
func (j *Journal) checkUnfinished(t *tables, id string, v []byte) error {
	s, seqs, err := j.decodeLive(id, v)
	if err != nil {
		return err
	}
	if t.txns.Get([]byte(id)) != nil {
		return j.corrupt(0, id, "stored both as finished and as unfinished")
	}
	last := seqs[len(seqs)-1]
	e, err := j.loadEntry(t, last)
	if err != nil {
		return err
	}
	if e.TxnID != id || e.To != s.State {
		return j.corrupt(last, id, "last entry is of txn %q to %q, snapshot is %q", e.TxnID, e.To, s.State)
	}
	return nil
}

// readTables is openTables for a read that needs only the named buckets:
// the others stay nil. Open has checked that every bucket exists and none
// is ever deleted, so the read sees the same journal; it just does not
// search the root for buckets it will not use (a third of the cost of a
// snapshot read by id, the daemon's most frequent read). A missing bucket
// is the same *CorruptError.
func readTables(path string, tx *bolt.Tx, names ...[]byte) (*tables, error) {
	t := &tables{}
	for _, name := range names {
		b := tx.Bucket(name)
		if b == nil {
			return nil, &CorruptError{Path: path, Reason: fmt.Sprintf("bucket %q is missing", name)}
		}
		switch {
		case bytes.Equal(name, bucketEntries):
			t.entries = b
		case bytes.Equal(name, bucketTxns):
			t.txns = b
		case bytes.Equal(name, bucketUnfinished):
			t.unfinished = b
		default:
			return nil, fmt.Errorf("journal: readTables does not know bucket %q", name)
		}
	}
	return t, nil
}

// Get returns txn id's snapshot; ErrNotFound when there is none.
func (j *Journal) Get(id string) (*Txn, error) {
	var s *Txn
	err := j.view(&pos{txn: id}, func(tx *bolt.Tx) error {
		t, err := readTables(j.path, tx, bucketUnfinished, bucketTxns)
		if err != nil {
			return err
		}
		s, _, err = j.loadTxn(t, id)
		return err
	})
	if err == nil && s == nil {
		err = fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return s, err
}

// Entries returns txn id's entries in order, each checked against its hash;
// ErrNotFound when there is no such transaction.
func (j *Journal) Entries(id string) ([]Entry, error) {
	var out []Entry
	p := &pos{txn: id}
	err := j.view(p, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		s, seqs, err := j.loadTxn(t, id)
		if err != nil || s == nil {
			return err
		}
		out = make([]Entry, 0, len(seqs))
		for _, seq := range seqs {
			p.seq = seq
			e, err := j.loadEntry(t, seq)
			if err != nil {
				return err
			}
			if e.TxnID != id {
				return j.corrupt(seq, id, "listed for txn %s but belongs to %q", id, e.TxnID)
			}
			out = append(out, e)
		}
		return nil
	})
	if err == nil && out == nil {
		err = fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return out, err
}

// Unfinished returns every transaction not in a terminal state, oldest
// first, read from the unfinished index only.
func (j *Journal) Unfinished() ([]*Txn, error) {
	var out []*Txn
	p := &pos{}
	err := j.view(p, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		out, err = j.liveTxns(t, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortOldest(out)
	return out, nil
}

func sortOldest(ts []*Txn) {
	slices.SortFunc(ts, func(a, b *Txn) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
}

// ByOrderID returns every transaction whose OrderID is orderID (a pay and
// its refunds and reverses), oldest first; none for "".
func (j *Journal) ByOrderID(orderID string) ([]*Txn, error) {
	return j.byPair(bucketByOrder, orderID)
}

// ByReceiptNo returns every transaction whose ReceiptNo is r, oldest first;
// none for "".
func (j *Journal) ByReceiptNo(r string) ([]*Txn, error) {
	return j.byPair(bucketByReceipt, r)
}

// ByIdempotencyKey returns the transaction started with idempotency key
// key, or nil when there is none (or key is "").
func (j *Journal) ByIdempotencyKey(key string) (*Txn, error) {
	ts, err := j.byPair(bucketByIdem, key)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	if len(ts) > 1 {
		return nil, j.corrupt(0, ts[1].ID, "idempotency key %q names %d transactions", key, len(ts))
	}
	return ts[0], nil
}

func (j *Journal) byPair(bucket []byte, value string) ([]*Txn, error) {
	if value == "" {
		return nil, nil
	}
	var out []*Txn
	err := j.view(&pos{}, func(tx *bolt.Tx) error {
		t, err := readTables(j.path, tx, bucketUnfinished, bucketTxns)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucket)
		if b == nil && bytes.Equal(bucket, bucketByIdem) { // by-idem before the first key
			return nil
		}
		if b == nil {
			return &CorruptError{Path: j.path, Reason: fmt.Sprintf("bucket %q is missing", bucket)}
		}
		out, err = j.pairTxns(t, b, value)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortOldest(out)
	return out, nil
}

// pairTxns loads the snapshots listed under value in a by-order or
// by-receipt index.
func (j *Journal) pairTxns(t *tables, b *bolt.Bucket, value string) ([]*Txn, error) {
	var out []*Txn
	prefix := pairKey(value, "")
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id, _ := pairID(k, value)
		s, _, err := j.loadTxn(t, id)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, j.corrupt(0, id, "index lists %q under %q, which has no snapshot", id, value)
		}
		out = append(out, s)
	}
	return out, nil
}

func (q *Query) match(s *Txn) bool {
	return (q.Since.IsZero() || !s.CreatedAt.Before(q.Since)) &&
		(q.Until.IsZero() || s.CreatedAt.Before(q.Until)) &&
		(q.State == "" || s.State == q.State) &&
		(q.Op == 0 || s.Op == q.Op) &&
		(q.OrderID == "" || s.OrderID == q.OrderID) &&
		(q.ReceiptNo == "" || s.ReceiptNo == q.ReceiptNo) &&
		(q.IdempotencyKey == "" || s.IdempotencyKey == q.IdempotencyKey)
}

// indexed returns the transactions matching q when a small index (order,
// receipt, or unfinished for a non-terminal state) serves it; ok is false
// when q must walk the creation-time index instead.
func (j *Journal) indexed(t *tables, q *Query) (out []*Txn, ok bool, err error) {
	var all []*Txn
	switch {
	case q.OrderID != "":
		all, err = j.pairTxns(t, t.byOrder, q.OrderID)
	case q.ReceiptNo != "":
		all, err = j.pairTxns(t, t.byReceipt, q.ReceiptNo)
	case q.IdempotencyKey != "":
		if t.byIdem != nil {
			all, err = j.pairTxns(t, t.byIdem, q.IdempotencyKey)
		}
	case q.State != "" && !q.State.Terminal():
		all, err = j.liveTxns(t, &pos{})
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	for _, s := range all {
		if q.match(s) {
			out = append(out, s)
		}
	}
	sortOldest(out)
	return out, true, nil
}

// List returns the transactions matching q, newest first by CreatedAt (then
// by id), at most q.Limit of them when it is positive. Since and Until seek
// the creation-time index; nothing outside them is read.
func (j *Journal) List(q Query) ([]*Txn, error) {
	var out []*Txn
	p := &pos{}
	err := j.view(p, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		if idx, ok, err := j.indexed(t, &q); ok {
			if err != nil {
				return err
			}
			slices.Reverse(idx)
			if q.Limit > 0 && len(idx) > q.Limit {
				idx = idx[:q.Limit]
			}
			out = idx
			return nil
		}
		c := t.byCreated.Cursor()
		var k []byte
		if q.Until.IsZero() {
			k, _ = c.Last()
		} else if k, _ = c.Seek(seqKey(timeKey(q.Until))); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		var since uint64
		if !q.Since.IsZero() {
			since = timeKey(q.Since)
		}
		for ; k != nil; k, _ = c.Prev() {
			if len(k) <= 8 {
				return j.corrupt(0, "", "creation-time index key %x is too short", k)
			}
			if ts, _ := u64(k[:8]); ts < since {
				break
			}
			p.txn = string(k[8:])
			s, err := j.createdTxn(t, p.txn)
			if err != nil {
				return err
			}
			if q.match(s) {
				out = append(out, s)
				if q.Limit > 0 && len(out) == q.Limit {
					break
				}
			}
			*p = pos{where: "reading the creation-time index before txn " + p.txn}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForEachTxn calls fn for every transaction matching q, oldest first, at most
// q.Limit times when it is positive, and stops at fn's first error, which it
// returns. Transactions are read in chunks, each in its own read transaction,
// and fn runs outside them: fn may call Append, and a transaction journaled
// meanwhile may or may not be seen.
func (j *Journal) ForEachTxn(q Query, fn func(*Txn) error) error {
	var (
		idx     []*Txn
		indexed bool
	)
	err := j.view(&pos{}, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		idx, indexed, err = j.indexed(t, &q)
		return err
	})
	if err != nil {
		return err
	}
	n := 0
	if indexed {
		for _, s := range idx {
			if q.Limit > 0 && n == q.Limit {
				return nil
			}
			if err := fn(s); err != nil {
				return err
			}
			n++
		}
		return nil
	}
	var after []byte // last key handed out
	var until uint64
	if !q.Until.IsZero() {
		until = timeKey(q.Until)
	}
	for {
		var batch []*Txn
		var done bool
		p := &pos{}
		err := j.view(p, func(tx *bolt.Tx) error {
			t, err := openTables(j.path, tx)
			if err != nil {
				return err
			}
			c := t.byCreated.Cursor()
			var k []byte
			switch {
			case after != nil:
				if k, _ = c.Seek(after); bytes.Equal(k, after) {
					k, _ = c.Next()
				}
			case !q.Since.IsZero():
				k, _ = c.Seek(seqKey(timeKey(q.Since)))
			default:
				k, _ = c.First()
			}
			done = true // unless the chunk fills first
			for scanned := 0; k != nil; k, _ = c.Next() {
				if len(batch) == chunk || scanned == 16*chunk {
					done = false
					break
				}
				scanned++
				if len(k) <= 8 {
					return j.corrupt(0, "", "creation-time index key %x is too short", k)
				}
				if ts, _ := u64(k[:8]); until != 0 && ts >= until {
					break
				}
				after = slices.Clone(k)
				p.txn = string(k[8:])
				s, err := j.createdTxn(t, p.txn)
				if err != nil {
					return err
				}
				if q.match(s) {
					batch = append(batch, s)
				}
				*p = pos{where: "reading the creation-time index after txn " + p.txn}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, s := range batch {
			if q.Limit > 0 && n == q.Limit {
				return nil
			}
			if err := fn(s); err != nil {
				return err
			}
			n++
		}
		if done {
			return nil
		}
	}
}

// ForEachEntry calls fn for every entry in Seq order, each checked against
// its hash and its predecessor, and stops at fn's first error, which it
// returns. Entries are read in chunks outside of which fn runs (fn may call
// Append; entries appended meanwhile are seen).
func (j *Journal) ForEachEntry(fn func(Entry) error) error { return j.EntriesFrom(1, fn) }

// EntriesFrom is ForEachEntry starting at Seq from (1 for the whole
// history): each entry is checked against its hash, and the first against
// the hash stored in entry from-1. A from past the last entry calls fn
// for nothing. Readers that follow the journal (the daemon's event stream,
// shipping) call it again from their last Seq + 1 after Changed fires.
func (j *Journal) EntriesFrom(from uint64, fn func(Entry) error) error {
	if from == 0 {
		from = 1
	}
	next, prev := from, ""
	for {
		var batch []Entry
		p := &pos{seq: next}
		err := j.view(p, func(tx *bolt.Tx) error {
			t, err := readTables(j.path, tx, bucketEntries)
			if err != nil {
				return err
			}
			c := t.entries.Cursor()
			if next == from && from > 1 {
				k, v := c.Seek(seqKey(from - 1))
				if seq, ok := u64(k); !ok || seq != from-1 {
					if k == nil {
						return nil // nothing at or after from-1: the journal is shorter
					}
					return j.corrupt(from-1, "", "entry missing (next key %x)", k)
				}
				h, ok := storedHash(v)
				if !ok {
					return j.corrupt(from-1, "", "value of %d bytes is too short", len(v))
				}
				prev = h
			}
			for k, v := c.Seek(seqKey(next)); k != nil && len(batch) < chunk; k, v = c.Next() {
				seq, ok := u64(k)
				p.seq = seq
				if !ok || seq != next {
					return j.corrupt(next, "", "entry missing (next key %x)", k)
				}
				e, err := decodeEntry(seq, prev, v)
				if err != nil {
					return j.corrupt(seq, e.TxnID, "%v", err)
				}
				batch = append(batch, e)
				next, prev = seq+1, e.Hash
				p.seq = next
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(batch) < chunk {
			return nil
		}
	}
}

// LastSeq returns the Seq of the last entry (0 for an empty journal),
// reading the meta only.
func (j *Journal) LastSeq() (uint64, error) {
	m, err := j.meta()
	return m.lastSeq, err
}

// meta reads the meta bucket in a read transaction of its own.
func (j *Journal) meta() (journalMeta, error) {
	var m journalMeta
	err := j.viewMeta("reading the meta", func(b *bolt.Bucket) (err error) {
		m, err = readMetaBucket(j.path, b)
		return err
	})
	return m, err
}

// viewMeta calls fn with the meta bucket in a read transaction of its own
// (where names the read in errors).
func (j *Journal) viewMeta(where string, fn func(*bolt.Bucket) error) error {
	return j.view(&pos{where: where}, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		return fn(t.meta)
	})
}

// Stats returns cheap counters and sizes; it reads no history.
func (j *Journal) Stats() (Stats, error) {
	var st Stats
	err := j.view(&pos{}, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		m, err := readMetaBucket(j.path, t.meta)
		if err != nil {
			return err
		}
		st.Entries, st.LastSeq, st.Txns = m.lastSeq, m.lastSeq, m.txns
		c := t.unfinished.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			st.Unfinished++
		}
		st.PageSize = tx.DB().Info().PageSize
		st.DataBytes = tx.Size()
		ds := tx.DB().Stats()
		st.FreeBytes = int64(ds.FreePageN+ds.PendingPageN) * int64(st.PageSize)
		return nil
	})
	if err != nil {
		return st, err
	}
	fi, err := os.Stat(j.path)
	if err != nil {
		return st, fmt.Errorf("journal stats: %w", err)
	}
	st.FileBytes = fi.Size()
	return st, nil
}

// createdTxn loads the snapshot that a creation-time index entry names; an
// entry without a snapshot is damage.
func (j *Journal) createdTxn(t *tables, id string) (*Txn, error) {
	s, _, err := j.loadTxn(t, id)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, j.corrupt(0, id, "creation-time index lists %q, which has no snapshot", id)
	}
	return s, nil
}
