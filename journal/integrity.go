package journal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// NewID returns a fresh random journal id: 32 lower-case hex digits.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("journal: new id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// validID reports whether id is 32 lower-case hex digits.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ID returns the journal's id, recorded in its meta when it was created;
// "" for a journal older than ids (see EnsureID).
func (j *Journal) ID() (string, error) {
	m, err := j.meta()
	return m.id, err
}

// EnsureID returns the journal's id, first recording a new one in its meta
// (one durable commit) when the journal has none. ErrReadOnly when it has
// none and the journal is read-only.
func (j *Journal) EnsureID() (string, error) {
	id, err := j.ID()
	if err != nil || id != "" {
		return id, err
	}
	if j.readOnly {
		return "", ErrReadOnly
	}
	if id, err = NewID(); err != nil {
		return "", err
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return "", ErrClosed
	}
	err = j.guard(&pos{where: "recording the journal id"}, func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			t, err := openTables(j.path, tx)
			if err != nil {
				return err
			}
			m, err := readMetaBucket(j.path, t.meta)
			if err != nil || m.id != "" {
				id = m.id
				return err
			}
			return t.meta.Put(metaID, []byte(id))
		})
	})
	if err != nil {
		return "", err
	}
	j.log.Info("journal id recorded", zap.String("path", j.path), zap.String("journal-id", id))
	return id, nil
}

// Damaged returns the first damage (a *CorruptError) that Verify or
// CheckRecent found in this journal since it was opened; nil while none
// was found. Safe for concurrent use.
func (j *Journal) Damaged() error {
	if p := j.damaged.Load(); p != nil {
		return *p
	}
	return nil
}

// setDamaged records err as the journal's damage when it reports damage
// and none was recorded before.
func (j *Journal) setDamaged(err error) {
	if errors.Is(err, ErrCorrupt) {
		j.damaged.CompareAndSwap(nil, &err)
	}
}

// markVerified raises the verified mark that the next Append stores.
func (j *Journal) markVerified(seq uint64) {
	for {
		old := j.verified.Load()
		if seq <= old || j.verified.CompareAndSwap(old, seq) {
			return
		}
	}
}

// Recent is what CheckRecent checked.
type Recent struct {
	From, To uint64 // the entries checked: From+1 … To (none when equal)
	Txns     int    // snapshots checked against them
	Legacy   bool   // the journal had no verified mark: nothing was checked, the mark starts at To
}

// CheckRecent checks what was appended since the verified mark, the last
// Seq that a Verify or an earlier CheckRecent found intact: each newer
// entry's hash and link, and each transaction they belong to (its snapshot
// decodes, lists them, ends in the state the last of them goes to, and has
// its index keys). Its cost grows with the entries written since the mark,
// not with the history. On success the mark moves to the last entry (stored
// with the next Append); damage is returned as a *CorruptError and recorded
// (Damaged). A journal without a mark (written before it existed) is
// trusted up to its last entry: only Verify checks its history.
func (j *Journal) CheckRecent() (Recent, error) {
	var r Recent
	p := &pos{where: "reading the meta"}
	err := j.view(p, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		m, err := readMetaBucket(j.path, t.meta)
		if err != nil {
			return err
		}
		r.From, r.To = m.verified, m.lastSeq
		if !m.hasVerified {
			r.From, r.Legacy = m.lastSeq, true
			return nil
		}
		if r.From == r.To {
			return nil
		}
		return j.checkSince(t, p, &r)
	})
	if err != nil {
		j.log.Error("journal check of recent entries failed", zap.String("path", j.path), zap.Error(err))
		j.setDamaged(err)
		return r, err
	}
	j.markVerified(r.To)
	if r.To > r.From {
		j.recent.Store(true)
	}
	return r, nil
}

// checkSince is CheckRecent's work on entries r.From+1 … r.To: the chain
// is recomputed in place (decodeEntry only runs to name damage), and one
// entry per transaction is decoded to find its snapshot.
func (j *Journal) checkSince(t *tables, p *pos, r *Recent) error {
	var ch chain
	if r.From > 0 {
		*p = pos{seq: r.From}
		v := t.entries.Get(seqKey(r.From))
		if len(v) < sha256.Size {
			return j.corrupt(r.From, "", "entry is missing or too short")
		}
		ch.set(v[:sha256.Size])
	}
	type seen struct {
		seqs []uint64
		last []byte // the value of its last entry
	}
	txns := map[string]*seen{}
	var order []string
	c := t.entries.Cursor()
	next := r.From + 1
	for k, v := c.Seek(seqKey(next)); k != nil; k, v = c.Next() {
		seq, ok := u64(k)
		*p = pos{seq: next}
		if !ok {
			return j.corrupt(next, "", "bad entry key %s after entry %d", quoteKey(k), next-1)
		}
		if seq != next {
			return j.corrupt(next, "", "entry missing (the next stored is %d)", seq)
		}
		var id []byte
		if len(v) > sha256.Size {
			id, _, _, ok = scanBody(v[sha256.Size:])
		}
		if !ok || !ch.link(seq, v) {
			e, err := decodeEntry(seq, ch.hash(), v)
			if err == nil {
				err = errors.New("the entry reads differently in place and decoded")
			}
			return j.corrupt(seq, e.TxnID, "%v", err)
		}
		s := txns[string(id)]
		if s == nil {
			s = &seen{}
			txns[string(id)] = s
			order = append(order, string(id))
		}
		s.seqs, s.last = append(s.seqs, seq), v
		next++
	}
	if next-1 != r.To {
		return j.corrupt(next, "", "entries end at %d, meta says %d", next-1, r.To)
	}
	for _, key := range order {
		s := txns[key]
		last := s.seqs[len(s.seqs)-1]
		e, err := decodeBody(s.last[sha256.Size:])
		if err != nil { // not reached: scanBody read it
			return j.corrupt(last, "", "%v", err)
		}
		id := e.TxnID
		*p = pos{seq: last, txn: id}
		snap, seqs, _, err := loadTxn(j.path, t, id)
		switch {
		case err != nil:
			return err
		case snap == nil:
			return j.corrupt(last, id, "belongs to no snapshot")
		case seqs[len(seqs)-1] != last:
			return j.corrupt(last, id, "the snapshot's last entry is %d", seqs[len(seqs)-1])
		case snap.State != e.To:
			return j.corrupt(last, id, "snapshot state %q, last entry goes to %q", snap.State, e.To)
		}
		if err := listsAll(seqs, s.seqs); err != nil {
			return j.corrupt(last, id, "%v", err)
		}
		cr, o, rc, ik := indexKeys(snap)
		if t.byCreated.Get(cr) == nil {
			return j.corrupt(last, id, "missing from the creation-time index")
		}
		if ik != nil && (t.byIdem == nil || t.byIdem.Get(ik) == nil) {
			return j.corrupt(last, id, "missing from the idempotency index under %q", snap.IdempotencyKey)
		}
		if o != nil && t.byOrder.Get(o) == nil {
			return j.corrupt(last, id, "missing from the order index under %q", snap.OrderID)
		}
		if rc != nil && t.byReceipt.Get(rc) == nil {
			return j.corrupt(last, id, "missing from the receipt index under %q", snap.ReceiptNo)
		}
		r.Txns++
	}
	return nil
}

// listsAll checks that the sorted seqs hold every one of want (sorted).
func listsAll(seqs, want []uint64) error {
	i := 0
	for _, w := range want {
		for i < len(seqs) && seqs[i] < w {
			i++
		}
		if i == len(seqs) || seqs[i] != w {
			return fmt.Errorf("entry %d is not listed by its snapshot", w)
		}
	}
	return nil
}
