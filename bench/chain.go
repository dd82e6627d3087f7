package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/hq"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/ship"
)

// Targets of issue 15.
const (
	TargetChainRate   = 20_000 // entries/s at HQ with verification
	TargetChainLookup = 20 * time.Millisecond
)

// ChainConfig configures RunChain: Terminals journals of Entries entries
// each (finished pays, two entries per pay, built with the history filler
// in BuildDir), shipped through the NATS server at NATSURL into the
// PostgreSQL at DSN (its database must be empty or absent of hq tables).
type ChainConfig struct {
	Terminals, Entries int
	BuildDir           string
	NATSURL, DSN       string
	// DrainDSN is a second, empty database for the collector-only drain
	// (the stream collected again, nothing shipped meanwhile); "" skips it.
	DrainDSN string
	// Parallel is how many shippers run at once (default 64).
	Parallel int
	// Lookups is how many receipt lookups are timed (default 200).
	Lookups  int
	Logger   *zap.Logger
	Progress io.Writer // nil: no progress lines
}

// ChainReport is what RunChain measured.
type ChainReport struct {
	Terminals, EntriesPerTerminal int
	Entries                       int64
	Build                         time.Duration // building the journals (not part of any figure)
	Ship                          time.Duration // first publish to the last shipper done
	EndToEnd                      time.Duration // first publish to HQ holding every entry
	EndToEndRate                  float64       // entries/s, shipping and collecting at once on the same machine
	Drain                         time.Duration // collector alone over the whole stream into a second database
	DrainRate                     float64       // entries/s at HQ with verification, nothing else running
	LagP50, LagP99                time.Duration // publish → HQ commit, per entry, during the end-to-end run
	DBBytes                       int64         // pg_database_size after the end-to-end run
	EntriesBytes                  int64         // pg_total_relation_size of entries (heap, TOAST, index)
	TxnsBytes                     int64         // pg_total_relation_size of txns
	BytesPerEntry                 float64       // DBBytes / Entries
	LookupP50, LookupP99          time.Duration // hq.Find by receiptNo, chain-wide
	Findings                      int64         // must be 0
	Verified                      int           // terminals whose chain VerifyChain recomputed
	VerifyFailed                  int
}

// RunChain builds the journals, ships them all while a collector runs,
// then measures the drain rate, the disk, the lag and the lookups.
func RunChain(ctx context.Context, cfg ChainConfig) (*ChainReport, error) {
	if cfg.Parallel <= 0 {
		cfg.Parallel = 64
	}
	if cfg.Lookups <= 0 {
		cfg.Lookups = 200
	}
	lg := cfg.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "chain: "+format+"\n", args...)
		}
	}
	rep := &ChainReport{Terminals: cfg.Terminals, EntriesPerTerminal: cfg.Entries}
	dir, err := os.MkdirTemp(cfg.BuildDir, "wbpay-chain-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// Build: one journal per terminal, receipts unique chain-wide.
	start := time.Now()
	confs := make([]*config.Config, cfg.Terminals)
	paths := make([]string, cfg.Terminals)
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(2)
	var built atomic.Int64
	for i := range cfg.Terminals {
		c := config.Default()
		c.ShipURL, c.MerchantID = cfg.NATSURL, "123456789012"
		c.TerminalUniqueID = fmt.Sprintf("%05d0%06d%d", 10000+i/10000, i/10, i%10)
		c.BranchCode, c.TerminalCode = fmt.Sprintf("S%05d", i/10), fmt.Sprintf("T%d", i%10)
		confs[i], paths[i] = c, filepath.Join(dir, fmt.Sprintf("t%05d.journal", i))
		g.Go(func() error {
			if err := buildChainJournal(paths[i], i, cfg.Entries); err != nil {
				return fmt.Errorf("terminal %d: %w", i, err)
			}
			if n := built.Add(1); n%100 == 0 {
				progress("built %d/%d journals", n, cfg.Terminals)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rep.Build = time.Since(start)
	rep.Entries = int64(cfg.Terminals) * int64(cfg.Entries/2*2)
	progress("built %d journals of %d entries in %v", cfg.Terminals, cfg.Entries, rep.Build.Round(time.Second))

	pool, err := pgxpool.New(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	cctx, stopCollector := context.WithCancel(ctx)
	col, err := hq.NewCollector(hq.CollectorOptions{NATSURL: cfg.NATSURL, Pool: pool, Logger: lg.Named("hq")})
	if err != nil {
		stopCollector()
		return nil, err
	}
	colDone := make(chan struct{})
	go func() {
		defer close(colDone)
		if err := col.Run(cctx); err != nil {
			lg.Error("collector", zap.Error(err))
		}
	}()
	defer func() { stopCollector(); <-colDone }()

	// Ship everything, Parallel shippers at a time, the collector running.
	start = time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Parallel)
	var shipped atomic.Int64
	for i := range cfg.Terminals {
		g.Go(func() error {
			j, err := journal.Open(paths[i], journal.Options{})
			if err != nil {
				return err
			}
			defer j.Close()
			s, err := ship.New(ship.Options{Journal: j, Config: confs[i], Logger: lg.Named("ship"), ExitWhenIdle: true})
			if err != nil {
				return err
			}
			if err := s.Run(gctx); err != nil {
				return err
			}
			if n := shipped.Add(1); n%100 == 0 {
				progress("shipped %d/%d terminals (%v)", n, cfg.Terminals, time.Since(start).Round(time.Second))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rep.Ship = time.Since(start)
	if err := waitEntries(ctx, pool, rep.Entries, 30*time.Minute); err != nil {
		return nil, err
	}
	rep.EndToEnd = time.Since(start)
	rep.EndToEndRate = float64(rep.Entries) / rep.EndToEnd.Seconds()
	progress("end to end: %d entries in %v (%.0f/s; shipping done after %v)", rep.Entries, rep.EndToEnd.Round(time.Millisecond), rep.EndToEndRate, rep.Ship.Round(time.Millisecond))
	stopCollector()
	<-colDone

	var p50, p99 float64
	if err := pool.QueryRow(ctx, `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - shipped_at)),
		percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - shipped_at)) FROM entries`).Scan(&p50, &p99); err != nil {
		return nil, fmt.Errorf("lag: %w", err)
	}
	rep.LagP50, rep.LagP99 = time.Duration(p50*float64(time.Second)), time.Duration(p99*float64(time.Second))
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT pg_database_size(current_database()), pg_total_relation_size('entries'), pg_total_relation_size('txns'),
		(SELECT count(*) FROM findings)`).Scan(&rep.DBBytes, &rep.EntriesBytes, &rep.TxnsBytes, &rep.Findings); err != nil {
		return nil, err
	}
	rep.BytesPerEntry = float64(rep.DBBytes) / float64(rep.Entries)

	// Lookups by receipt, chain-wide, random terminals and pays.
	rng := rand.New(rand.NewPCG(7, 7))
	var ds []time.Duration
	for range cfg.Lookups {
		term, pay := rng.IntN(cfg.Terminals), rng.IntN(max(cfg.Entries/2, 1))
		t0 := time.Now()
		ts, err := hq.Find(ctx, pool, hq.FindQuery{ReceiptNo: chainReceipt(term, pay)})
		d := time.Since(t0)
		if err != nil {
			return nil, err
		}
		if len(ts) != 1 {
			return nil, fmt.Errorf("receipt %s: %d transactions, want 1", chainReceipt(term, pay), len(ts))
		}
		ds = append(ds, d)
	}
	rep.LookupP50, rep.LookupP99 = pct(ds, 50), pct(ds, 99)

	// Every chain recomputed at HQ (a sample of 50 terminals when more).
	step := max(cfg.Terminals/50, 1)
	for i := 0; i < cfg.Terminals; i += step {
		c, err := hq.VerifyChain(ctx, pool, confs[i].TerminalUniqueID)
		if err != nil {
			return nil, err
		}
		rep.Verified++
		if !c.OK || c.Entries != int64(cfg.Entries/2*2) {
			rep.VerifyFailed++
		}
	}

	if cfg.DrainDSN != "" {
		dpool, err := pgxpool.New(ctx, cfg.DrainDSN)
		if err != nil {
			return nil, err
		}
		defer dpool.Close()
		dc, err := hq.NewCollector(hq.CollectorOptions{NATSURL: cfg.NATSURL, Pool: dpool, Durable: "bench-drain", Logger: lg.Named("drain")})
		if err != nil {
			return nil, err
		}
		if _, err := hq.Migrate(ctx, dpool); err != nil {
			return nil, err
		}
		dctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		start = time.Now()
		go func() { done <- dc.Run(dctx) }()
		err = waitEntries(ctx, dpool, rep.Entries, 30*time.Minute)
		rep.Drain = time.Since(start)
		stop()
		<-done
		if err != nil {
			return nil, err
		}
		rep.DrainRate = float64(rep.Entries) / rep.Drain.Seconds()
		progress("drain: %d entries in %v (%.0f/s)", rep.Entries, rep.Drain.Round(time.Millisecond), rep.DrainRate)
	}
	return rep, nil
}

// waitEntries polls until the database holds n entries.
func waitEntries(ctx context.Context, pool *pgxpool.Pool, n int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var got int64
		err := pool.QueryRow(ctx, "SELECT coalesce(sum(entries), 0)::bigint FROM terminals").Scan(&got)
		if err == nil && got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("HQ holds %d of %d entries after %v (last error %v)", got, n, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// chainReceipt is the receipt number of pay p of terminal t.
func chainReceipt(t, p int) string { return fmt.Sprintf("C%05d-%06d", t, p) }

// buildChainJournal fills a journal with entries/2 finished pays through
// the history filler, seeded per terminal so ids and orders differ.
func buildChainJournal(path string, term, entries int) error {
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		return err
	}
	defer j.Close()
	pays := entries / 2
	f := newFiller(j, pays)
	f.rng = rand.New(rand.NewPCG(uint64(term)+1, 2))
	for i := range pays {
		s := f.pay(HistoryStart.Add(time.Duration(i)*f.step), i)
		s.ReceiptNo = chainReceipt(term, i)
		s.Request["receiptNo"] = s.ReceiptNo
		if err := f.send(s); err != nil {
			return err
		}
		if err := f.paid(s); err != nil {
			return err
		}
	}
	return nil
}

// pct returns the p-th percentile of ds (sorted in place).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := (len(ds)*p + 99) / 100
	return ds[min(max(i-1, 0), len(ds)-1)]
}

// Markdown writes the chain figures as a BENCHMARKS.md section.
func (r *ChainReport) Markdown(w io.Writer, m Machine) {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured: %d terminals × %d entries = %d entries, one NATS server (JetStream, file store) and one PostgreSQL (fsync on) on the same machine (%d CPUs, %s).\n\n",
		r.Terminals, r.EntriesPerTerminal, r.Entries, m.CPUs, m.CPUModel)
	b.WriteString("| figure | value | target |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| entries/s at HQ with verification (collector alone draining the stream) | %s | ≥ %d |\n", rate(r.DrainRate), TargetChainRate)
	fmt.Fprintf(&b, "| entries/s end to end (shippers, NATS and collector at once) | %.0f | |\n", r.EndToEndRate)
	fmt.Fprintf(&b, "| shipping lag (publish → HQ commit) p50 / p99, during the backfill | %v / %v | |\n", r.LagP50.Round(time.Millisecond), r.LagP99.Round(time.Millisecond))
	fmt.Fprintf(&b, "| HQ disk per entry (database size / entries) | %.0f B | |\n", r.BytesPerEntry)
	fmt.Fprintf(&b, "| of which entries table / txns table | %s / %s | |\n", chainMiB(r.EntriesBytes), chainMiB(r.TxnsBytes))
	fmt.Fprintf(&b, "| chain-wide lookup by receiptNo p50 / p99 (%d entries loaded) | %v / %v | ≤ %v |\n", r.Entries, r.LookupP50.Round(10*time.Microsecond), r.LookupP99.Round(10*time.Microsecond), TargetChainLookup)
	fmt.Fprintf(&b, "| chains recomputed at HQ / failed | %d / %d | 0 failed |\n", r.Verified, r.VerifyFailed)
	fmt.Fprintf(&b, "| findings | %d | 0 |\n", r.Findings)
	fmt.Fprintf(&b, "| building the journals (not a figure) | %v | |\n", r.Build.Round(time.Second))
	io.WriteString(w, b.String())
}

func rate(v float64) string {
	if v == 0 {
		return "not run"
	}
	return fmt.Sprintf("%.0f", v)
}

func chainMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
