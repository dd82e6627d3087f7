package journal

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned by Get, Entries and the lookups when no
	// transaction has the given id.
	ErrNotFound = errors.New("journal: transaction not found")

	// ErrConflict is returned by Append when the entry does not follow the
	// stored snapshot: empty txn id, snapshot id or state not matching the
	// entry, or an entry whose From is not the stored state (StateNew for a
	// transaction the journal has never seen).
	ErrConflict = errors.New("journal: conflicting transition")

	// ErrInvalid is returned by Append when the entry or snapshot cannot be
	// stored at all: nil, zero time, a time outside 1678–2262, a NUL byte or
	// an over-long key.
	ErrInvalid = errors.New("journal: invalid entry")

	// ErrCorrupt is wrapped by every error that reports a damaged journal
	// file (see CorruptError for the file, entry and transaction at fault).
	ErrCorrupt = errors.New("journal: corrupt")

	// ErrLocked is returned by Open when another Journal (in this or another
	// process) holds the file and did not release it within Options.Timeout.
	ErrLocked = errors.New("journal: locked by another process")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("journal: closed")

	// ErrReadOnly is returned by Append on a journal opened with
	// Options.ReadOnly.
	ErrReadOnly = errors.New("journal: opened read-only")

	// ErrFailed is returned by Append after a commit failed at the storage
	// level (write or fsync error): what the kernel holds can no longer be
	// trusted to match the file, so the journal refuses further writes until
	// it is closed and opened again.
	ErrFailed = errors.New("journal: unusable after a failed commit")
)

// CorruptError reports damage found in a journal file. It matches ErrCorrupt
// with errors.Is; Seq and TxnID name the first bad entry or transaction when
// known (0 and "" otherwise).
type CorruptError struct {
	Path   string // the journal file
	Seq    uint64 // first bad entry, 0 when the damage is not in an entry
	TxnID  string // transaction at fault, "" when unknown
	Reason string // what is wrong
}

// Error names the file, the entry and the transaction at fault.
func (e *CorruptError) Error() string {
	msg := "journal: corrupt journal " + e.Path
	txn := e.TxnID
	if !plainID(txn) {
		txn = quoteKey([]byte(txn)) // read from a damaged key: never printed raw
	}
	switch {
	case e.Seq != 0 && e.TxnID != "":
		msg += fmt.Sprintf(": entry %d (txn %s)", e.Seq, txn)
	case e.Seq != 0:
		msg += fmt.Sprintf(": entry %d", e.Seq)
	case e.TxnID != "":
		msg += ": txn " + txn
	}
	return msg + ": " + e.Reason
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// plainID reports whether id can be printed as it is: printable ASCII
// without blanks or quotes, at most 64 bytes.
func plainID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
