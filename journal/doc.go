// Package journal is the engine's durable, hash-chained journal: one bbolt
// file (go.etcd.io/bbolt) holding every transition of every transaction, the
// transaction's latest snapshot, and the indexes that recovery and the audit
// commands read.
//
// # The rule it serves
//
// The engine journals each transition before it sends the request that the
// new state stands for. Append stores the entry, the transaction's new
// snapshot, the index changes and the meta in ONE bbolt write transaction,
// which bbolt commits with two fdatasyncs (pages, then meta page) before
// Append returns nil. If Append returns an error, nothing of it is in the
// file and the request must not be sent. After a commit fails at the storage
// level (write or fsync error) the journal refuses every later Append with
// ErrFailed until it is opened again: after a failed fsync the kernel's page
// cache can no longer be trusted to match the disk.
//
// # What a crash does
//
// bbolt writes a transaction's pages to free space and then one of its two
// meta pages: a crash before the meta page is written leaves the previous
// state whole, so an Append that had not returned is either entirely in the
// file or entirely absent. An Append that returned nil survives any crash.
// The file is never repaired or rewritten by Open: damage is reported.
//
// # Layout
//
// One bbolt file (mode 0600, 4 KiB pages) with these top-level buckets:
//
//	entries     key: Seq, 8 bytes big-endian (1, 2, 3, … without gaps)
//	            value: the entry's hash (32 raw bytes, SHA-256), then its
//	            body (below). FillPercent 0.9: keys only grow.
//	unfinished  key: transaction id (requestId of its first request)
//	            value: the snapshot (below) of every transaction whose state
//	            is not terminal (fsm.State.Terminal). Open, Unfinished and
//	            recovery read this bucket only, never the history.
//	txns        key: transaction id; value: the snapshot of every finished
//	            (terminal) transaction, written once when it finishes.
//	            FillPercent 0.9 (ids are UUIDv7, time-ordered).
//	by-created  key: CreatedAt as unix nanoseconds with the sign bit flipped
//	            (8 bytes big-endian, so keys sort by time), then the id;
//	            value empty.
//	by-order    key: OrderID, 0x00, id; value empty (only when OrderID != "").
//	by-receipt  key: ReceiptNo, 0x00, id; value empty (only when ReceiptNo != "").
//	by-idem     key: IdempotencyKey, 0x00, id; value empty (only when the
//	            key is set). Created with the first keyed snapshot: a
//	            journal from before keys existed has no such bucket, and
//	            reads treat a missing one as empty.
//	meta        "version"   = "wbpay-journal/1" (Open refuses anything else)
//	            "last-seq"  = 8 bytes big-endian (0 while empty)
//	            "last-hash" = the last entry's hash, 32 raw bytes (absent while empty)
//	            "txns"      = number of transactions, 8 bytes big-endian
//
// The index buckets use FillPercent 0.9 too (creation times, the gateway's
// order ids and receipt numbers mostly grow). A transaction is in exactly one
// of unfinished and txns.
//
// Values are compact binary records (a JSON encoding took twice the pages).
// In them a string is uvarint(n<<1 | h) followed by n bytes: h = 1 for a
// string of lower-case hex digits of even length ≥ 16 (ids, hashes), stored
// as the n bytes it spells; h = 0 for any other string, stored as is. A time
// is varint unix seconds, uvarint nanoseconds, varint zone offset in seconds
// (read back in a zone of that offset without its name; UTC for 0). An error
// (ErrorInfo) is a 0 byte for none, else a 1 byte, varint Type and the
// strings Code, SubCode, Message, Action. Ints are varints.
//
// An entry's body is its fields but Seq, PrevHash and Hash, in the order of
// the Entry struct: TxnID, Time, Event, From, To, RequestID, Kind, HTTP,
// ResultCode, Error, Note.
// When the transition raised CompleteEvents or ErrorEvents (Entry.Events),
// the body goes on with a 1 byte, the uvarint count n ≥ 1 and n records:
// a flags byte (1 ErrorEvent, 2 final, 4 recovered), the operation's name,
// then for an ErrorEvent its error, for a CompleteEvent varint TransStatus,
// OrderID, varint Amount, PayType, TransTime and varint RefundedTotal. An
// entry without events ends after Note, exactly as before events were
// journaled, so older journals read and verify unchanged. The events are
// hashed with the rest of the body: the daemon replays them from here.
//
// A snapshot value is a CRC-32C (Castagnoli, 4 bytes big-endian) of the rest;
// the uvarint count n ≥ 1 of the transaction's entries and n uvarints: its
// first Seq, then the gap to each next one; then the Txn's fields in the
// order of the struct, with Request as a uvarint count and its key/value
// strings sorted by key, Step as its five fields, WaitingSince as a 0 byte
// when zero (else 1 and the time) and Recovered as one byte; a snapshot with an
// IdempotencyKey goes on with a 1 byte and the key (one without ends there,
// as before keys existed).
//
// Ids, order ids and receipt numbers hold no NUL byte and are at most 256
// bytes. A finished pay of four entries takes about 1.3 KiB of pages, of
// which 1.1 KiB hold data (see TestFootprint).
//
// # The hash chain
//
// Entry n's hash is SHA-256 over: entry n-1's hex hash ("" for n = 1), '\n',
// n in decimal, '\n', and entry n's body bytes exactly as stored. Entry.Hash
// and Entry.PrevHash are the hex forms. Any altered byte of an entry's value
// changes its hash; a removed, added or reordered entry breaks a link or the
// Seq sequence; the last hash is kept in meta, so a cut-off tail is seen too.
// Snapshots are covered by their CRC and, in Verify, by their agreement with
// their entries; the indexes by their agreement with the snapshots.
//
// # Damage
//
// Open checks in O(1) + O(unfinished): both bbolt meta pages valid (bbolt
// itself would silently fall back to the older one and lose the last
// commit), the file at least as long as its pages, the root and freelist
// pages of the right type, the format version, the last entry's hash against
// meta's, and every unfinished snapshot against its last entry. Verify checks
// everything (see its comment). Damage is reported as a *CorruptError, which
// matches ErrCorrupt and names the file and, where known, the first bad
// entry's Seq and its transaction. bbolt panics or faults on some damaged
// pages; the journal turns those into ErrCorrupt as well.
//
// A second Open of the same file (this or another process) fails with
// ErrLocked after Options.Timeout (bbolt's flock); a ReadOnly Open takes a
// shared lock, so it also waits for a writer to close.
//
// The customer's full userCode is never stored: the engine keeps
// MaskUserCode and HashUserCode of it, and Append drops a "userCode" key
// from Txn.Request.
//
// # Use
//
//	j, err := journal.Open(path, journal.Options{Logger: lg})
//	defer j.Close()
//	snap := &journal.Txn{ID: id, Op: paytree.OpPay, State: fsm.StateSending, CreatedAt: now, …}
//	e := &journal.Entry{TxnID: id, Time: now, Event: fsm.EvSend, From: fsm.StateNew, To: fsm.StateSending}
//	if err := j.Append(e, snap); err != nil { /* do not send */ }
//	pending, err := j.Unfinished() // on start: what recovery resumes
//	rep, err := j.Verify()         // audit: the whole chain
package journal
