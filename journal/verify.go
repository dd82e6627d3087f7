package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"slices"

	"github.com/wbpay/wbpay/fsm"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Verify checks the whole journal in one read transaction: first the bbolt
// file's pages (pageCheck: read with ReadAt on this goroutine, so that no
// damaged page can fault the process), then every entry's hash is
// recomputed in Seq order and linked to its predecessor, Seqs run from 1
// without a gap up to meta's last seq and hash, every snapshot decodes, sits
// in the right bucket (unfinished ⇔ not terminal) and its entries run from
// StateNew to its state, every entry belongs to exactly one snapshot, and
// the indexes hold exactly the keys the snapshots imply (compared by number
// and by a digest keyed afresh for each call: a damaged index passes with a
// chance of 2⁻⁶⁴). Its error wraps ErrCorrupt (a *CorruptError naming the
// file and the first bad entry's seq and txn id where known). Appends may
// run beside it; a clean Verify of a writable journal advances the verified
// mark (see CheckRecent) with the next Append.
func (j *Journal) Verify() (Report, error) {
	var rep Report
	p := &pos{}
	err := errMetaMoved
	for try := 0; errors.Is(err, errMetaMoved) && try < 10; try++ {
		rep = Report{}
		err = j.verifyOnce(p, &rep)
	}
	if err != nil {
		j.log.Error("journal verify failed", zap.String("path", j.path), zap.Error(err))
		j.setDamaged(err)
		return rep, err
	}
	j.markVerified(rep.LastSeq)
	j.log.Info("journal verified", zap.String("path", j.path), zap.Uint64("entries", rep.Entries), zap.Uint64("txns", rep.Txns))
	return rep, nil
}

// errMetaMoved is returned by checkPages when two commits replaced the meta
// page of its read transaction before it read it: Verify begins again.
var errMetaMoved = errors.New("journal: verify: the file's meta pages kept changing under the page check")

// verifyOnce is one attempt of Verify, in one read transaction.
func (j *Journal) verifyOnce(p *pos, rep *Report) error {
	return j.view(p, func(tx *bolt.Tx) error {
		*p = pos{where: "checking bbolt's pages"}
		if err := j.checkPages(tx); err != nil {
			return err
		}
		*p = pos{}
		t, err := openTables(j.path, tx)
		if err != nil {
			return err
		}
		m, err := readMetaBucket(j.path, t.meta)
		if err != nil {
			return err
		}
		codes := newStateCodes()
		recs, err := j.verifyChain(t, p, m, codes, rep)
		if err != nil {
			return err
		}
		return j.verifyTxns(t, p, m, recs, codes, rep)
	})
}

// checkPages runs pageCheck on the pages of tx's snapshot of the file. A
// read transaction keeps the pages it can reach, and its freelist page,
// from being reused while it lasts; their meta page is looked up by tx's
// id (after two commits meanwhile it is gone, and the check begins again).
func (j *Journal) checkPages(tx *bolt.Tx) error {
	f, err := openForPages(j.path)
	if err != nil {
		return err
	}
	defer f.Close()
	m, ok := currentMeta(f, uint64(tx.ID()))
	if !ok {
		return errMetaMoved
	}
	if root := uint64(tx.Cursor().Bucket().Root()); root != m.root {
		return j.corrupt(0, "", "bbolt meta page of txid %d has root %d, bbolt reads %d", m.txid, m.root, root)
	}
	return checkPagesAt(j.path, f, m)
}

// entryRec is what verifyChain keeps of an entry for verifyTxns: its txn id
// as stored (appendStr's bytes, in the read transaction's memory map) and
// the codes of its from and to states.
type entryRec struct {
	id       []byte
	from, to uint8
}

// minEntry is the fewest bytes bbolt needs for an entry: its 8-byte key and
// a value of a hash and at least one byte.
const minEntry = 8 + sha256.Size + 1

// verifyChain walks the entries in Seq order, recomputing every hash, and
// returns what it read of each entry, indexed by Seq-1.
func (j *Journal) verifyChain(t *tables, p *pos, m journalMeta, codes *stateCodes, rep *Report) ([]entryRec, error) {
	recs := make([]entryRec, 0, min(m.lastSeq, uint64(t.entries.Tx().Size())/minEntry))
	var ch chain
	next := uint64(1)
	*p = pos{seq: next}
	c := t.entries.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		seq, ok := u64(k)
		if !ok {
			return nil, j.corrupt(next, "", "bad entry key %x after entry %d", k, next-1)
		}
		if seq != next {
			return nil, j.corrupt(next, "", "entry missing (the next stored is %d)", seq)
		}
		rec, err := j.linkEntry(&ch, codes, seq, v)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
		next++
		p.seq = next
		rep.Entries++
	}
	rep.LastSeq, rep.LastHash = next-1, ch.hash()
	if rep.LastSeq != m.lastSeq || rep.LastHash != m.lastHash {
		return nil, j.corrupt(0, "", "entries end at %d (hash %q), meta says %d (hash %q)", rep.LastSeq, rep.LastHash, m.lastSeq, m.lastHash)
	}
	return recs, nil
}

// linkEntry checks entry seq's stored value as decodeEntry does and links
// it to the chain. It reads the value in place; only when that finds
// something amiss does decodeEntry run, to name it.
func (j *Journal) linkEntry(ch *chain, codes *stateCodes, seq uint64, value []byte) (entryRec, error) {
	if len(value) > sha256.Size {
		id, from, to, ok := scanBody(value[sha256.Size:])
		if ok && ch.link(seq, value) {
			return entryRec{id: id, from: codes.of(from), to: codes.of(to)}, nil
		}
	}
	e, err := decodeEntry(seq, ch.hash(), value)
	if err == nil { // not reached: both read the body with readBody and hash it alike
		err = errors.New("the entry reads differently in place and decoded")
	}
	return entryRec{}, j.corrupt(seq, e.TxnID, "%v", err)
}

// chain recomputes entry hashes in Seq order without allocating: it holds
// the previous entry's hex hash and a buffer for entryHash's input.
type chain struct {
	prev [2 * sha256.Size]byte
	n    int // bytes of prev in use: 0 before the first entry
	buf  []byte
}

// link reports whether value's stored hash is the one entryHash gives for
// entry seq after the previous one, and if so makes it the previous one.
func (c *chain) link(seq uint64, value []byte) bool {
	c.buf = appendHashInput(c.buf[:0], c.prev[:c.n], seq, value[sha256.Size:])
	sum := sha256.Sum256(c.buf)
	if !bytes.Equal(sum[:], value[:sha256.Size]) {
		return false
	}
	c.set(sum[:])
	return true
}

// set makes the entry whose raw hash is sum the previous one.
func (c *chain) set(sum []byte) {
	c.n = hex.Encode(c.prev[:], sum)
}

// hash returns the previous entry's hex hash, "" before the first.
func (c *chain) hash() string { return string(c.prev[:c.n]) }

// stateCodes numbers the state strings Verify meets from 1, in the order met
// after fsm.AllStates; 0 stands for any state past the 255th.
type stateCodes struct {
	code  map[string]uint8
	names []fsm.State // by code - 1
	buf   []byte
}

func newStateCodes() *stateCodes {
	c := &stateCodes{code: make(map[string]uint8)}
	for _, s := range fsm.AllStates() {
		c.of(stored{raw: []byte(s)})
	}
	return c
}

// of returns the code of the state s stands for.
func (c *stateCodes) of(s stored) uint8 {
	name := s.raw
	if s.packed {
		c.buf = s.appendTo(c.buf[:0])
		name = c.buf
	}
	if code, ok := c.code[string(name)]; ok {
		return code
	}
	if len(c.names) == 255 {
		return 0
	}
	c.names = append(c.names, fsm.State(name))
	c.code[string(name)] = uint8(len(c.names))
	return uint8(len(c.names))
}

// terminal reports whether code (not 0) stands for a terminal state.
func (c *stateCodes) terminal(code uint8) bool { return c.names[code-1].Terminal() }

// verifyTxns checks every snapshot, unfinished and finished, against its
// entries and the indexes. A quick pass (sweepTxns) settles a sound
// journal; when it finds anything amiss, the exact pass (verifyTxnsExact)
// runs to find and name it.
func (j *Journal) verifyTxns(t *tables, p *pos, m journalMeta, recs []entryRec, codes *stateCodes, rep *Report) error {
	if j.sweepTxns(t, p, m, recs, codes, rep) {
		return nil
	}
	rep.Txns = 0
	return j.verifyTxnsExact(t, p, m, rep)
}

// keySum is an order-independent digest of a set of keys: how many, and
// the sum of their hashes under a seed drawn for each Verify. Two different
// sets of as many keys have the same sum with a chance of 2⁻⁶⁴.
type keySum struct{ n, sum uint64 }

func (s *keySum) add(seed maphash.Seed, key []byte) {
	s.n++
	s.sum += maphash.Bytes(seed, key)
}

// sweepTxns is the quick pass of verifyTxns: the checks of verifyTxnsExact
// without a lookup per snapshot or per entry. Each snapshot is read in
// place and its entries checked against what verifyChain kept of them;
// each index is read once in order and its keys' digest compared with the
// digest of the keys the snapshots imply. It reports whether everything
// adds up, and sets rep.Txns if so.
func (j *Journal) sweepTxns(t *tables, p *pos, m journalMeta, recs []entryRec, codes *stateCodes, rep *Report) bool {
	s := &sweep{recs: recs, codes: codes, isNew: codes.of(stored{raw: []byte(fsm.StateNew)}), seed: maphash.MakeSeed()}
	for _, live := range []bool{true, false} {
		b, name := t.txns, "finished"
		if live {
			b, name = t.unfinished, "unfinished"
		}
		*p = pos{where: "reading the first " + name + " snapshot"}
		next := "reading the " + name + " snapshot"
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			*p = pos{txn: string(k)}
			// A snapshot stored both as unfinished and as finished is met
			// first among the unfinished: only those need the lookup.
			if !s.snapshot(p.txn, k, v, live) || live && t.txns.Get(k) != nil {
				return false
			}
			*p = pos{where: next, after: p.txn}
		}
	}
	if s.listed != rep.Entries || s.txns != m.txns {
		return false
	}
	for _, x := range []struct {
		name string
		b    *bolt.Bucket
		want keySum
	}{{"creation-time", t.byCreated, s.created}, {"order", t.byOrder, s.orders}, {"receipt", t.byReceipt, s.receipts},
		{"idempotency-key", t.byIdem, s.idems}} {
		*p = pos{where: "reading the " + x.name + " index"}
		if got, ok := sumKeys(x.b, s.seed); !ok || got != x.want {
			return false
		}
	}
	rep.Txns = s.txns
	return true
}

// sweep is what sweepTxns gathers from the snapshots.
type sweep struct {
	recs  []entryRec // from verifyChain
	codes *stateCodes
	isNew uint8 // the code of fsm.StateNew
	seed  maphash.Seed

	listed, txns              uint64 // entries listed, snapshots
	created, orders, receipts keySum // the index keys the snapshots imply
	idems                     keySum

	seqs    []uint64 // scratch for scanTxn
	id, key []byte   // scratch
}

// snapshot checks the snapshot stored as value under key id in the
// unfinished bucket (live) or the finished one, but for its presence in the
// other bucket, and adds the index keys it implies to the digests.
func (s *sweep) snapshot(id string, key, value []byte, live bool) bool {
	f, ok := scanTxn(value, s.seqs)
	if ok {
		s.seqs = f.seqs
	} else {
		t, seqs, err := decodeTxn(value)
		if err != nil {
			return false
		}
		f = fieldsOf(t, seqs)
	}
	state := s.codes.of(f.state)
	if !f.id.is(key) || state == 0 || s.codes.terminal(state) == live {
		return false
	}
	s.id = appendStr(s.id[:0], id)
	if !entriesAddUp(s.recs, s.id, f.seqs, s.isNew, state) {
		return false
	}
	s.listed += uint64(len(f.seqs))
	s.txns++
	s.key = append(binary.BigEndian.AppendUint64(s.key[:0], f.created), key...)
	s.created.add(s.seed, s.key)
	if len(f.orderID.raw) > 0 {
		s.key = appendPair(s.key[:0], f.orderID, key)
		s.orders.add(s.seed, s.key)
	}
	if len(f.receiptNo.raw) > 0 {
		s.key = appendPair(s.key[:0], f.receiptNo, key)
		s.receipts.add(s.seed, s.key)
	}
	if len(f.idemKey.raw) > 0 {
		s.key = appendPair(s.key[:0], f.idemKey, key)
		s.idems.add(s.seed, s.key)
	}
	return true
}

// entriesAddUp reports whether the entries seqs are all stored under txn id
// (appendStr's bytes) and run from state code from to state code to.
func entriesAddUp(recs []entryRec, id []byte, seqs []uint64, from, to uint8) bool {
	for _, seq := range seqs {
		if seq == 0 || seq > uint64(len(recs)) {
			return false
		}
		r := &recs[seq-1]
		if r.from != from || r.to == 0 || !bytes.Equal(r.id, id) {
			return false
		}
		from = r.to
	}
	return from == to
}

// appendPair appends pairKey's key for the value s stands for and id.
func appendPair(b []byte, s stored, id []byte) []byte {
	return append(append(s.appendTo(b), 0), id...)
}

// sumKeys digests b's keys; ok is false when b holds a nested bucket (an
// index holds none, and Get finds no value under its key).
func sumKeys(b *bolt.Bucket, seed maphash.Seed) (s keySum, ok bool) {
	if b == nil { // an optional index not created yet
		return s, true
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			return s, false
		}
		s.add(seed, k)
	}
	return s, true
}

// verifyTxnsExact is the exact pass of verifyTxns: each snapshot decoded
// and checked in turn against its entries and the indexes by lookups, and
// the first damage met reported.
func (j *Journal) verifyTxnsExact(t *tables, p *pos, m journalMeta, rep *Report) error {
	var listed, orders, receipts, idems uint64
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
			cr, o, r, ik := indexKeys(s)
			if t.byCreated.Get(cr) == nil {
				return j.corrupt(last, id, "missing from the creation-time index")
			}
			if o != nil && t.byOrder.Get(o) == nil {
				return j.corrupt(last, id, "missing from the order index under %q", s.OrderID)
			}
			if r != nil && t.byReceipt.Get(r) == nil {
				return j.corrupt(last, id, "missing from the receipt index under %q", s.ReceiptNo)
			}
			if ik != nil && (t.byIdem == nil || t.byIdem.Get(ik) == nil) {
				return j.corrupt(last, id, "missing from the idempotency-key index under %q", s.IdempotencyKey)
			}
			if ik != nil {
				idems++
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
	}{{"creation-time", t.byCreated, rep.Txns}, {"order", t.byOrder, orders}, {"receipt", t.byReceipt, receipts},
		{"idempotency-key", t.byIdem, idems}} {
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
	if b == nil {
		return 0
	}
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
