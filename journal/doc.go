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
//	prints      key: transaction id, 0x00, the slip's copy ("customer",
//	            "merchant"); value: uvarint count of slips printed, then the
//	            first and the latest print's time. Created with the first
//	            print (RecordPrint): older journals lack it, reads treat a
//	            missing one as empty. Not hash-chained: a print moves no
//	            money; the count only decides that every slip after the
//	            first says it is a reprint, so it is committed before the
//	            slip is handed out.
//	meta        "version"   = "wbpay-journal/1" (Open refuses anything else)
//	            "last-seq"  = 8 bytes big-endian (0 while empty)
//	            "last-hash" = the last entry's hash, 32 raw bytes (absent while empty)
//	            "txns"      = number of transactions, 8 bytes big-endian
//	            "verified-seq" = the verified mark, 8 bytes big-endian: every
//	                          entry up to it was found intact by Verify or
//	                          CheckRecent (absent in journals older than it)
//	            "id"        = the journal's id, 32 hex digits, drawn at
//	                          creation (absent in journals older than ids:
//	                          EnsureID adds it)
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
// A business day's close (Entry.Close) is a second optional section, tag
// byte 2, after the events section if any (sections come at most once and
// in tag order; a reader refuses any other tag): the day as YYYY-MM-DD,
// the times From and Until of its window, uvarint LastSeq, the uvarint
// count of lines and each line (PayType, varint Op, varint Count, varint
// Amount), the uvarint count of open transactions and each (TxnID, varint
// Op, State, PayType, OrderID, varint Amount). Only a close entry has it;
// every other entry is stored exactly as before, so older journals read
// and verify unchanged (pinned by testdata/entry-close-golden.json).
//
// A close is the one transition of a pseudo-transaction per business day:
// id "close-" and the JST date as YYYYMMDD, Op paytree.OpClose, new →
// closed (fsm.EvClose), snapshot Amount the day's net and Request
// {"_day": YYYY-MM-DD}. It sends nothing and is terminal at once, so it
// lives in txns and the indexes like any finished transaction; that its id
// is taken is what makes a day close only once. Its totals are hashed with
// its entry: a closed day's report is read back from the entry, never
// recomputed, and so never changes.
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
// meta's, and every unfinished snapshot against its last entry. Damage is
// reported as a *CorruptError, which matches ErrCorrupt and names the file
// and, where known, the first bad entry's Seq and its transaction. bbolt
// panics or faults on some damaged pages; the journal turns those into
// ErrCorrupt as well.
//
// Verify checks everything (see its comment). It first walks the bbolt
// file's pages itself (pageCheck), reading each with ReadAt on the
// caller's goroutine and trusting no offset, count or page id in it: bbolt's
// own Tx.Check walks the memory map on a goroutine of its own, where a
// damaged element header faults the whole process (a fault there cannot be
// recovered). Only when the pages are sound do the chain, snapshot and
// index checks read through bbolt (guarded as everything else is). So any
// damage ends as a *CorruptError, never a crash. Verify runs in one read
// transaction: Appends go on meanwhile (an Append that must grow the file's
// memory map waits for it, as for any long read).
//
// # How damage is found before a send
//
// The engine must not send a new request on a journal known to be damaged,
// and a one-shot CLI run must start in a time that does not grow with the
// history, so no start can afford Verify. Three mechanisms share the work:
//
//   - The verified mark (meta "verified-seq"): the last Seq that Verify or
//     CheckRecent found intact. CheckRecent, which the engine runs at every
//     Open, checks only the entries after it (hash and link of each, and
//     the snapshot and index keys of each transaction they touch) and moves
//     the mark to the last entry; the next Append stores it (no extra
//     commit). A one-shot run thus re-reads what the previous runs wrote
//     since the mark, a few entries: its start stays flat (BENCHMARKS.md:
//     about 6 µs per entry checked, 1.7 µs per entry for Verify).
//   - A full Verify in the background for long-running engines
//     (wbpay.WithBackgroundVerify: at start, then periodically); it moves
//     the mark past the whole history.
//   - A damage record in the home (wbpay.journal.damaged, written by the
//     `verify` command and by the engine when any check finds damage), so
//     that every later start refuses at once without checking again.
//
// Damage that CheckRecent does not read (an old page, changed after the
// mark passed it) is found by the next Verify: the background one, or
// `wbpay-engine verify` (run it from cron or before the POS starts).
// Damaged reports what this Journal found; once it is not nil the engine
// refuses new requests with L0007, while recovery of intact unfinished
// transactions and all audit reads go on.
//
// # Repair
//
// Repair rebuilds a damaged journal: it reads every page of the file with
// ReadAt (stale copies in free pages included), carries over each entry
// whose stored hash recomputes from its body and the stored hash of the
// entry before it, each transaction up to its first lost entry, and the
// newest intact snapshot of each (its state set to its last carried
// entry's); the indexes, snapshot entry lists and meta are derived again by
// Append. Entries after the first lost one get new Seqs and hashes. The
// rebuilt journal must pass Verify; then the damaged file is kept untouched
// as path+".broken" (Repair never overwrites one) and the new file takes
// its place. The RepairReport lists the Seq ranges and transactions it
// could not carry over. Model: etcd's wal.Repair (copy aside, then salvage).
//
// A second Open of the same file (this or another process) fails with
// ErrLocked after Options.Timeout (bbolt's flock); a ReadOnly Open takes a
// shared lock, so it also waits for a writer to close.
//
// The customer's full userCode is never stored: the engine keeps
// MaskUserCode and HashUserCodeKeyed of it, and Append drops a "userCode"
// key from Txn.Request. The keyed hash is "01" followed by the hex
// HMAC-SHA256 of the code under the home's secret key (usercode.key, mode
// 0600, never logged, exported or shipped): without the key, the masked
// code and the hash no longer let anyone try every code that fits the mask.
// Older entries hold the unkeyed SHA-256 (64 hex digits, no prefix); the
// length tells the schemes apart, and MatchUserCode matches both. An
// auditor who holds a customer's code and the home's key can find that
// customer's transactions (MatchUserCode); nobody can recover a code from
// the journal alone.
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
//	r, err := j.CheckRecent()      // at start: what changed since the verified mark
//	rr, err := journal.Repair(path, journal.RepairOptions{ID: homeID}) // after damage
package journal
