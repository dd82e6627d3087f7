package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/wbpay/wbpay/fsm"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Verify checks the whole journal in one read transaction: every entry's hash
// is recomputed in Seq order and linked to its predecessor, Seqs run from 1
// without a gap up to meta's last seq and hash, every snapshot decodes and its
// entries run from StateNew to its state, every entry belongs to exactly one
// snapshot, the indexes hold exactly the keys the snapshots imply (the
// unfinished index is the set of non-terminal snapshots), and bbolt's own page
// check passes. Its error wraps ErrCorrupt (a *CorruptError naming the file
// and the first bad entry's seq and txn id where known).
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
		*p = pos{where: "reading the first snapshot"}
		if err := j.verifyTxns(t, p, m, &rep); err != nil {
			return err
		}
		*p = pos{where: "checking bbolt's pages"}
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
	})
	if err != nil {
		j.log.Error("journal verify failed", zap.String("path", j.path), zap.Error(err))
		return rep, err
	}
	j.log.Info("journal verified", zap.String("path", j.path), zap.Uint64("entries", rep.Entries), zap.Uint64("txns", rep.Txns))
	return rep, nil
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

// verifyTxns checks every snapshot against its entries and the indexes.
func (j *Journal) verifyTxns(t *tables, p *pos, m journalMeta, rep *Report) error {
	var listed, unfinished, orders, receipts uint64
	c := t.txns.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		id := string(k)
		*p = pos{txn: id}
		s, seqs, err := decodeTxn(v)
		if err != nil {
			return j.corrupt(0, id, "%v", err)
		}
		if s.ID != id {
			return j.corrupt(0, id, "snapshot stored under %q has id %q", id, s.ID)
		}
		from := fsm.StateNew
		for _, seq := range seqs {
			p.seq = seq
			b, err := decodeBody(t.entries.Get(seqKey(seq)))
			if err != nil {
				return j.corrupt(seq, id, "listed for txn %s: %v", id, err)
			}
			if b.TxnID != id {
				return j.corrupt(seq, id, "listed for txn %s but belongs to %q", id, b.TxnID)
			}
			if b.From != from {
				return j.corrupt(seq, id, "comes from %q but the txn's previous entry went to %q", b.From, from)
			}
			from = b.To
		}
		last := seqs[len(seqs)-1]
		if from != s.State {
			return j.corrupt(last, id, "snapshot state %q, last entry goes to %q", s.State, from)
		}
		listed += uint64(len(seqs))

		*p = pos{txn: id, where: "checking the indexes"}
		u, cr, o, r := indexKeys(s)
		if (u != nil) != (t.unfinished.Get([]byte(id)) != nil) {
			return j.corrupt(last, id, "unfinished index disagrees with state %q", s.State)
		}
		if t.byCreated.Get(cr) == nil {
			return j.corrupt(last, id, "missing from the creation-time index")
		}
		if o != nil && t.byOrder.Get(o) == nil {
			return j.corrupt(last, id, "missing from the order index under %q", s.OrderID)
		}
		if r != nil && t.byReceipt.Get(r) == nil {
			return j.corrupt(last, id, "missing from the receipt index under %q", s.ReceiptNo)
		}
		if u != nil {
			unfinished++
		}
		if o != nil {
			orders++
		}
		if r != nil {
			receipts++
		}
		rep.Txns++
		*p = pos{where: "reading the snapshot after txn " + id}
	}
	*p = pos{where: "counting index keys"}
	if listed != rep.Entries {
		return j.corrupt(0, "", "%d entries stored, snapshots list %d", rep.Entries, listed)
	}
	if rep.Txns != m.txns {
		return j.corrupt(0, "", "%d snapshots stored, meta counts %d", rep.Txns, m.txns)
	}
	for _, x := range []struct {
		name string
		b    *bolt.Bucket
		want uint64
	}{{"unfinished", t.unfinished, unfinished}, {"creation-time", t.byCreated, rep.Txns},
		{"order", t.byOrder, orders}, {"receipt", t.byReceipt, receipts}} {
		if n := countKeys(x.b); n != x.want {
			return j.corrupt(0, "", "%s index has %d keys, the snapshots imply %d", x.name, n, x.want)
		}
	}
	return nil
}

func countKeys(b *bolt.Bucket) uint64 {
	var n uint64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// decodeBody decodes an entry's body without checking its hash (Verify
// checked every hash already).
func decodeBody(value []byte) (entryBody, error) {
	var b entryBody
	if len(value) < sha256.Size+2 {
		return b, fmt.Errorf("entry missing or too short")
	}
	dec := json.NewDecoder(bytes.NewReader(value[sha256.Size:]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("undecodable body: %v", err)
	}
	return b, nil
}
