package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wbpay/wbpay/hq"
	"github.com/wbpay/wbpay/journal"
)

func init() { verbs = append(verbs, newHQCommand) }

// hqOptions are the flags shared by the hq verbs.
type hqOptions struct {
	db     string
	nats   string
	stream string
}

func newHQCommand(g *globals) *cobra.Command {
	o := &hqOptions{}
	cmd := &cobra.Command{
		Use:   "hq",
		Short: "HQ side of shipping: collect every terminal's journal into PostgreSQL, verify the chains, query them",
		Long: `hq collects the journals that terminals ship (see ship and ShipURL) from NATS
JetStream into PostgreSQL, verifying each terminal's hash chain as entries
arrive, and answers chain-wide questions. See docs/hq.md for the schema and
the SQL views (hq_find, hq_attention, hq_totals, hq_lag).

--db is a PostgreSQL connection string (default $WBPAY_HQ_DB); --nats the
NATS server (default $WBPAY_HQ_NATS).`,
		Example: `  wbpay-engine hq collect --nats nats://hq:4222 --db postgres://hq@127.0.0.1/wbpay
  wbpay-engine hq find --receipt R1234 --db postgres://hq@127.0.0.1/wbpay
  WBPAY_HQ_DB=postgres://hq@127.0.0.1/wbpay wbpay-engine hq attention`,
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.db, "db", os.Getenv("WBPAY_HQ_DB"), "PostgreSQL connection string, e.g. postgres://hq@127.0.0.1/wbpay")
	pf.StringVar(&o.nats, "nats", os.Getenv("WBPAY_HQ_NATS"), "NATS server URL(s) of the stream")
	pf.StringVar(&o.stream, "stream", hq.DefaultStream, "JetStream stream name")
	cmd.AddCommand(newHQCollect(g, o), newHQFind(g, o), newHQAttention(g, o), newHQTotals(g, o), newHQLag(g, o),
		newHQFindings(g, o), newHQVerify(g, o))
	return cmd
}

// infoLogger logs at Info and above to stderr, for the long-running verbs.
func infoLogger(g *globals, name string) *zap.Logger {
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(g.stderr), zapcore.InfoLevel)).Named(name)
}

func (o *hqOptions) pool(ctx context.Context) (*pgxpool.Pool, error) {
	if o.db == "" {
		return nil, usageErrorf("--db is empty (or set WBPAY_HQ_DB)")
	}
	pool, err := pgxpool.New(ctx, o.db)
	if err != nil {
		return nil, withExit(ExitLibrary, fmt.Errorf("--db: %w", err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, withExit(ExitLibrary, fmt.Errorf("--db: %w", err))
	}
	return pool, nil
}

// hqQuery opens the HQ database, runs query on it and closes it; a failed
// query exits 1.
func hqQuery[T any](ctx context.Context, o *hqOptions, query func(context.Context, *pgxpool.Pool) (T, error)) (T, error) {
	var zero T
	pool, err := o.pool(ctx)
	if err != nil {
		return zero, err
	}
	defer pool.Close()
	v, err := query(ctx, pool)
	if err != nil {
		return zero, withExit(ExitLibrary, err)
	}
	return v, nil
}

// printList writes items as a JSON array (never null) or as a table with
// header and one row of each.
func printList[T any](g *globals, items []T, header []string, row func(T) []string) error {
	if g.json() {
		if items == nil {
			items = []T{}
		}
		return jsonOrExit(g, items)
	}
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, row(it))
	}
	table(g.stdout, header, rows)
	return nil
}

func newHQCollect(g *globals, o *hqOptions) *cobra.Command {
	var durable string
	var batch int
	var dedup time.Duration
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Consume the stream into PostgreSQL, verifying every terminal's chain (runs until interrupted)",
		Long: `collect applies the schema migrations, ensures the stream (subjects
wbpay.journal.>) and a durable pull consumer, and stores every entry once per
(terminal, Seq), with the transactions derived from it. Each fetched batch is
one PostgreSQL transaction, acknowledged only after its commit, so a crash
at any moment loses nothing and a redelivery is a no-op. Every gap, fork,
altered entry or late delivery becomes a finding (hq findings). Run one
collector per durable consumer.`,
		Example: `  wbpay-engine hq collect --nats nats://hq:4222 --db postgres://hq@127.0.0.1/wbpay
  wbpay-engine hq collect --nats tls://hq:4222 --db "$WBPAY_HQ_DB" --batch 5000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.nats == "" {
				return usageErrorf("--nats is empty (or set WBPAY_HQ_NATS)")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			pool, err := o.pool(ctx)
			if err != nil {
				return err
			}
			defer pool.Close()
			lg := infoLogger(g, "hq")
			c, err := hq.NewCollector(hq.CollectorOptions{NATSURL: o.nats, Pool: pool, Stream: o.stream, Durable: durable,
				Batch: batch, DedupWindow: dedup, Logger: lg})
			if err != nil {
				return withExit(ExitLibrary, err)
			}
			if err := c.Run(ctx); err != nil {
				return withExit(ExitLibrary, err)
			}
			lg.Info("collector stopped", zap.Uint64("stored", c.Stored), zap.Uint64("duplicates", c.Duplicates), zap.Uint64("findings", c.Findings))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&durable, "durable", hq.DefaultDurable, "durable consumer name")
	f.IntVar(&batch, "batch", hq.DefaultBatch, "messages per fetch and per PostgreSQL transaction")
	f.DurationVar(&dedup, "dedup-window", hq.DefaultDedupWindow, "the stream's duplicate window (Nats-Msg-Id)")
	return cmd
}

func newHQFind(g *globals, o *hqOptions) *cobra.Command {
	var q hq.FindQuery
	since, until := &timeFlag{}, &timeFlag{until: true}
	cmd := &cobra.Command{
		Use:   "find",
		Short: "Find transactions chain-wide by receipt, order, transaction id, store or terminal and time",
		Long: `find lists the transactions HQ holds that match every flag given, oldest
first (the view hq_find). --since and --until take RFC 3339 or a JST date.
Exit code 0 when something matched, 3 when nothing did.`,
		Example: `  wbpay-engine hq find --receipt R1234 --store 17
  wbpay-engine hq find --terminal 1234501234561 --since 2026-11-25 --until 2026-11-25 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q.Since, q.Until = since.t, until.t
			if q == (hq.FindQuery{Limit: q.Limit}) {
				return usageErrorf("give at least one of --receipt, --order, --txn, --store, --terminal, --since, --until")
			}
			ts, err := hqQuery(cmd.Context(), o, func(ctx context.Context, pool *pgxpool.Pool) ([]hq.Txn, error) { return hq.Find(ctx, pool, q) })
			if err != nil {
				return err
			}
			return printHQTxns(g, ts, true)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.ReceiptNo, "receipt", "", "receipt number (receiptNo)")
	f.StringVar(&q.OrderID, "order", "", "the gateway's order id")
	f.StringVar(&q.TxnID, "txn", "", "transaction id")
	f.StringVar(&q.Store, "store", "", "store (BranchCode)")
	f.StringVar(&q.Terminal, "terminal", "", "terminal (TerminalUniquId)")
	f.Var(since, "since", "created at or after (RFC 3339 or a JST date)")
	f.Var(until, "until", "created before (RFC 3339, or a JST date: through its end)")
	f.IntVar(&q.Limit, "limit", 1000, "at most this many")
	return cmd
}

func newHQAttention(g *globals, o *hqOptions) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "attention",
		Short: "Transactions that need a person (escalated) or are unfinished, chain-wide, oldest first",
		Long: `attention lists, oldest first, every transaction HQ holds whose state is
escalated (a person must act) or not finished (the view hq_attention).`,
		Example: `  wbpay-engine hq attention --db postgres://hq@127.0.0.1/wbpay
  wbpay-engine hq attention --limit 20 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ts, err := hqQuery(cmd.Context(), o, func(ctx context.Context, pool *pgxpool.Pool) ([]hq.Txn, error) { return hq.Attention(ctx, pool, limit) })
			if err != nil {
				return err
			}
			return printHQTxns(g, ts, false)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 1000, "at most this many")
	return cmd
}

// printHQTxns prints transactions; notFound makes an empty list exit 3.
func printHQTxns(g *globals, ts []hq.Txn, notFound bool) error {
	if g.json() {
		if ts == nil {
			ts = []hq.Txn{}
		}
		if err := jsonOrExit(g, ts); err != nil {
			return err
		}
	} else {
		rows := make([][]string, 0, len(ts))
		for _, t := range ts {
			rows = append(rows, []string{jst(t.CreatedAt), t.Store, t.Terminal, t.Op, t.State, yen(t.Amount), t.ReceiptNo, t.OrderID,
				t.UserCodeMasked, t.ErrorCode, t.TxnID})
		}
		table(g.stdout, []string{"CREATED (JST)", "STORE", "TERMINAL", "OP", "STATE", "AMOUNT", "RECEIPT", "ORDER", "USER CODE", "ERROR", "ID"}, rows)
	}
	if notFound && len(ts) == 0 {
		if !g.json() {
			fmt.Fprintln(g.stderr, "nothing found")
		}
		return silentExit(ExitRefused)
	}
	return nil
}

func newHQTotals(g *globals, o *hqOptions) *cobra.Command {
	var q hq.TotalsQuery
	cmd := &cobra.Command{
		Use:   "totals",
		Short: "Count and amount per day (JST), store or terminal, channel, operation and state",
		Example: `  wbpay-engine hq totals --since 2026-11-01 --until 2026-12-01
  wbpay-engine hq totals --by terminal --store 17`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, d := range []struct{ flag, v string }{{"--since", q.Since}, {"--until", q.Until}} {
				if d.v != "" {
					if _, err := time.Parse("2006-01-02", d.v); err != nil {
						return usageErrorf("%s %q: want a date YYYY-MM-DD (JST)", d.flag, d.v)
					}
				}
			}
			if q.By != "store" && q.By != "terminal" {
				return usageErrorf("--by %q: want store or terminal", q.By)
			}
			ts, err := hqQuery(cmd.Context(), o, func(ctx context.Context, pool *pgxpool.Pool) ([]hq.Total, error) { return hq.Totals(ctx, pool, q) })
			if err != nil {
				return err
			}
			return printList(g, ts, []string{"DAY", "STORE", "TERMINAL", "CHANNEL", "OP", "STATE", "COUNT", "AMOUNT"}, func(t hq.Total) []string {
				return []string{t.Day, t.Store, t.Terminal, t.Channel, t.Op, t.State, strconv.FormatInt(t.N, 10), yen(t.Amount)}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.By, "by", "store", "store or terminal")
	f.StringVar(&q.Since, "since", "", "first day (YYYY-MM-DD, JST)")
	f.StringVar(&q.Until, "until", "", "day after the last (YYYY-MM-DD, JST, exclusive)")
	f.StringVar(&q.Store, "store", "", "only this store")
	return cmd
}

func newHQLag(g *globals, o *hqOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lag",
		Short: "Each terminal's last Seq at HQ against the last in the stream, and its chain status",
		Long: `lag lists every terminal HQ has heard of: the last Seq stored, the entries
held and missing, the findings and the chain status (ok, gaps, damaged), the
time of the newest shipped entry; with --nats also the last Seq the stream
holds for it (what is still to be collected).`,
		Example: `  wbpay-engine hq lag --db postgres://hq@127.0.0.1/wbpay
  wbpay-engine hq lag --nats nats://hq:4222 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			ls, err := hqQuery(ctx, o, func(ctx context.Context, pool *pgxpool.Pool) ([]hq.Lag, error) { return hq.Lags(ctx, pool) })
			if err != nil {
				return err
			}
			if o.nats != "" {
				if err := streamSeqs(ctx, o, ls); err != nil {
					return withExit(ExitLibrary, err)
				}
			}
			return printList(g, ls, []string{"TERMINAL", "STORE", "LAST SEQ AT HQ", "LAST IN STREAM", "MISSING", "FINDINGS", "CHAIN", "LAST SHIPPED (JST)"}, func(l hq.Lag) []string {
				stream, shipped := "", ""
				if o.nats != "" {
					stream = strconv.FormatUint(l.StreamSeq, 10)
				}
				if l.LastShippedAt != nil {
					shipped = jst(*l.LastShippedAt)
				}
				return []string{l.Terminal, l.Store, strconv.FormatInt(l.MaxSeq, 10), stream, strconv.FormatInt(l.Missing, 10),
					strconv.FormatInt(l.Findings, 10), l.Chain, shipped}
			})
		},
	}
	return cmd
}

// streamSeqs fills each lag's StreamSeq from the stream's last message of
// the terminal's subject.
func streamSeqs(ctx context.Context, o *hqOptions, ls []hq.Lag) error {
	nc, err := nats.Connect(o.nats, nats.Name("wbpay-hq-lag"))
	if err != nil {
		return fmt.Errorf("--nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	st, err := js.Stream(ctx, o.stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", o.stream, err)
	}
	for i := range ls {
		m, err := st.GetLastMsgForSubject(ctx, journal.ShipSubject(ls[i].MerchantID, ls[i].Terminal))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stream %s: last of %s: %w", o.stream, ls[i].Terminal, err)
		}
		id := m.Header.Get(jetstream.MsgIDHeader)
		if _, s, ok := strings.Cut(id, "/"); ok {
			ls[i].StreamSeq, _ = strconv.ParseUint(s, 10, 64)
		}
	}
	return nil
}

func newHQFindings(g *globals, o *hqOptions) *cobra.Command {
	var terminal string
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "Every gap, fork, altered entry or late delivery recorded, by terminal and Seq",
		Long: `findings lists the damage the collector recorded (kinds gap, fork, bad-hash,
bad-body, bad-record, out-of-order; see docs/hq.md), by terminal and Seq.`,
		Example: `  wbpay-engine hq findings --db postgres://hq@127.0.0.1/wbpay
  wbpay-engine hq findings --terminal 1234501234561 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs, err := hqQuery(cmd.Context(), o, func(ctx context.Context, pool *pgxpool.Pool) ([]hq.Finding, error) {
				return hq.Findings(ctx, pool, terminal)
			})
			if err != nil {
				return err
			}
			return printList(g, fs, []string{"TERMINAL", "SEQ", "KIND", "DETAIL"}, func(f hq.Finding) []string {
				return []string{f.Terminal, strconv.FormatInt(f.Seq, 10), f.Kind, f.Detail}
			})
		},
	}
	cmd.Flags().StringVar(&terminal, "terminal", "", "only this terminal")
	return cmd
}

func newHQVerify(g *globals, o *hqOptions) *cobra.Command {
	var terminal string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute every terminal's chain as stored at HQ with the journal's own hash function",
		Long: `verify reads each terminal's entries at HQ in Seq order and recomputes every
hash over the previous one and the body, as the terminal's journal does.
Exit code 0 when every chain verifies, 1 when one does not (the table names
the first bad Seq).`,
		Example: `  wbpay-engine hq verify --db postgres://hq@127.0.0.1/wbpay
  wbpay-engine hq verify --terminal 1234501234561`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pool, err := o.pool(ctx)
			if err != nil {
				return err
			}
			defer pool.Close()
			ls, err := hq.Lags(ctx, pool)
			if err != nil {
				return withExit(ExitLibrary, err)
			}
			var out []hq.ChainCheck
			bad := false
			for _, l := range ls {
				if terminal != "" && l.Terminal != terminal {
					continue
				}
				c, err := hq.VerifyChain(ctx, pool, l.Terminal)
				if err != nil {
					return withExit(ExitLibrary, err)
				}
				bad = bad || !c.OK
				out = append(out, c)
			}
			if g.json() {
				if out == nil {
					out = []hq.ChainCheck{}
				}
				if err := jsonOrExit(g, out); err != nil {
					return err
				}
			} else {
				rows := make([][]string, 0, len(out))
				for _, c := range out {
					v := "ok"
					if !c.OK {
						v = fmt.Sprintf("BAD at %d: %s", c.BadSeq, c.Reason)
					}
					rows = append(rows, []string{c.Terminal, strconv.FormatInt(c.Entries, 10), strconv.FormatInt(c.LastSeq, 10), v})
				}
				table(g.stdout, []string{"TERMINAL", "ENTRIES", "LAST SEQ", "CHAIN"}, rows)
			}
			if bad {
				return silentExit(ExitLibrary)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&terminal, "terminal", "", "only this terminal")
	return cmd
}
