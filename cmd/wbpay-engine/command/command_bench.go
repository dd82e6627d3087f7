package command

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay/bench"
	"github.com/wbpay/wbpay/internal/atomicfile"
)

func init() { verbs = append(verbs, newBenchCommand) }

// benchChildEnv is set in the environment of the RSS child, so that a test
// binary standing in for wbpay-engine knows to run the CLI.
const benchChildEnv = "WBPAY_BENCH_CHILD"

// benchOptions are the flags of `wbpay-engine bench`.
type benchOptions struct {
	pays, warmup, unfinished int
	history                  []int
	rssPays, recovery        int
	dir, buildDir, out       string
	keep                     bool
	rssChild                 string // hidden: run as the RSS child on this home
	chain                    chainBenchOptions
	daemon                   bool // measure the daemon (command_bench_daemon.go)
}

func newBenchCommand(g *globals) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the engine against the physical floor and write BENCHMARKS.md-ready results",
		Long: `bench measures, in one run, on this machine:

  1. pay latency: --pays pays through the engine (LogLevel Sequence) against
     the simulator over loopback HTTPS, p50 and p99, beside the floor: the
     same number of iterations of the bare minimum of a durable signed pay
     (2 bbolt Updates, 2 RSA-2048 SHA1 signs and 2 verifies, one HTTPS round
     trip on a kept-alive connection), run in alternating blocks after a
     warm-up; target p50 engine/floor <= 1.25;
  2. start-up with history: journal.Open + Unfinished and wbpay.Open on
     journals of each --history size of finished pays plus --unfinished
     unfinished ones (warm, median of 5); target <= 50 ms;
  3. audit on the largest history: List of one day (target <= 100 ms),
     Verify (target <= 5 s warm), export to JSON lines (rows/s);
  4. footprint: bytes on disk per finished pay (the history closest to
     100,000; target <= 2 KiB) and the peak RSS of a --rss-pays run of the
     engine in a child process (target <= 40 MB);
  5. recovery: --recovery pays journaled in sending, half of them processed
     by the simulator, resumed by wbpay.Open + WaitRecovered; time per pay
     beside the floor of the same work.

Histories are built through journal.Append (one fsync'd bbolt Update per
transition, as the engine writes them) in --build-dir (default /dev/shm
where it exists, where fsync is free) and copied to --dir before anything is
timed. The table goes to stdout (-o json: the whole report as JSON), the
progress to stderr, and --out writes the results as Markdown for
BENCHMARKS.md. Missing a target does not change the exit code.`,
		Example: `  wbpay-engine bench --out bench-run.md
  wbpay-engine bench --history 10000,100000 --rss-pays 2000
  wbpay-engine bench --pays 200 --history 1000 --rss-pays 1000 --recovery 100 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.rssChild != "" {
				return g.benchChild(cmd.Context(), o)
			}
			if o.chain.on {
				return g.benchChain(cmd, o)
			}
			if o.daemon {
				return g.benchDaemon(cmd, o)
			}
			return g.bench(cmd, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.pays, "pays", bench.DefaultPays, "pays measured through the engine, and iterations of the floor")
	f.IntVar(&o.warmup, "warmup", bench.DefaultWarmup, "untimed pays of each kind before measuring")
	f.IntSliceVar(&o.history, "history", bench.DefaultHistory, "finished pays in each history journal (comma-separated); the largest is audited")
	f.IntVar(&o.unfinished, "unfinished", bench.DefaultUnfinished, "unfinished pays in each history journal")
	f.IntVar(&o.rssPays, "rss-pays", bench.DefaultRSSPays, "pays of the child process whose peak RSS is read (0 skips it)")
	f.IntVar(&o.recovery, "recovery", bench.DefaultRecovery, "unfinished pays resumed by recovery (0 skips it)")
	f.StringVar(&o.dir, "dir", "", "work directory on the disk to measure (default: the system's temporary directory); a fresh subdirectory is used")
	f.StringVar(&o.buildDir, "build-dir", bench.DefaultBuildDir(), "where history journals are built before being copied to --dir (\"\" = --dir)")
	f.BoolVar(&o.keep, "keep", false, "keep the work directory (homes, journals, logs) instead of removing it")
	f.StringVar(&o.out, "out", "", "also write the results as Markdown to this file")
	f.StringVar(&o.rssChild, "rss-child", "", "run as the RSS child: --pays pays through the engine on this home")
	_ = f.MarkHidden("rss-child")
	addChainFlags(f, &o.chain)
	f.BoolVar(&o.daemon, "daemon", false, "measure the daemon instead (issue 12): API pay vs PaySync vs the floor, event delivery, the daemon's peak RSS after --rss-pays API pays, serve start-up on the largest --history")
	return cmd
}

// bench runs every measurement and prints the table.
func (g *globals) bench(cmd *cobra.Command, o *benchOptions) error {
	switch {
	case o.pays < 1:
		return usageErrorf("--pays %d: want at least 1", o.pays)
	case o.warmup < 0 || o.unfinished < 0 || o.rssPays < 0 || o.recovery < 0:
		return usageErrorf("--warmup, --unfinished, --rss-pays and --recovery must not be negative")
	}
	for _, n := range o.history {
		if n < 1 {
			return usageErrorf("--history %d: every size must be at least 1", n)
		}
	}
	exe, work, done, err := g.benchWork(o, "wbpay-bench-*", "the RSS child")
	if err != nil {
		return err
	}
	defer done()
	cfg := bench.Config{Dir: work, BuildDir: o.buildDir, Pays: o.pays, Warmup: o.warmup, History: o.history,
		Unfinished: o.unfinished, RSSPays: o.rssPays, Recovery: o.recovery, Progress: g.stderr,
		Child: func(ctx context.Context, home string, pays int) *exec.Cmd {
			c := exec.CommandContext(ctx, exe, "bench", "--rss-child", home, "--pays", strconv.Itoa(pays))
			c.Env = append(os.Environ(), benchChildEnv+"=1")
			return c
		}}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("bench: %w", err))
	}
	rep.Command = benchCommandLine(cmd, o)
	if o.out != "" {
		var md bytes.Buffer
		if err := rep.Markdown(&md); err != nil {
			return withExit(ExitLibrary, err)
		}
		if err := atomicfile.WriteFile(o.out, md.Bytes(), 0o644, false); err != nil {
			return withExit(ExitLibrary, fmt.Errorf("--out: %w", err))
		}
		fmt.Fprintf(g.stderr, "bench: results written to %s\n", o.out)
	}
	if g.json() {
		return writeJSON(g.stdout, rep)
	}
	return rep.Table(g.stdout)
}

// benchCommandLine rebuilds the command as run, from the flags given that
// change what is measured (not where files go).
func benchCommandLine(cmd *cobra.Command, o *benchOptions) string {
	parts := []string{"wbpay-engine bench"}
	history := make([]string, len(o.history))
	for i, n := range o.history {
		history[i] = strconv.Itoa(n)
	}
	for _, f := range []struct{ name, value string }{
		{"pays", strconv.Itoa(o.pays)}, {"warmup", strconv.Itoa(o.warmup)},
		{"history", strings.Join(history, ",")}, {"unfinished", strconv.Itoa(o.unfinished)},
		{"rss-pays", strconv.Itoa(o.rssPays)}, {"recovery", strconv.Itoa(o.recovery)},
	} {
		if cmd.Flags().Changed(f.name) {
			parts = append(parts, "--"+f.name+" "+f.value)
		}
	}
	return strings.Join(parts, " ")
}

// benchChild is the RSS child: pays through the engine on the home its
// parent wrote, against the parent's simulator; it then prints its own peak
// RSS for the parent.
func (g *globals) benchChild(ctx context.Context, o *benchOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := bench.RunPays(ctx, o.rssChild, o.pays); err != nil {
		return withExit(ExitLibrary, err)
	}
	if err := bench.ReportPeak(g.stdout); err != nil {
		return withExit(ExitLibrary, err)
	}
	return nil
}

// benchWork returns this program (run again as the bench's child, role) and
// a fresh work directory below --dir named by pattern, with the function
// that removes it at the end (unless --keep, which says where it is).
func (g *globals) benchWork(o *benchOptions, pattern, role string) (exe, work string, done func(), err error) {
	if exe, err = os.Executable(); err != nil {
		return "", "", nil, withExit(ExitLibrary, fmt.Errorf("find this program for %s: %w", role, err))
	}
	if work, err = os.MkdirTemp(o.dir, pattern); err != nil {
		return "", "", nil, withExit(ExitLibrary, fmt.Errorf("work directory: %w", err))
	}
	if o.keep {
		fmt.Fprintf(g.stderr, "bench: work directory %s (kept)\n", work)
		return exe, work, func() {}, nil
	}
	return exe, work, func() { _ = os.RemoveAll(work) }, nil
}
