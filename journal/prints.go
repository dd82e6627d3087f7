package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// bucketPrints counts the slips printed of each transaction (see doc.go).
// It is created with the first print: older journals lack it, and reads
// treat a missing one as empty.
var bucketPrints = []byte("prints")

// Print is what the journal knows about the slips printed of one copy of a
// transaction's receipt.
type Print struct {
	Count int       // slips printed so far (0 = never)
	First time.Time // when the first (original) slip was printed; zero when never
	Last  time.Time // when the latest slip was printed
}

// printKey is a prints key: the transaction id, 0x00, the copy's name.
func printKey(id, copyName string) []byte { return pairKey(id, copyName) }

// RecordPrint durably counts one more slip of copy copyName of transaction
// id, printed at at, and returns the count including it: 1 is the original,
// anything above a reprint. It is committed (fsync'd) before it returns, so
// that a slip printed after it can never be a second original. Errors:
// ErrNotFound for an unknown transaction, ErrInvalid for an empty or long
// copy name, ErrClosed, ErrReadOnly, ErrFailed as for Append.
func (j *Journal) RecordPrint(id, copyName string, at time.Time) (Print, error) {
	if copyName == "" || len(copyName) > 32 || len(id) > maxKeyPart {
		return Print{}, fmt.Errorf("%w: print of %.64q copy %q", ErrInvalid, id, copyName)
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if err := j.writable(); err != nil {
		return Print{}, err
	}
	var p Print
	committing := false
	err := j.guard(&pos{txn: id}, func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			t, err := openTables(j.path, tx)
			if err != nil {
				return err
			}
			if t.txns.Get([]byte(id)) == nil && t.unfinished.Get([]byte(id)) == nil {
				return fmt.Errorf("%w: %q", ErrNotFound, id)
			}
			b, err := tx.CreateBucketIfNotExists(bucketPrints)
			if err != nil {
				return err
			}
			k := printKey(id, copyName)
			if v := b.Get(k); v != nil {
				if p, err = decodePrint(v); err != nil {
					return &CorruptError{Path: j.path, TxnID: id, Reason: "print record: " + err.Error()}
				}
			}
			p.Count++
			if p.First.IsZero() {
				p.First = at
			}
			p.Last = at
			committing = true
			return b.Put(k, encodePrint(p))
		})
	})
	if err != nil {
		if committing {
			j.failed.CompareAndSwap(nil, &err)
			j.log.Error("journal commit failed: journal unusable until reopened", zap.String("path", j.path), zap.String("txn-id", id), zap.Error(err))
			return Print{}, fmt.Errorf("journal: record print of txn %s: %w", id, err)
		}
		return Print{}, err
	}
	return p, nil
}

// Prints returns what RecordPrint recorded for copy copyName of
// transaction id (Count 0 when nothing was printed).
func (j *Journal) Prints(id, copyName string) (Print, error) {
	var p Print
	err := j.view(&pos{txn: id}, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPrints)
		if b == nil {
			return nil
		}
		v := b.Get(printKey(id, copyName))
		if v == nil {
			return nil
		}
		var err error
		if p, err = decodePrint(v); err != nil {
			return &CorruptError{Path: j.path, TxnID: id, Reason: "print record: " + err.Error()}
		}
		return nil
	})
	return p, err
}

// encodePrint is a prints value: uvarint Count, then First and Last as
// appendTime writes a time.
func encodePrint(p Print) []byte {
	b := binary.AppendUvarint(nil, uint64(p.Count))
	b = appendTime(b, p.First)
	return appendTime(b, p.Last)
}

func decodePrint(v []byte) (Print, error) {
	r := &bodyReader{b: v}
	n := r.uvarint("count")
	p := Print{Count: int(n), First: r.time("first"), Last: r.time("last")}
	switch {
	case r.err != nil:
		return Print{}, r.err
	case len(r.b) != 0:
		return Print{}, errors.New("bytes after the record")
	case n == 0 || n > 1<<31:
		return Print{}, fmt.Errorf("count %d", n)
	}
	return p, nil
}
