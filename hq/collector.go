package hq

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/journal"
)

// Defaults of CollectorOptions.
const (
	DefaultStream      = "WBPAY_JOURNAL"
	DefaultDurable     = "hq"
	DefaultDedupWindow = 2 * time.Minute
	DefaultBatch       = 2000
	DefaultMaxWait     = time.Second
	DefaultAckWait     = time.Minute
)

// CollectorOptions configure NewCollector. NATSURL and Pool are required.
type CollectorOptions struct {
	NATSURL     string
	NATSOptions []nats.Option
	Pool        *pgxpool.Pool
	Stream      string        // default DefaultStream, capturing journal.SubjectPrefix + ">"
	Durable     string        // the durable consumer's name, default DefaultDurable
	DedupWindow time.Duration // the stream's duplicate window, default 2m
	Batch       int           // messages per fetch and per PostgreSQL transaction, default 2000
	MaxWait     time.Duration // longest wait for a batch to fill, default 1s
	AckWait     time.Duration // redelivery after this long without an ack, default 1m
	Logger      *zap.Logger   // nil means zap.NewNop()
	Now         func() time.Time
}

// Collector consumes the stream with a durable pull consumer, verifies each
// terminal's chain as entries arrive and stores entries, transactions and
// findings in PostgreSQL, one transaction per fetched batch, acknowledging
// the batch only after the commit. Run one collector per durable consumer.
type Collector struct {
	o     CollectorOptions
	log   *zap.Logger
	terms map[string]*termState // cache of terminals' chain heads; dropped after a failed batch
	cur   uint64                // the cursor: stream sequence of the last message committed

	// Counters for the bench and the logs.
	Stored, Duplicates, Findings uint64
}

// termState is what the collector knows of a terminal's chain.
type termState struct {
	id      int32
	maxSeq  uint64
	maxHash []byte // raw stored hash of maxSeq
	touched bool
	shipped time.Time
	stored  int64
	found   int64
}

// NewCollector checks opts; it connects nothing.
func NewCollector(opts CollectorOptions) (*Collector, error) {
	if opts.NATSURL == "" || opts.Pool == nil {
		return nil, errors.New("hq: collector needs a NATS URL and a database")
	}
	if opts.Stream == "" {
		opts.Stream = DefaultStream
	}
	if opts.Durable == "" {
		opts.Durable = DefaultDurable
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = DefaultDedupWindow
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.AckWait <= 0 {
		opts.AckWait = DefaultAckWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	lg := opts.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	return &Collector{o: opts, log: lg, terms: map[string]*termState{}}, nil
}

// EnsureStream creates or updates the stream that captures every shipped
// entry (file storage, kept until deleted by an operator, duplicate window
// dedup).
func EnsureStream(ctx context.Context, js jetstream.JetStream, name string, dedup time.Duration) (jetstream.Stream, error) {
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{journal.SubjectPrefix + ">"},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Duplicates: dedup, Discard: jetstream.DiscardOld})
	if err != nil {
		return nil, fmt.Errorf("hq: stream %s: %w", name, err)
	}
	return st, nil
}

// Run migrates the database, ensures the stream, positions the durable
// consumer after the stream sequence recorded in PostgreSQL (the cursor,
// committed with each batch), and collects until ctx ends (then nil).
// Deliveries must follow the stream without a hole: after a crash, a lost
// acknowledgement or a NATS restart, any delivery that skips ahead makes the
// collector reposition the consumer at the cursor again, so that entries
// are stored in stream order and nothing acknowledged is unprocessed. NATS
// and PostgreSQL errors are logged and retried with back-off.
func (c *Collector) Run(ctx context.Context) error {
	if _, err := Migrate(ctx, c.o.Pool); err != nil {
		return err
	}
	opts := append([]nats.Option{nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true), nats.ReconnectWait(time.Second),
		nats.Name("wbpay-hq-collector")}, c.o.NATSOptions...)
	nc, err := nats.Connect(c.o.NATSURL, opts...)
	if err != nil {
		return fmt.Errorf("hq: connect %s: %w", c.o.NATSURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("hq: jetstream: %w", err)
	}
	backoff := time.Duration(0)
	wait := func(err error) bool {
		backoff = min(max(2*backoff, 200*time.Millisecond), 10*time.Second)
		c.log.Warn("hq collector: retrying", zap.Duration("retry-in", backoff), zap.Error(err))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
			return true
		}
	}
	// A fetcher goroutine fetches and decodes the next batch while this one
	// stores the current one; reset stops it (and drops what it fetched)
	// before the consumer is positioned again.
	var ch chan fetched
	var stopFetch context.CancelFunc
	reset := func() {
		if ch != nil {
			stopFetch()
			for range ch {
			}
			ch = nil
		}
	}
	defer reset()
	for ctx.Err() == nil {
		if ch == nil {
			cons, err := c.position(ctx, js)
			if err != nil {
				if !wait(err) {
					break
				}
				continue
			}
			fctx, cancel := context.WithCancel(ctx)
			stopFetch = cancel
			ch = make(chan fetched, 1)
			go c.fetchLoop(fctx, cons, ch)
		}
		var f fetched
		var ok bool
		select {
		case f, ok = <-ch:
		case <-ctx.Done():
			return nil
		}
		if !ok || f.err != nil {
			reset()
			if !ok {
				continue
			}
			if !wait(f.err) {
				break
			}
			continue
		}
		t0 := time.Now()
		done, err := c.process(ctx, f.ds)
		c.log.Debug("hq collector: batch", zap.Int("messages", len(f.msgs)), zap.Duration("took", time.Since(t0)))
		if err != nil {
			reset() // not acknowledged: position at the cursor again
			if ctx.Err() != nil || !wait(err) {
				break
			}
			continue
		}
		backoff = 0
		if done > 0 {
			// AckAll: acknowledging the last message processed
			// acknowledges everything before it.
			if err := f.msgs[done-1].Ack(); err != nil {
				c.log.Warn("hq collector: ack failed (the cursor in PostgreSQL decides)", zap.Error(err))
			}
		}
		if done < len(f.msgs) {
			c.log.Info("hq collector: delivery skipped ahead of the cursor; positioning again")
			reset()
		}
	}
	return nil
}

// fetched is one fetched batch, decoded, or the error that ended fetching.
type fetched struct {
	msgs []jetstream.Msg
	ds   []delivery
	err  error
}

// fetchLoop fetches batches from cons and sends them decoded to out until
// ctx ends or a fetch fails (sent as the last item); it closes out.
func (c *Collector) fetchLoop(ctx context.Context, cons jetstream.Consumer, out chan<- fetched) {
	defer close(out)
	send := func(f fetched) bool {
		select {
		case out <- f:
			return f.err == nil
		case <-ctx.Done():
			return false
		}
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(c.o.Batch, jetstream.FetchMaxWait(c.o.MaxWait))
		if err != nil {
			send(fetched{err: err})
			return
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				send(fetched{err: err}) // consumer gone, connection lost: position again
				return
			}
			continue
		}
		ds, err := deliveries(msgs)
		if !send(fetched{msgs: msgs, ds: ds, err: err}) {
			return
		}
	}
}

// position ensures the stream and (re)creates the durable consumer so that
// it delivers from the stream sequence after the cursor.
func (c *Collector) position(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	st, err := EnsureStream(ctx, js, c.o.Stream, c.o.DedupWindow)
	if err != nil {
		return nil, err
	}
	cur, err := c.cursor(ctx)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("hq: stream %s: %w", c.o.Stream, err)
	}
	if first := info.State.FirstSeq; info.State.Msgs > 0 && first > cur+1 {
		c.log.Error("hq collector: the stream no longer holds messages after the cursor (removed by limits or an operator); the terminals' gaps will be findings",
			zap.Uint64("cursor", cur), zap.Uint64("stream-first-seq", first))
		cur = first - 1
	}
	c.cur = cur
	if err := js.DeleteConsumer(ctx, c.o.Stream, c.o.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("hq: reset consumer %s: %w", c.o.Durable, err)
	}
	cons, err := js.CreateConsumer(ctx, c.o.Stream, jetstream.ConsumerConfig{Durable: c.o.Durable,
		AckPolicy: jetstream.AckAllPolicy, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: cur + 1,
		AckWait: c.o.AckWait, MaxAckPending: 2 * c.o.Batch, MaxRequestBatch: c.o.Batch})
	if err != nil {
		return nil, fmt.Errorf("hq: consumer %s: %w", c.o.Durable, err)
	}
	c.log.Info("hq collector consuming", zap.String("stream", c.o.Stream), zap.String("durable", c.o.Durable), zap.Uint64("from-stream-seq", cur+1))
	return cons, nil
}

// cursor reads the stream sequence of the last message committed.
func (c *Collector) cursor(ctx context.Context) (uint64, error) {
	var seq int64
	err := c.o.Pool.QueryRow(ctx, "SELECT stream_seq FROM cursors WHERE stream = $1", c.o.Stream).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("hq: read cursor: %w", err)
	}
	return uint64(seq), nil
}

// delivery is one message as the collector reads it.
type delivery struct {
	streamSeq      uint64
	subject, msgID string
	rec            *journal.ShipRecord // nil when err is set
	err            error               // why the message is not a record
}

// Process verifies and stores one batch of messages in one PostgreSQL
// transaction, with the cursor. It returns how many of msgs, from the
// first, are done (stored, or at or below the cursor): fewer than
// len(msgs) when a delivery skips ahead of the cursor. It is Run's work.
func (c *Collector) Process(ctx context.Context, msgs []jetstream.Msg) (int, error) {
	ds, err := deliveries(msgs)
	if err != nil {
		return 0, err
	}
	return c.process(ctx, ds)
}

// deliveries reads the messages' stream sequences and decodes their records.
func deliveries(msgs []jetstream.Msg) ([]delivery, error) {
	ds := make([]delivery, 0, len(msgs))
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("hq: message metadata: %w", err)
		}
		d := delivery{streamSeq: md.Sequence.Stream, subject: m.Subject(), msgID: m.Headers().Get(jetstream.MsgIDHeader)}
		d.rec, d.err = journal.DecodeShipRecord(m.Data())
		ds = append(ds, d)
	}
	return ds, nil
}

// row is an entry to insert.
type row struct {
	tid     int32
	seq     uint64
	hash    []byte
	body    []byte
	txnID   string
	shipped time.Time
}

type finding struct {
	terminal string
	seq      uint64
	kind     string
	detail   string
}

type seqKey struct {
	tid int32
	seq uint64
}

type known struct {
	hash, body []byte
}

func (c *Collector) process(ctx context.Context, all []delivery) (int, error) {
	// Skip what the cursor says is committed; stop at a hole.
	cur, done := c.cur, 0
	var ds []delivery
	for _, d := range all {
		if d.streamSeq <= cur {
			done++
			continue
		}
		if d.streamSeq != cur+1 {
			break
		}
		ds = append(ds, d)
		cur, done = d.streamSeq, done+1
	}
	if len(ds) == 0 {
		return done, nil
	}
	recs := make([]*journal.ShipRecord, len(ds))
	var finds []finding
	for i, d := range ds {
		rec, err := d.rec, d.err
		if err == nil && d.subject != journal.ShipSubject(rec.MerchantID, rec.Terminal) {
			err = fmt.Errorf("record of %s/%s published on subject %s", rec.MerchantID, rec.Terminal, d.subject)
		}
		if err != nil {
			term, seq := fromEnvelope(d)
			finds = append(finds, finding{term, seq, "bad-record", err.Error()})
			continue
		}
		recs[i] = rec
	}
	now := c.o.Now().UTC()
	stored, dups := 0, 0
	err := pgx.BeginFunc(ctx, c.o.Pool, func(tx pgx.Tx) error {
		// Terminals seen for the first time by this collector.
		for _, r := range recs {
			if r == nil {
				continue
			}
			if _, ok := c.terms[r.Terminal]; ok {
				continue
			}
			st := &termState{}
			var maxSeq int64
			err := tx.QueryRow(ctx, `INSERT INTO terminals (terminal, merchant_id, store, terminal_code) VALUES ($1, $2, $3, $4)
				ON CONFLICT (terminal) DO UPDATE SET merchant_id = EXCLUDED.merchant_id, store = EXCLUDED.store, terminal_code = EXCLUDED.terminal_code
				RETURNING id, max_seq, max_hash`, r.Terminal, r.MerchantID, r.Store, r.TerminalCode).Scan(&st.id, &maxSeq, &st.maxHash)
			if err != nil {
				return fmt.Errorf("terminal %s: %w", r.Terminal, err)
			}
			st.maxSeq = uint64(maxSeq)
			c.terms[r.Terminal] = st
		}
		// Entries HQ may already hold: a Seq at or below a terminal's
		// head, and the neighbours of a late one.
		have := map[seqKey]known{}
		var lt []int32
		var ls []int64
		for _, r := range recs {
			if r == nil {
				continue
			}
			st := c.terms[r.Terminal]
			if r.Seq <= st.maxSeq+1 {
				for _, s := range []uint64{r.Seq - 1, r.Seq, r.Seq + 1} {
					if s > 0 && s <= st.maxSeq {
						lt, ls = append(lt, st.id), append(ls, int64(s))
					}
				}
			}
		}
		if len(lt) > 0 {
			rows, err := tx.Query(ctx, `SELECT e.terminal_id, e.seq, e.hash, e.body FROM entries e
				JOIN unnest($1::integer[], $2::bigint[]) AS k(t, s) ON e.terminal_id = k.t AND e.seq = k.s`, lt, ls)
			if err != nil {
				return fmt.Errorf("look up entries: %w", err)
			}
			for rows.Next() {
				var tid int32
				var seq int64
				var k known
				if err := rows.Scan(&tid, &seq, &k.hash, &k.body); err != nil {
					rows.Close()
					return err
				}
				have[seqKey{tid, uint64(seq)}] = k
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("look up entries: %w", err)
			}
		}
		var ins []row
		txns := map[txnKey]*journal.ShipTxn{}
		dups = 0
		for _, r := range recs {
			if r == nil {
				continue
			}
			st := c.terms[r.Terminal]
			st.touched = true
			if r.ShippedAt.After(st.shipped) {
				st.shipped = r.ShippedAt
			}
			hash, _ := hex.DecodeString(r.Hash) // checked by DecodeShipRecord
			key := seqKey{st.id, r.Seq}
			find := func(seq uint64, kind, format string, args ...any) {
				finds = append(finds, finding{r.Terminal, seq, kind, fmt.Sprintf(format, args...)})
				st.found++
			}
			if k, ok := have[key]; ok {
				if bytes.Equal(k.hash, hash) {
					dups++
					addTxn(txns, st.id, r) // a re-sent entry may carry a newer snapshot
					continue
				}
				find(r.Seq, "fork", "HQ holds entry %d with hash %x, received hash %s (the terminal's journal was rebuilt or forked); kept the first", r.Seq, k.hash, r.Hash)
				continue
			}
			if journal.EntryHash(r.PrevHash, r.Seq, r.Body) != r.Hash {
				find(r.Seq, "bad-hash", "stored hash %s does not recompute over the body: the entry was altered", r.Hash)
			}
			txnID := ""
			if e, err := journal.DecodeBody(r.Body); err != nil {
				find(r.Seq, "bad-body", "body does not decode: %v", err)
			} else {
				txnID = e.TxnID
				if r.Txn != nil && r.Txn.ID != e.TxnID {
					find(r.Seq, "bad-record", "snapshot of txn %s shipped with an entry of txn %s", r.Txn.ID, e.TxnID)
				} else {
					addTxn(txns, st.id, r)
				}
			}
			switch {
			case r.Seq == st.maxSeq+1:
				if prev := hex.EncodeToString(st.maxHash); r.Seq > 1 && r.PrevHash != prev {
					find(r.Seq, "fork", "entry %d follows hash %s on the terminal, HQ holds %s at %d", r.Seq, r.PrevHash, prev, r.Seq-1)
				}
				st.maxSeq, st.maxHash = r.Seq, hash
			case r.Seq > st.maxSeq+1:
				find(st.maxSeq+1, "gap", "entries %d to %d missing when entry %d arrived", st.maxSeq+1, r.Seq-1, r.Seq)
				st.maxSeq, st.maxHash = r.Seq, hash
			default: // a late entry below the head, not held yet
				find(r.Seq, "out-of-order", "entry %d arrived after entry %d", r.Seq, st.maxSeq)
				if p, ok := have[seqKey{st.id, r.Seq - 1}]; ok && hex.EncodeToString(p.hash) != r.PrevHash {
					find(r.Seq, "fork", "entry %d follows hash %s on the terminal, HQ holds %x at %d", r.Seq, r.PrevHash, p.hash, r.Seq-1)
				}
				if n, ok := have[seqKey{st.id, r.Seq + 1}]; ok && journal.EntryHash(r.Hash, r.Seq+1, n.body) != hex.EncodeToString(n.hash) {
					find(r.Seq+1, "fork", "entry %d held by HQ does not follow the late entry %d", r.Seq+1, r.Seq)
				}
			}
			have[key] = known{hash: hash, body: r.Body}
			ins = append(ins, row{tid: st.id, seq: r.Seq, hash: hash, body: r.Body, txnID: txnID, shipped: r.ShippedAt})
			st.stored++
		}
		if err := c.store(ctx, tx, ins, txns, finds, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cursors (stream, stream_seq) VALUES ($1, $2)
			ON CONFLICT (stream) DO UPDATE SET stream_seq = EXCLUDED.stream_seq`, c.o.Stream, int64(cur)); err != nil {
			return fmt.Errorf("store cursor: %w", err)
		}
		stored = len(ins)
		return nil
	})
	if err != nil {
		c.terms = map[string]*termState{} // the heads moved in memory only: read them again
		return 0, err
	}
	c.cur = cur
	c.Stored += uint64(stored)
	c.Duplicates += uint64(dups)
	c.Findings += uint64(len(finds))
	for _, f := range finds {
		c.log.Warn("hq finding", zap.String("terminal", f.terminal), zap.Uint64("seq", f.seq), zap.String("kind", f.kind), zap.String("detail", f.detail))
	}
	return done, nil
}

// fromEnvelope names the terminal and Seq of an unreadable record from its
// subject and Nats-Msg-Id (0 when they do not say).
func fromEnvelope(d delivery) (string, uint64) {
	term := "?"
	if i := strings.LastIndexByte(d.subject, '.'); i >= 0 && strings.HasPrefix(d.subject, journal.SubjectPrefix) {
		term = d.subject[i+1:]
	}
	var seq uint64
	if t, s, ok := strings.Cut(d.msgID, "/"); ok {
		if t != "" && term == "?" {
			term = t
		}
		seq, _ = strconv.ParseUint(s, 10, 64)
	}
	return term, seq
}

type txnKey struct {
	tid int32
	id  string
}

// addTxn keeps the newest snapshot of r's transaction.
func addTxn(m map[txnKey]*journal.ShipTxn, tid int32, r *journal.ShipRecord) {
	if r.Txn == nil || r.Txn.ID == "" {
		return
	}
	k := txnKey{tid, r.Txn.ID}
	if old, ok := m[k]; !ok || old.Seq < r.Txn.Seq {
		m[k] = r.Txn
	}
}

// store writes a batch: entries by COPY, snapshots through a staging table
// (newest snapshot_seq wins), findings once each, terminals' heads.
func (c *Collector) store(ctx context.Context, tx pgx.Tx, ins []row, txns map[txnKey]*journal.ShipTxn, finds []finding, now time.Time) error {
	if len(ins) > 0 {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"entries"}, []string{"terminal_id", "seq", "hash", "body", "txn_id", "shipped_at", "received_at"},
			pgx.CopyFromSlice(len(ins), func(i int) ([]any, error) {
				r := ins[i]
				return []any{r.tid, int64(r.seq), r.hash, r.body, r.txnID, r.shipped, now}, nil
			}))
		if err != nil {
			return fmt.Errorf("store entries: %w", err)
		}
	}
	if len(txns) > 0 {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS txns_stage (LIKE txns) ON COMMIT DELETE ROWS`); err != nil {
			return fmt.Errorf("stage txns: %w", err)
		}
		list := make([]struct {
			k txnKey
			t *journal.ShipTxn
		}, 0, len(txns))
		for k, t := range txns {
			list = append(list, struct {
				k txnKey
				t *journal.ShipTxn
			}{k, t})
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"txns_stage"}, []string{"terminal_id", "txn_id", "snapshot_seq", "op", "state", "amount",
			"order_id", "receipt_no", "pay_type", "trans_status", "target_request_id", "user_code_masked", "error_code", "recovered", "created_at", "updated_at"},
			pgx.CopyFromSlice(len(list), func(i int) ([]any, error) {
				k, t := list[i].k, list[i].t
				return []any{k.tid, t.ID, int64(t.Seq), t.Op, t.State, t.Amount, t.OrderID, t.ReceiptNo, t.PayType, int32(t.TransStatus),
					t.TargetRequestID, journal.MaskUserCode(t.UserCodeMasked), t.ErrorCode, t.Recovered, t.CreatedAt, t.UpdatedAt}, nil
			}))
		if err != nil {
			return fmt.Errorf("stage txns: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO txns SELECT * FROM txns_stage
			ON CONFLICT (terminal_id, txn_id) DO UPDATE SET snapshot_seq = EXCLUDED.snapshot_seq, op = EXCLUDED.op, state = EXCLUDED.state,
				amount = EXCLUDED.amount, order_id = EXCLUDED.order_id, receipt_no = EXCLUDED.receipt_no, pay_type = EXCLUDED.pay_type,
				trans_status = EXCLUDED.trans_status, target_request_id = EXCLUDED.target_request_id, user_code_masked = EXCLUDED.user_code_masked,
				error_code = EXCLUDED.error_code, recovered = EXCLUDED.recovered, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
			WHERE txns.snapshot_seq < EXCLUDED.snapshot_seq`); err != nil {
			return fmt.Errorf("store txns: %w", err)
		}
	}
	if len(finds) > 0 {
		b := &pgx.Batch{}
		for _, f := range finds {
			b.Queue(`INSERT INTO findings (terminal, seq, kind, detail, found_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (terminal, seq, kind) DO NOTHING`, f.terminal, int64(f.seq), f.kind, f.detail, now)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("store findings: %w", err)
		}
	}
	// The touched terminals' heads, in one statement.
	var ids []int32
	var maxSeqs, added []int64
	var hashes [][]byte
	var shipped []*time.Time
	var withFindings []int32
	for _, st := range c.terms {
		if !st.touched {
			continue
		}
		ids, maxSeqs, hashes, added = append(ids, st.id), append(maxSeqs, int64(st.maxSeq)), append(hashes, st.maxHash), append(added, st.stored)
		var sh *time.Time
		if !st.shipped.IsZero() {
			v := st.shipped
			sh = &v
		}
		shipped = append(shipped, sh)
		if st.found > 0 {
			withFindings = append(withFindings, st.id)
		}
		st.touched, st.stored, st.found = false, 0, 0
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE terminals t SET max_seq = u.max_seq, max_hash = u.max_hash, entries = t.entries + u.added,
				last_shipped_at = greatest(t.last_shipped_at, u.shipped), last_received_at = $6
			FROM unnest($1::integer[], $2::bigint[], $3::bytea[], $4::bigint[], $5::timestamptz[]) AS u(id, max_seq, max_hash, added, shipped)
			WHERE t.id = u.id`, ids, maxSeqs, hashes, added, shipped, now); err != nil {
			return fmt.Errorf("update terminals: %w", err)
		}
	}
	if len(withFindings) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE terminals t SET findings = (SELECT count(*) FROM findings f WHERE f.terminal = t.terminal)
			WHERE t.id = ANY($1::integer[])`, withFindings); err != nil {
			return fmt.Errorf("update terminals: %w", err)
		}
	}
	return nil
}
