package journal

import (
	"encoding/hex"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// metaShippedSeq is the meta key of the last Seq a shipper had acknowledged
// by its server (8 bytes big-endian; absent until the first SetShippedSeq).
var metaShippedSeq = []byte("shipped-seq")

// EntryHash returns the hex hash of entry seq whose stored body is body and
// whose predecessor's hex hash is prevHash ("" for seq 1): the journal's
// chain function (doc.go, "The hash chain"). HQ recomputes chains with it.
func EntryHash(prevHash string, seq uint64, body []byte) string {
	sum := entryHash(prevHash, seq, body)
	return hex.EncodeToString(sum[:])
}

// DecodeBody reads an entry's body as stored (see doc.go) into an Entry
// without Seq, PrevHash and Hash. It never panics; damage is an error
// naming the field.
func DecodeBody(body []byte) (Entry, error) { return decodeBody(body) }

// RawEntry is an entry exactly as stored, for shipping: its Seq, its stored
// hash and its predecessor's (hex), its body bytes (a copy), and the
// transaction's snapshot as it stands when read.
type RawEntry struct {
	Seq      uint64
	Hash     string // stored hash, hex (not recomputed: damage is shipped as found)
	PrevHash string // stored hash of entry Seq-1, hex; "" for Seq 1
	Body     []byte
	TxnID    string // from the body; "" when the body does not decode
	// Snapshot is the transaction's latest snapshot when read (nil when the
	// body does not decode or the snapshot is missing); SnapshotSeq is the
	// Seq of its last entry, so that a reader keeps the newest one.
	Snapshot    *Txn
	SnapshotSeq uint64
}

// RawEntries returns up to max entries (all when max ≤ 0) from Seq from on,
// as stored, in one read transaction. It does not check hashes (a shipper
// ships what it finds; the receiver verifies), only that the Seqs run
// without a gap: a missing entry is a *CorruptError. A from past the last
// entry returns none.
func (j *Journal) RawEntries(from uint64, max int) ([]RawEntry, error) {
	if from == 0 {
		from = 1
	}
	var out []RawEntry
	p := &pos{seq: from}
	err := j.view(p, func(tx *bolt.Tx) error {
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		prev := ""
		if from > 1 {
			h, ok := storedHash(t.entries.Get(seqKey(from - 1)))
			if !ok {
				if k, _ := t.entries.Cursor().Seek(seqKey(from - 1)); k == nil {
					return nil // the journal is shorter
				}
				return j.corrupt(from-1, "", "entry is missing or too short")
			}
			prev = h
		}
		snaps := map[string]*Txn{}
		last := map[string]uint64{}
		c := t.entries.Cursor()
		next := from
		for k, v := c.Seek(seqKey(from)); k != nil && (max <= 0 || len(out) < max); k, v = c.Next() {
			seq, ok := u64(k)
			p.seq = seq
			if !ok || seq != next {
				return j.corrupt(next, "", "entry missing (next key %x)", k)
			}
			h, ok := storedHash(v)
			if !ok {
				return j.corrupt(seq, "", "value of %d bytes is too short", len(v))
			}
			r := RawEntry{Seq: seq, Hash: h, PrevHash: prev, Body: append([]byte(nil), v[32:]...)}
			if e, err := decodeBody(r.Body); err == nil {
				r.TxnID = e.TxnID
				s, ok := snaps[e.TxnID]
				if !ok {
					var seqs []uint64
					// A damaged snapshot is shipped as absent: the entry
					// still goes out, HQ derives what it can.
					if s, seqs, _, err = loadTxn(j.path, t, e.TxnID); err == nil && s != nil {
						last[e.TxnID] = seqs[len(seqs)-1]
					} else {
						s = nil
					}
					snaps[e.TxnID] = s
				}
				r.Snapshot, r.SnapshotSeq = s, last[e.TxnID]
			}
			out = append(out, r)
			prev, next = h, seq+1
		}
		return nil
	})
	return out, err
}

// ShippedSeq returns the last Seq a shipper recorded with SetShippedSeq (0
// when none), reading the meta only.
func (j *Journal) ShippedSeq() (uint64, error) {
	var seq uint64
	err := j.viewMeta("meta", func(b *bolt.Bucket) (err error) {
		seq, err = readShipped(j.path, b)
		return err
	})
	return seq, err
}

// readShipped reads the shipped-seq meta key: 0 when absent, a
// *CorruptError when it is not 8 bytes.
func readShipped(path string, b *bolt.Bucket) (uint64, error) {
	v := b.Get(metaShippedSeq)
	if v == nil {
		return 0, nil
	}
	seq, ok := u64(v)
	if !ok {
		return 0, &CorruptError{Path: path, Reason: fmt.Sprintf("meta: shipped seq of %d bytes", len(v))}
	}
	return seq, nil
}

// SetShippedSeq durably records seq as the last Seq a shipper's server
// acknowledged, in a bbolt Update of its own (one fsync'd commit: callers
// batch). It refuses (ErrInvalid) a seq past the last entry. It never
// touches an entry or a snapshot; on a read-only journal it returns
// ErrReadOnly.
func (j *Journal) SetShippedSeq(seq uint64) error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if err := j.writable(); err != nil {
		return err
	}
	committing := false
	err := j.guard(&pos{where: "meta"}, func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			t, err := openTables(j.path, tx)
			if err != nil {
				return err
			}
			m, err := readMetaBucket(j.path, t.meta)
			if err != nil {
				return err
			}
			if seq > m.lastSeq {
				return fmt.Errorf("%w: shipped seq %d past the last entry %d", ErrInvalid, seq, m.lastSeq)
			}
			if err := t.meta.Put(metaShippedSeq, seqKey(seq)); err != nil {
				return err
			}
			committing = true
			return nil
		})
	})
	if err != nil && committing {
		j.failed.CompareAndSwap(nil, &err)
		j.log.Error("journal commit failed: journal unusable until reopened", zap.String("path", j.path), zap.Error(err))
		return fmt.Errorf("journal: commit of shipped seq %d: %w", seq, err)
	}
	return err
}
