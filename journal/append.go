package journal

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Append journals e and the transaction's new snapshot snap in one bbolt
// transaction (fsync'd): it assigns e.Seq, e.PrevHash and e.Hash, stores e and
// snap and updates the indexes. It is durable when it returns nil; on error
// nothing of it is stored. It returns ErrConflict when e.TxnID is empty,
// snap.ID or snap.State does not match e, or e.From is not the stored state
// (fsm.StateNew for a new transaction); ErrInvalid for input that cannot be
// stored. snap is not modified; a "userCode" key in snap.Request is not
// stored. Append has no crash points of its own: the sequence driver's
// points before and after each journal commit mark the same moments.
func (j *Journal) Append(e *Entry, snap *Txn) error {
	if e == nil || snap == nil {
		return fmt.Errorf("%w: nil entry or snapshot", ErrInvalid)
	}
	if err := checkInput(e, snap); err != nil {
		return err
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if err := j.writable(); err != nil {
		return err
	}
	ne := *e
	committing := false
	p := &pos{txn: e.TxnID}
	err := j.guard(p, func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			if err := appendTx(j.path, tx, &ne, snap, j.verified.Load()); err != nil {
				return err
			}
			committing = true
			return nil
		})
	})
	if err != nil {
		if committing {
			// The commit failed after it may have written: the page cache
			// may now differ from the file, so refuse to build on it.
			j.failed.CompareAndSwap(nil, &err)
			j.log.Error("journal commit failed: journal unusable until reopened", zap.String("path", j.path),
				zap.String("txn-id", e.TxnID), zap.Error(err))
			return fmt.Errorf("journal: commit of txn %s: %w", e.TxnID, err)
		}
		return err
	}
	e.Seq, e.PrevHash, e.Hash = ne.Seq, ne.PrevHash, ne.Hash
	j.notifyChanged()
	return nil
}

// checkInput checks what Append can check without the stored state.
func checkInput(e *Entry, s *Txn) error {
	switch {
	case e.TxnID == "":
		return fmt.Errorf("%w: entry without txn id", ErrConflict)
	case s.ID != e.TxnID:
		return fmt.Errorf("%w: snapshot id %q, entry txn id %q", ErrConflict, s.ID, e.TxnID)
	case e.To != s.State:
		return fmt.Errorf("%w: txn %s: entry goes to %q, snapshot is %q", ErrConflict, e.TxnID, e.To, s.State)
	case s.State == "" || s.State == fsm.StateNew:
		return fmt.Errorf("%w: txn %s: a transition cannot go to %q", ErrInvalid, e.TxnID, s.State)
	case e.Time.IsZero():
		return fmt.Errorf("%w: txn %s: entry without time", ErrInvalid, e.TxnID)
	case !inNanoRange(s.CreatedAt):
		return fmt.Errorf("%w: txn %s: createdAt %v outside 1678–2262", ErrInvalid, e.TxnID, s.CreatedAt)
	}
	for _, k := range [...]struct{ name, v string }{{"id", s.ID}, {"orderId", s.OrderID}, {"receiptNo", s.ReceiptNo}, {"idempotencyKey", s.IdempotencyKey}} {
		if len(k.v) > maxKeyPart || strings.IndexByte(k.v, 0) >= 0 {
			return fmt.Errorf("%w: txn %.64s: %s is longer than %d bytes or holds a NUL byte", ErrInvalid, e.TxnID, k.name, maxKeyPart)
		}
	}
	return nil
}

var (
	minNano = time.Unix(0, -1<<63).Add(time.Second)
	maxNano = time.Unix(0, 1<<63-1).Add(-time.Second)
)

func inNanoRange(t time.Time) bool { return t.After(minNano) && t.Before(maxNano) }

// tables are a transaction's buckets.
type tables struct {
	entries, txns, unfinished, byOrder, byReceipt, byCreated, meta *bolt.Bucket
	byIdem                                                         *bolt.Bucket // nil until the first idempotency key
}

// openTables returns tx's buckets, or a *CorruptError naming the missing one.
func openTables(path string, tx *bolt.Tx) (*tables, error) {
	get := func(name []byte) *bolt.Bucket { return tx.Bucket(name) }
	t := &tables{get(bucketEntries), get(bucketTxns), get(bucketUnfinished), get(bucketByOrder),
		get(bucketByReceipt), get(bucketByCreated), get(bucketMeta), nil}
	for i, b := range []*bolt.Bucket{t.entries, t.txns, t.unfinished, t.byOrder, t.byReceipt, t.byCreated, t.meta} {
		if b == nil {
			return nil, &CorruptError{Path: path, Reason: fmt.Sprintf("bucket %q is missing", allBuckets[i])}
		}
	}
	t.byIdem = get(bucketByIdem)
	if t.entries.Writable() {
		for _, b := range []*bolt.Bucket{t.entries, t.txns, t.byCreated, t.byOrder, t.byReceipt} {
			b.FillPercent = appendFill
		}
	}
	return t, nil
}

// journalMeta is the meta bucket's content.
type journalMeta struct {
	lastSeq  uint64
	lastHash string // hex; "" while empty
	txns     uint64
	// verified is the verified mark (see CheckRecent); hasVerified is
	// false in journals written before it existed.
	verified    uint64
	hasVerified bool
	id          string // the journal's id ("" in journals older than ids)
}

// writable says why the journal takes no write now (closed, read-only, or
// failed by an earlier write), or nil. The caller holds j.mu for reading.
func (j *Journal) writable() error {
	switch {
	case j.closed:
		return ErrClosed
	case j.readOnly:
		return ErrReadOnly
	}
	if f := j.failed.Load(); f != nil {
		return fmt.Errorf("%w: %w", ErrFailed, *f)
	}
	return nil
}

func readMetaBucket(path string, b *bolt.Bucket) (journalMeta, error) {
	var m journalMeta
	bad := func(format string, args ...any) error {
		return &CorruptError{Path: path, Reason: "meta: " + fmt.Sprintf(format, args...)}
	}
	if v := b.Get(metaVersion); v == nil {
		return m, bad("no format version")
	} else if string(v) != formatVersion {
		return m, bad("unknown format version %.40q (this build reads %q)", v, formatVersion)
	}
	var ok bool
	if m.lastSeq, ok = u64(b.Get(metaLastSeq)); !ok {
		return m, bad("bad last seq")
	}
	if m.txns, ok = u64(b.Get(metaTxns)); !ok {
		return m, bad("bad transaction count")
	}
	if v := b.Get(metaVerifiedSeq); v != nil {
		if m.verified, ok = u64(v); !ok || m.verified > m.lastSeq {
			return m, bad("bad verified seq")
		}
		m.hasVerified = true
	}
	if v := b.Get(metaID); v != nil {
		if !validID(string(v)) {
			return m, bad("bad journal id %s", quoteKey(v))
		}
		m.id = string(v)
	}
	h := b.Get(metaLastHash)
	switch {
	case m.lastSeq == 0 && h == nil:
	case m.lastSeq > 0 && len(h) == 32:
		m.lastHash = hex.EncodeToString(h)
	default:
		return m, bad("last hash of %d bytes for last seq %d", len(h), m.lastSeq)
	}
	shipped, err := readShipped(path, b)
	if err != nil {
		return m, err
	}
	if shipped > m.lastSeq {
		return m, bad("shipped seq %d past the last seq %d", shipped, m.lastSeq)
	}
	return m, nil
}

// loadTxn reads and decodes txn id's snapshot from the unfinished bucket
// (live is true) or the finished one; nil when it is in neither.
func loadTxn(path string, t *tables, id string) (s *Txn, seqs []uint64, live bool, err error) {
	v := t.unfinished.Get([]byte(id))
	live = v != nil
	if !live {
		if v = t.txns.Get([]byte(id)); v == nil {
			return nil, nil, false, nil
		}
	}
	if s, seqs, err = decodeTxn(v); err != nil {
		return nil, nil, live, &CorruptError{Path: path, TxnID: id, Reason: err.Error()}
	}
	switch {
	case s.ID != id:
		return nil, nil, live, &CorruptError{Path: path, TxnID: id, Reason: fmt.Sprintf("snapshot stored under %q has id %q", id, s.ID)}
	case live == s.State.Terminal():
		return nil, nil, live, &CorruptError{Path: path, TxnID: id, Reason: fmt.Sprintf("snapshot in state %q stored among the %s", s.State, map[bool]string{true: "unfinished", false: "finished"}[live])}
	}
	return s, seqs, live, nil
}

// appendTx is Append's work inside one write transaction: it validates e
// against the stored snapshot, stores both and updates the indexes and meta.
// It fills e.Seq, e.PrevHash and e.Hash, and stores verified as the
// verified mark when it is above the stored one.
func appendTx(path string, tx *bolt.Tx, e *Entry, snap *Txn, verified uint64) error {
	t, err := openTables(path, tx)
	if err != nil {
		return err
	}
	m, err := readMetaBucket(path, t.meta)
	if err != nil {
		return err
	}
	id := []byte(snap.ID)
	old, seqs, oldLive, err := loadTxn(path, t, snap.ID)
	if err != nil {
		return err
	}
	from := fsm.StateNew
	if old != nil {
		from = old.State
	}
	if e.From != from {
		return fmt.Errorf("%w: txn %s: entry comes from %q, stored state is %q", ErrConflict, e.TxnID, e.From, from)
	}

	seq := m.lastSeq + 1
	value, hash := encodeEntry(e, seq, m.lastHash)
	if err := t.entries.Put(seqKey(seq), value); err != nil {
		return err
	}
	stored := *snap
	if _, ok := stored.Request[paytree.FUserCode]; ok {
		stored.Request = maps.Clone(stored.Request)
		delete(stored.Request, paytree.FUserCode)
	}
	sv := encodeTxn(&stored, append(seqs, seq))
	live := !stored.State.Terminal()
	dst, other := t.txns, t.unfinished
	if live {
		dst, other = t.unfinished, t.txns
	}
	if err := dst.Put(id, sv); err != nil {
		return err
	}
	if old != nil && oldLive != live {
		if err := other.Delete(id); err != nil {
			return err
		}
	}
	if stored.IdempotencyKey != "" && t.byIdem == nil {
		if t.byIdem, err = tx.CreateBucket(bucketByIdem); err != nil {
			return err
		}
		t.byIdem.FillPercent = appendFill
	}
	if err := updateIndexes(t, old, &stored); err != nil {
		return err
	}

	if err := t.meta.Put(metaLastSeq, seqKey(seq)); err != nil {
		return err
	}
	rawHash, _ := hex.DecodeString(hash)
	if err := t.meta.Put(metaLastHash, rawHash); err != nil {
		return err
	}
	if old == nil {
		if err := t.meta.Put(metaTxns, seqKey(m.txns+1)); err != nil {
			return err
		}
	}
	if verified > m.verified && verified <= m.lastSeq {
		if err := t.meta.Put(metaVerifiedSeq, seqKey(verified)); err != nil {
			return err
		}
	}
	e.Seq, e.PrevHash, e.Hash = seq, m.lastHash, hash
	return nil
}

// indexKeys lists a snapshot's keys in each secondary index (nil: none).
func indexKeys(s *Txn) (created, order, receipt, idem []byte) {
	if s == nil {
		return
	}
	if s.IdempotencyKey != "" {
		idem = pairKey(s.IdempotencyKey, s.ID)
	}
	created = createdKey(s.CreatedAt, s.ID)
	if s.OrderID != "" {
		order = pairKey(s.OrderID, s.ID)
	}
	if s.ReceiptNo != "" {
		receipt = pairKey(s.ReceiptNo, s.ID)
	}
	return
}

// updateIndexes moves the snapshot's index keys from what old had to what
// s has, touching only the indexes that change.
func updateIndexes(t *tables, old, s *Txn) error {
	oc, oo, or, oi := indexKeys(old)
	nc, no, nr, ni := indexKeys(s)
	for _, x := range []struct {
		b        *bolt.Bucket
		old, new []byte
	}{{t.byCreated, oc, nc}, {t.byOrder, oo, no}, {t.byReceipt, or, nr}, {t.byIdem, oi, ni}} {
		if bytes.Equal(x.old, x.new) && (x.old == nil) == (x.new == nil) {
			continue
		}
		if x.old != nil {
			if err := x.b.Delete(x.old); err != nil {
				return err
			}
		}
		if x.new != nil {
			if err := x.b.Put(x.new, []byte{}); err != nil {
				return err
			}
		}
	}
	return nil
}
