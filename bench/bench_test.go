package bench

// Benchmarks (no timed assertions anywhere; the tests check behaviour on
// tiny sizes). Run them with:
//
//	go test -run '^$' -bench . -benchtime 2000x ./bench/
//	WBPAY_BENCH_HISTORY=1000000 go test -run '^$' -bench OpenWithHistory -benchtime 20x -timeout 2h ./bench/
//
// The full comparison, with percentiles, ratios and every target, is
// `wbpay-engine bench` (see BENCHMARKS.md).

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
)

// Keys are generated once per test binary (RSA generation is slow).
var (
	keysOnce sync.Once
	testK    Keys
	testKErr error
)

func testKeys(t testing.TB) Keys {
	t.Helper()
	keysOnce.Do(func() { testK, testKErr = NewKeys() })
	require.NoError(t, testKErr)
	return testK
}

func TestSampleQuantile(t *testing.T) {
	var s Sample
	assert.Equal(t, time.Duration(0), s.Quantile(0.5), "empty sample")
	for i := 100; i >= 1; i-- { // added out of order
		s.Add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, time.Millisecond}, {0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		assert.Equal(t, tc.want, s.Quantile(tc.q), "q=%v", tc.q)
	}
	assert.Equal(t, 5050*time.Millisecond, s.Total())
	assert.Equal(t, 100, s.Len())
}

func TestSizesHelpers(t *testing.T) {
	assert.Equal(t, []int{10, 100, 1000}, sortedSizes([]int{1000, 10, 0, 100, 10, -5}))
	assert.Equal(t, 100_000, closestTo([]int{10_000, 100_000, 1_000_000}, 100_000))
	assert.Equal(t, 10_000, closestTo([]int{10_000, 1_000_000}, 100_000))
	assert.Equal(t, 0, closestTo(nil, 100_000))
	assert.Equal(t, "1,234,567", count(1234567))
	assert.Equal(t, "999", count(999))
	assert.Equal(t, "1.50 ms", Dur(1500*time.Microsecond))
	assert.Equal(t, "2.25 s", Dur(2250*time.Millisecond))
}

// TestFillerJournal checks that the built history is what the benchmark
// claims: n finished pays of two entries, k unfinished ones of one, spread
// over the year, a valid hash chain, masked user codes.
func TestFillerJournal(t *testing.T) {
	const n, k = 300, 4
	j, err := journal.Open(filepath.Join(t.TempDir(), "j"), journal.Options{})
	require.NoError(t, err)
	defer j.Close()
	f := newFiller(j, n)
	_, err = f.unfinished(k, HistoryStart.Add(HistorySpan))
	require.NoError(t, err)
	require.NoError(t, f.fillTo(n))

	rep, err := j.Verify()
	require.NoError(t, err)
	assert.Equal(t, uint64(2*n+k), rep.Entries)
	assert.Equal(t, uint64(n+k), rep.Txns)
	us, err := j.Unfinished()
	require.NoError(t, err)
	require.Len(t, us, k)
	for _, u := range us {
		assert.Equal(t, fsm.StateSending, u.State)
	}
	all, err := j.List(journal.Query{})
	require.NoError(t, err)
	require.Len(t, all, n+k)
	paid := 0
	for _, s := range all {
		assert.Len(t, s.ID, 32)
		assert.Equal(t, byte('7'), s.ID[12], "UUIDv7 version digit of %s", s.ID)
		assert.NotContains(t, s.UserCodeMasked, historyCode[2:14], "userCode stored unmasked")
		assert.NotEmpty(t, s.UserCodeHash)
		if s.State == fsm.StatePaid {
			paid++
			assert.Len(t, s.OrderID, 32)
		}
	}
	assert.Equal(t, n, paid)
	// One day in the middle of the year holds about n/365 pays.
	since, until := auditDay()
	day, err := j.List(journal.Query{Since: since, Until: until})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(day), 2)
	oldest, newest := all[len(all)-1], all[k] // newest first; the unfinished come last in time
	assert.True(t, oldest.CreatedAt.Equal(HistoryStart), "first pay at %v", oldest.CreatedAt)
	assert.Greater(t, newest.CreatedAt.Sub(oldest.CreatedAt), HistorySpan*9/10)
}

// TestRunTiny runs every measurement on tiny sizes, the RSS child included
// (this test binary re-executed, see TestMain), and checks the report.
func TestRunTiny(t *testing.T) {
	k := testKeys(t)
	cfg := Config{Dir: t.TempDir(), BuildDir: t.TempDir(), Pays: 12, Warmup: 2, History: []int{30, 60}, Unfinished: 3,
		RSSPays: 5, Recovery: 6, Keys: &k, Child: testChild(t)}
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := Run(context.Background(), cfg)
	require.NoError(t, err, "progress:\n%s", progress.String())

	assert.Equal(t, 12, rep.Pay.N)
	assert.Positive(t, rep.Pay.Engine.P50)
	assert.Positive(t, rep.Pay.Floor.P50)
	assert.LessOrEqual(t, rep.Pay.Engine.P50, rep.Pay.Engine.P99)
	assert.Positive(t, rep.Pay.Parts.Sign)
	assert.Positive(t, rep.Pay.Parts.RoundTrip)
	assert.Positive(t, rep.Pay.Parts.LoopExchange)
	assert.Positive(t, rep.Pay.Parts.LoopCommit)
	assert.Positive(t, rep.Pay.Parts.Append)

	require.Len(t, rep.Startup, 2)
	for i, n := range []int{30, 60} {
		assert.Equal(t, n, rep.Startup[i].Txns)
		assert.Equal(t, 3, rep.Startup[i].Unfinished)
		assert.Positive(t, rep.Startup[i].EngineOpen)
	}
	require.NotNil(t, rep.Audit)
	assert.Equal(t, 60, rep.Audit.Txns)
	// wbpay.Open on the history may already have journaled recovery steps
	// of its unfinished pays (one "lost" entry each at most).
	assert.Equal(t, rep.Audit.Entries, rep.Audit.ExportRows, "export streams every entry")
	assert.GreaterOrEqual(t, rep.Audit.Entries, uint64(2*60+3))
	assert.LessOrEqual(t, rep.Audit.Entries, uint64(2*60+3+3))
	require.NotNil(t, rep.Disk)
	assert.Equal(t, 60, rep.Disk.Txns, "the size closest to 100k")
	assert.Positive(t, rep.Disk.FileBytes)

	require.NotNil(t, rep.Recovery)
	r := rep.Recovery
	assert.Equal(t, 6, r.N)
	assert.Equal(t, 3, r.Paid, "the pays the simulator had processed are confirmed PAID")
	assert.Equal(t, 3, r.Reversed, "the pays it never saw are reversed")
	assert.Zero(t, r.Other)
	assert.Equal(t, 3*3+3*4, r.Commits, "lost+confirm+paid, lost+confirm+reverse+reversed")
	assert.Equal(t, 3*1+3*2, r.Exchanges)

	require.NotNil(t, rep.RSS)
	assert.Empty(t, rep.RSS.Skipped)
	assert.Positive(t, rep.RSS.PeakRSS)
	if _, ok := SelfPeakRSS(); ok {
		assert.Equal(t, "VmHWM", rep.RSS.Source, "the child reports its own peak")
		assert.Positive(t, rep.RSS.Rusage)
	}

	var table, md bytes.Buffer
	require.NoError(t, rep.Table(&table))
	require.NoError(t, rep.Markdown(&md))
	t.Logf("tiny run (figures meaningless at this size):\n%s", table.String())
	rows := rep.Rows()
	assert.Len(t, rows, 9+3*2+3+2+2+4)
	for _, row := range rows {
		assert.Contains(t, table.String(), row.Measure)
		assert.Contains(t, md.String(), mdEscape(row.Measure))
	}
	for _, s := range []string{"1 pay latency", "2 start-up", "3 audit", "4 footprint", "5 recovery", "ratio engine/floor p50"} {
		assert.Contains(t, table.String(), s)
	}
	assert.Contains(t, md.String(), "| # | measure | result | target | verdict |")
	assert.Contains(t, md.String(), "Go: "+rep.Machine.GoVersion)
}

func TestConfigRefused(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no dir":        {Pays: 1},
		"no pays":       {Dir: t.TempDir()},
		"negative":      {Dir: t.TempDir(), Pays: 1, Recovery: -1},
		"history below": {Dir: t.TempDir(), Pays: 1, History: []int{0}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Run(context.Background(), cfg)
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
}

// childEnv makes this test binary run RunPays instead of the tests.
const childEnv = "WBPAY_BENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if home := os.Getenv(childEnv); home != "" {
		n, _ := strconv.Atoi(os.Getenv(childEnv + "_PAYS"))
		if err := RunPays(context.Background(), home, n); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		if err := ReportPeak(os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testChild(t *testing.T) ChildRunner {
	exe, err := os.Executable()
	require.NoError(t, err)
	return func(ctx context.Context, home string, pays int) *exec.Cmd {
		cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+home, childEnv+"_PAYS="+strconv.Itoa(pays))
		return cmd
	}
}

// ---- go test -bench ----

// benchEngine opens an engine home against a loopback simulator.
func benchEngine(b *testing.B) *wbpay.Engine {
	k := testKeys(b)
	gw, err := newGateway(k)
	require.NoError(b, err)
	b.Cleanup(gw.close)
	home := filepath.Join(b.TempDir(), "home")
	require.NoError(b, writeHome(home, k, gw.srv.URL, nil, nil))
	eng, err := openEngine(context.Background(), home, gw.pool())
	require.NoError(b, err)
	b.Cleanup(func() { _ = eng.Close() })
	return eng
}

// BenchmarkPay times one PaySync through the engine (LogLevel Sequence)
// against the simulator over loopback HTTPS.
func BenchmarkPay(b *testing.B) {
	eng := benchEngine(b)
	ctx := context.Background()
	for i := range 20 { // warm the connection and the journal
		require.NoError(b, enginePay(ctx, eng, i))
	}
	i := 0
	for b.Loop() {
		if err := enginePay(ctx, eng, i); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFloor times one iteration of the floor: two bbolt Updates, two
// RSA signs and two verifies, one HTTPS round trip.
func BenchmarkFloor(b *testing.B) {
	k := testKeys(b)
	fl, err := newFloor(k, filepath.Join(b.TempDir(), "floor.db"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = fl.close() })
	ctx := context.Background()
	for i := range 20 {
		require.NoError(b, fl.pay(ctx, i, nil))
	}
	i := 0
	for b.Loop() {
		if err := fl.pay(ctx, i, nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkOpenWithHistory times journal.Open + Unfinished and wbpay.Open
// on a history of WBPAY_BENCH_HISTORY finished pays (default 10000) plus 10
// unfinished, built through journal.Append (in /dev/shm when available).
func BenchmarkOpenWithHistory(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("WBPAY_BENCH_HISTORY")); err == nil && v > 0 {
		n = v
	}
	k := testKeys(b)
	gw, err := newGateway(k)
	require.NoError(b, err)
	b.Cleanup(gw.close)
	build := DefaultBuildDir()
	if build == "" {
		build = b.TempDir()
	}
	bdir, err := os.MkdirTemp(build, "wbpay-bench-history-*")
	require.NoError(b, err)
	b.Cleanup(func() { _ = os.RemoveAll(bdir) })
	j, err := journal.Open(filepath.Join(bdir, wbpay.JournalFile), journal.Options{})
	require.NoError(b, err)
	f := newFiller(j, n)
	_, err = f.unfinished(DefaultUnfinished, HistoryStart.Add(HistorySpan))
	require.NoError(b, err)
	require.NoError(b, f.fillTo(n))
	require.NoError(b, j.Close())
	home := filepath.Join(b.TempDir(), "home")
	require.NoError(b, writeHome(home, k, gw.srv.URL, nil, nil))
	path := filepath.Join(home, wbpay.JournalFile)
	require.NoError(b, copyFile(filepath.Join(bdir, wbpay.JournalFile), path))

	b.Run("journal", func(b *testing.B) {
		for b.Loop() {
			j, err := journal.Open(path, journal.Options{})
			if err != nil {
				b.Fatal(err)
			}
			us, err := j.Unfinished()
			if err != nil || len(us) != DefaultUnfinished {
				b.Fatalf("unfinished: %d, %v", len(us), err)
			}
			_ = j.Close()
		}
	})
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			eng, err := wbpay.Open(context.Background(), wbpay.WithHome(home), wbpay.WithRootCAs(gw.pool()), wbpay.WithHTTPTimeout(engineHTTPTimeout))
			if err != nil {
				b.Fatal(err)
			}
			_ = eng.Close()
		}
	})
}

// BenchmarkIntegrity times the journal's damage checks on a history of
// WBPAY_BENCH_HISTORY finished pays (default 10000) plus 10 unfinished:
// the full Verify (bbolt's pages read with ReadAt, then the chain, the
// snapshots and the indexes), and CheckRecent, the check of what changed
// since the verified mark that every wbpay.Open runs, here over the whole
// history (the built journal has never been verified); its ns/entry is
// the cost per entry written since the previous start.
func BenchmarkIntegrity(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("WBPAY_BENCH_HISTORY")); err == nil && v > 0 {
		n = v
	}
	build := DefaultBuildDir()
	if build == "" {
		build = b.TempDir()
	}
	bdir, err := os.MkdirTemp(build, "wbpay-bench-integrity-*")
	require.NoError(b, err)
	b.Cleanup(func() { _ = os.RemoveAll(bdir) })
	j, err := journal.Open(filepath.Join(bdir, wbpay.JournalFile), journal.Options{})
	require.NoError(b, err)
	f := newFiller(j, n)
	_, err = f.unfinished(DefaultUnfinished, HistoryStart.Add(HistorySpan))
	require.NoError(b, err)
	require.NoError(b, f.fillTo(n))
	require.NoError(b, j.Close())
	path := filepath.Join(b.TempDir(), wbpay.JournalFile)
	require.NoError(b, copyFile(filepath.Join(bdir, wbpay.JournalFile), path))
	j, err = journal.Open(path, journal.Options{ReadOnly: true})
	require.NoError(b, err)
	defer j.Close()
	entries := uint64(2*n + DefaultUnfinished)

	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			rep, err := j.Verify()
			if err != nil || rep.Entries != entries {
				b.Fatalf("verify: %d entries, %v", rep.Entries, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(entries), "ns/entry")
	})
	b.Run("check-recent", func(b *testing.B) {
		for b.Loop() {
			r, err := j.CheckRecent()
			if err != nil || r.To-r.From != entries {
				b.Fatalf("check recent: %+v, %v", r, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(entries), "ns/entry")
	})
}
