package journal

import (
	"fmt"
	"slices"

	"github.com/wbpay/wbpay/fsm"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Verify checks the whole journal in one read transaction: every entry's hash
// is recomputed in Seq order and linked to its predecessor, Seqs run from 1
// without a gap up to meta's last seq and hash, every snapshot decodes, sits
// in the right bucket (unfinished ⇔ not terminal) and its entries run from
// StateNew to its state, every entry belongs to exactly one snapshot, the
// indexes hold exactly the keys the snapshots imply, and bbolt's own page
// check passes. Its error wraps ErrCorrupt (a *CorruptError naming the file
// and the first bad entry's seq and txn id where known). On a journal open
// for writing, Appends wait while bbolt's page check runs (the rest of
// Verify reads beside them).
func (j *Journal) Verify() (Report, error) {
	var rep Report
	p := &pos{}
	err := j.view(p, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		m, err := readMetaBucket(j.path, t.meta)
		if err != nil {
			return err
		}
		if err := j.verifyChain(t, p, m, &rep); err != nil {
			return err
		}
		if err := j.verifyTxns(t, p, m, &rep); err != nil {
			return err
		}
		if j.readOnly {
			// No writer can run beside a read-only opener (it holds a
			// shared lock), so bbolt's check may use this read transaction.
			*p = pos{where: "checking bbolt's pages"}
			return j.checkPages(tx)
		}
		return nil
	})
	if err == nil && !j.readOnly {
		// bbolt's check reads the freelist, which a concurrent writer
		// changes: run it in a write transaction (Appends wait meanwhile)
		// and roll that back.
		err = j.guard(&pos{where: "checking bbolt's pages"}, func() error {
			j.mu.RLock()
			defer j.mu.RUnlock()
			if j.closed {
				return ErrClosed
			}
			tx, err := j.db.Begin(true)
			if err != nil {
				return fmt.Errorf("journal: verify: %w", err)
			}
			defer func() { _ = tx.Rollback() }()
			return j.checkPages(tx)
		})
	}
	if err != nil {
		j.log.Error("journal verify failed", zap.String("path", j.path), zap.Error(err))
		return rep, err
	}
	j.log.Info("journal verified", zap.String("path", j.path), zap.Uint64("entries", rep.Entries), zap.Uint64("txns", rep.Txns))
	return rep, nil
}

// checkPages runs bbolt's own page check in tx.
func (j *Journal) checkPages(tx *bolt.Tx) error {
	var first error
	for err := range tx.Check() {
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return j.corrupt(0, "", "bbolt page check: %v", first)
	}
	return nil
}

// verifyChain walks the entries in Seq order, recomputing every hash.
func (j *Journal) verifyChain(t *tables, p *pos, m journalMeta, rep *Report) error {
	next, prev := uint64(1), ""
	*p = pos{seq: next}
	c := t.entries.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		seq, ok := u64(k)
		if !ok {
			return j.corrupt(next, "", "bad entry key %x after entry %d", k, next-1)
		}
		if seq != next {
			return j.corrupt(next, "", "entry missing (the next stored is %d)", seq)
		}
		e, err := decodeEntry(seq, prev, v)
		if err != nil {
			return j.corrupt(seq, e.TxnID, "%v", err)
		}
		prev = e.Hash
		next++
		p.seq = next
		rep.Entries++
	}
	rep.LastSeq, rep.LastHash = next-1, prev
	if rep.LastSeq != m.lastSeq || rep.LastHash != m.lastHash {
		return j.corrupt(0, "", "entries end at %d (hash %q), meta says %d (hash %q)", rep.LastSeq, rep.LastHash, m.lastSeq, m.lastHash)
	}
	return nil
}

// verifyTxns checks every snapshot, unfinished and finished, against its
// entries and the indexes.
func (j *Journal) verifyTxns(t *tables, p *pos, m journalMeta, rep *Report) error {
	var listed, orders, receipts uint64
	for _, live := range []bool{true, false} {
		b, other, name := t.txns, t.unfinished, "finished"
		if live {
			b, other, name = t.unfinished, t.txns, "unfinished"
		}
		*p = pos{where: "reading the first " + name + " snapshot"}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			id := string(k)
			*p = pos{txn: id}
			s, seqs, err := decodeTxn(v)
			if err != nil {
				return j.corrupt(0, id, "%v", err)
			}
			switch {
			case s.ID != id:
				return j.corrupt(0, id, "snapshot stored under %q has id %q", id, s.ID)
			case s.State.Terminal() == live:
				return j.corrupt(0, id, "snapshot in state %q stored among the %s", s.State, name)
			case other.Get(k) != nil:
				return j.corrupt(0, id, "stored both as finished and as unfinished")
			}
			if err := j.verifyTxnEntries(t, p, id, s, seqs); err != nil {
				return err
			}
			listed += uint64(len(seqs))
			last := seqs[len(seqs)-1]

			*p = pos{txn: id, where: "checking the indexes"}
			cr, o, r := indexKeys(s)
			if t.byCreated.Get(cr) == nil {
				return j.corrupt(last, id, "missing from the creation-time index")
			}
			if o != nil && t.byOrder.Get(o) == nil {
				return j.corrupt(last, id, "missing from the order index under %q", s.OrderID)
			}
			if r != nil && t.byReceipt.Get(r) == nil {
				return j.corrupt(last, id, "missing from the receipt index under %q", s.ReceiptNo)
			}
			if o != nil {
				orders++
			}
			if r != nil {
				receipts++
			}
			rep.Txns++
			*p = pos{where: "reading the " + name + " snapshot after txn " + id}
		}
	}
	*p = pos{where: "counting index keys"}
	if listed != rep.Entries {
		return j.orphan(t, p, rep.Entries, listed)
	}
	if rep.Txns != m.txns {
		return j.corrupt(0, "", "%d snapshots stored, meta counts %d", rep.Txns, m.txns)
	}
	for _, x := range []struct {
		name string
		b    *bolt.Bucket
		want uint64
	}{{"creation-time", t.byCreated, rep.Txns}, {"order", t.byOrder, orders}, {"receipt", t.byReceipt, receipts}} {
		if n := countKeys(x.b); n != x.want {
			return j.corrupt(0, "", "%s index has %d keys, the snapshots imply %d", x.name, n, x.want)
		}
	}
	return nil
}

// verifyTxnEntries checks that txn id's entries are its own and run from
// StateNew to its snapshot's state.
func (j *Journal) verifyTxnEntries(t *tables, p *pos, id string, s *Txn, seqs []uint64) error {
	from := fsm.StateNew
	for _, seq := range seqs {
		p.seq = seq
		v := t.entries.Get(seqKey(seq))
		if len(v) < 33 {
			return j.corrupt(seq, id, "listed for txn %s but missing", id)
		}
		e, err := decodeBody(v[32:]) // its hash was checked by verifyChain
		if err != nil {
			return j.corrupt(seq, id, "listed for txn %s: %v", id, err)
		}
		if e.TxnID != id {
			return j.corrupt(seq, id, "listed for txn %s but belongs to %q", id, e.TxnID)
		}
		if e.From != from {
			return j.corrupt(seq, id, "comes from %q but the txn's previous entry went to %q", e.From, from)
		}
		from = e.To
	}
	if from != s.State {
		return j.corrupt(seqs[len(seqs)-1], id, "snapshot state %q, last entry goes to %q", s.State, from)
	}
	return nil
}

// orphan names the first entry that no snapshot lists (Verify found fewer
// listed than stored).
func (j *Journal) orphan(t *tables, p *pos, stored, listed uint64) error {
	c := t.entries.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		seq, _ := u64(k)
		*p = pos{seq: seq}
		e, err := decodeBody(v[32:])
		if err != nil {
			return j.corrupt(seq, "", "%v", err)
		}
		s, seqs, _, err := loadTxn(j.path, t, e.TxnID)
		if err != nil {
			return err
		}
		if s == nil || !slices.Contains(seqs, seq) {
			return j.corrupt(seq, e.TxnID, "belongs to no snapshot")
		}
	}
	return j.corrupt(0, "", "%d entries stored, snapshots list %d", stored, listed)
}

func countKeys(b *bolt.Bucket) uint64 {
	var n uint64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
