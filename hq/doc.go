// Package hq is the HQ side of shipping: a collector that consumes every
// terminal's journal entries from NATS JetStream, verifies each terminal's
// hash chain with the journal's own chain function (journal.EntryHash) as
// entries arrive, and stores entries, the transactions derived from them and
// findings in PostgreSQL; and the chain-wide queries over them.
//
// # What survives a crash
//
// Each fetched batch is one PostgreSQL transaction: the new entries (COPY),
// the newest snapshot of each transaction, the findings, the terminals'
// chain heads and the cursor (the stream sequence of the batch's last
// message) commit together, and the batch is acknowledged to JetStream only
// after the commit. At start, and whenever a delivery skips ahead of the
// cursor, the durable consumer is re-created at the cursor, so a collector
// killed at any moment, a lost acknowledgement or a NATS restart neither
// loses nor reorders an entry; a redelivered entry is a no-op ((terminal,
// seq) is the primary key of entries).
//
// # Schema
//
// Versioned migrations in migrations/NNNN_name.sql, embedded, applied in
// order by Migrate under an advisory lock and recorded in schema_migrations.
// Tables terminals, entries, txns, findings, cursors; views hq_find,
// hq_attention, hq_totals, hq_lag (docs/hq.md).
//
// # Findings
//
// Nothing is skipped silently: a gap, a fork (another entry under a Seq HQ
// holds, or a broken link to the previous hash), an altered entry (its hash
// does not recompute), an undecodable body or record, and a late delivery
// are each a findings row with the terminal and Seq.
//
// # Imports
//
// hq imports journal's codec and chain function only, never the engine,
// transport or sim.
//
// # Use
//
//	pool, _ := pgxpool.New(ctx, dsn)
//	c, _ := hq.NewCollector(hq.CollectorOptions{NATSURL: url, Pool: pool, Logger: lg})
//	go c.Run(ctx)
//	ts, _ := hq.Find(ctx, pool, hq.FindQuery{ReceiptNo: "R1234"})
package hq
