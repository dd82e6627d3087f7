// Package ship publishes a terminal's journal to the HQ's NATS JetStream,
// entry by entry in Seq order, from the last Seq the server acknowledged.
//
// # What it sends
//
// Each entry becomes one message (journal.ShipRecord as JSON) on the subject
// wbpay.journal.<MerchantId>.<TerminalUniquId> with the header Nats-Msg-Id =
// <TerminalUniquId>/<Seq>, so that JetStream drops a message sent twice. The
// record carries the entry exactly as stored (Seq, stored hash, the
// predecessor's stored hash, body bytes) and the transaction's snapshot as
// it stands when read, with the userCode masked; never a full userCode, a
// key or the per-home secret.
//
// # What survives a crash
//
// The journal is the queue: nothing is copied to a second file. The last
// acknowledged Seq is kept in the journal's meta ("shipped-seq", written by
// journal.SetShippedSeq in a bbolt Update of its own), at most once per
// Options.FlushEvery or per Options.FlushAcks acknowledgements, and on a
// clean stop. After a crash the shipper resumes after the recorded Seq and
// re-sends the few entries acknowledged since; JetStream's duplicate window
// absorbs them (the PubAck says Duplicate). A rebuilt journal starts again
// at Seq 1; HQ reports the fork.
//
// # What it never does
//
// It never writes an entry or a snapshot, and nothing in the engine's
// payment path waits for it: an unreachable server delays shipping only. By
// default each entry is published after the previous one is acknowledged
// (Options.Window = 1); a larger window of asynchronous publishes is
// handled in Seq order too. On any error it backs off and re-sends from the
// first unacknowledged Seq.
//
// # Use
//
//	s, err := ship.New(ship.Options{Journal: j, Config: cfg, Home: home, Logger: lg})
//	go func() { errc <- s.Run(ctx) }() // returns when ctx ends
package ship
