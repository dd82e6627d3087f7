package wbpay

import "github.com/wbpay/wbpay/journal"

// Audit is a read-only view of the engine's journal: the audit trail's
// queries, its verification and its change notifications. It can append
// no entry, put no snapshot and change nothing the journal holds: every
// transition goes through the request methods, the sequence driver and
// the state machines. Get one from Engine.Audit; it is valid until the
// engine is closed (its reads then return journal.ErrClosed). Safe for
// concurrent use.
type Audit struct{ j *journal.Journal }

// Audit returns the read-only view of the engine's journal.
func (e *Engine) Audit() Audit { return Audit{j: e.journal} }

// Get returns transaction id's snapshot; journal.ErrNotFound when there is
// none.
func (a Audit) Get(id string) (*journal.Txn, error) { return a.j.Get(id) }

// Entries returns transaction id's entries in order, each checked against
// its hash; journal.ErrNotFound when there is no such transaction.
func (a Audit) Entries(id string) ([]journal.Entry, error) { return a.j.Entries(id) }

// Unfinished returns every transaction not in a terminal state, oldest
// first.
func (a Audit) Unfinished() ([]*journal.Txn, error) { return a.j.Unfinished() }

// ByOrderID returns every transaction whose OrderID is orderID (a pay and
// its refunds and reverses), oldest first; none for "".
func (a Audit) ByOrderID(orderID string) ([]*journal.Txn, error) { return a.j.ByOrderID(orderID) }

// ByReceiptNo returns every transaction whose ReceiptNo is r, oldest
// first; none for "".
func (a Audit) ByReceiptNo(r string) ([]*journal.Txn, error) { return a.j.ByReceiptNo(r) }

// List returns the transactions q selects (journal.Query).
func (a Audit) List(q journal.Query) ([]*journal.Txn, error) { return a.j.List(q) }

// ForEachTxn calls fn for each transaction q selects, as journal's
// ForEachTxn, and stops at fn's first error, which it returns.
func (a Audit) ForEachTxn(q journal.Query, fn func(*journal.Txn) error) error {
	return a.j.ForEachTxn(q, fn)
}

// ForEachEntry calls fn for every entry in Seq order, each checked against
// its hash and its predecessor, and stops at fn's first error, which it
// returns.
func (a Audit) ForEachEntry(fn func(journal.Entry) error) error { return a.j.ForEachEntry(fn) }

// EntriesFrom is ForEachEntry from Seq from on (a follower calls it again
// from its last Seq + 1 after Changed fires).
func (a Audit) EntriesFrom(from uint64, fn func(journal.Entry) error) error {
	return a.j.EntriesFrom(from, fn)
}

// LastSeq returns the Seq of the last entry (0 for an empty journal).
func (a Audit) LastSeq() (uint64, error) { return a.j.LastSeq() }

// Stats returns the journal's cheap counters and sizes.
func (a Audit) Stats() (journal.Stats, error) { return a.j.Stats() }

// Verify checks the whole journal (hash chain, snapshots, indexes); its
// error wraps journal.ErrCorrupt when the journal is damaged.
func (a Audit) Verify() (journal.Report, error) { return a.j.Verify() }

// ID returns the journal's id ("" for a journal older than ids).
func (a Audit) ID() (string, error) { return a.j.ID() }

// Changed returns a channel that is closed after the next entry commits
// (or the engine closes): take it before reading, then read what is new.
func (a Audit) Changed() <-chan struct{} { return a.j.Changed() }

// Shipping is what a shipper (package ship) needs of the engine's journal:
// the entries as stored from a Seq on, and the last Seq its server
// acknowledged, whose recording (SetShippedSeq) is the only write it
// takes; it appends no entry and changes no transaction.
type Shipping struct{ j *journal.Journal }

// Shipping returns the engine's journal as a shipper sees it.
func (e *Engine) Shipping() Shipping { return Shipping{j: e.journal} }

// RawEntries returns up to max entries from Seq from on, as stored
// (journal's RawEntries).
func (s Shipping) RawEntries(from uint64, max int) ([]journal.RawEntry, error) {
	return s.j.RawEntries(from, max)
}

// ShippedSeq returns the last Seq recorded with SetShippedSeq (0 when none).
func (s Shipping) ShippedSeq() (uint64, error) { return s.j.ShippedSeq() }

// SetShippedSeq durably records seq as the last Seq the shipper's server
// acknowledged; it touches no entry and no snapshot.
func (s Shipping) SetShippedSeq(seq uint64) error { return s.j.SetShippedSeq(seq) }

// Changed returns a channel that is closed after the next entry commits.
func (s Shipping) Changed() <-chan struct{} { return s.j.Changed() }
