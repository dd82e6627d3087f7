package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Defaults of Config (what `wbpay-engine bench` runs without flags).
const (
	DefaultPays       = 2000
	DefaultWarmup     = 100
	DefaultRSSPays    = 10_000
	DefaultRecovery   = 1000
	DefaultUnfinished = 10
)

// DefaultHistory is the default list of history sizes. Building the
// million-pay history takes about 4 minutes in /dev/shm on 2 cores and about
// 20 on a disk where each Append waits for its fsync; CI passes smaller sizes.
var DefaultHistory = []int{10_000, 100_000, 1_000_000}

// Config says what Run measures and where.
type Config struct {
	Dir        string      // work directory for homes and journals (required; the real disk)
	BuildDir   string      // where histories are built before being copied to Dir ("" = Dir)
	Pays       int         // pays measured through the engine and through the floor
	Warmup     int         // untimed pays of each kind first
	History    []int       // finished pays of each history (start-up on each, audit on the largest)
	Unfinished int         // unfinished pays in every history
	RSSPays    int         // pays of the child whose peak RSS is read (0 skips it)
	Recovery   int         // unfinished pays resumed by recovery (0 skips it)
	Child      ChildRunner // starts the RSS child; nil skips that measurement
	Keys       *Keys       // nil: a fresh pair is generated
	Progress   io.Writer   // progress lines; nil discards them
}

// DefaultConfig returns the defaults for dir.
func DefaultConfig(dir string) Config {
	return Config{Dir: dir, Pays: DefaultPays, Warmup: DefaultWarmup, History: DefaultHistory,
		Unfinished: DefaultUnfinished, RSSPays: DefaultRSSPays, Recovery: DefaultRecovery}
}

func (c Config) validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("%w: no work directory", ErrConfig)
	case c.Pays < 1:
		return fmt.Errorf("%w: pays %d, want at least 1", ErrConfig, c.Pays)
	case c.Warmup < 0, c.Unfinished < 0, c.RSSPays < 0, c.Recovery < 0:
		return fmt.Errorf("%w: warm-up, unfinished, rss pays and recovery must not be negative", ErrConfig)
	}
	for _, n := range c.History {
		if n < 1 {
			return fmt.Errorf("%w: history size %d, want at least 1", ErrConfig, n)
		}
	}
	return nil
}

// DefaultBuildDir returns /dev/shm when it is a writable directory (Linux
// tmpfs: fsync costs nothing there, so building a million-pay history
// through journal.Append takes minutes instead of an hour), else "".
func DefaultBuildDir() string {
	const shm = "/dev/shm"
	if runtime.GOOS != "linux" {
		return ""
	}
	f, err := os.CreateTemp(shm, "wbpay-bench-probe-*")
	if err != nil {
		return ""
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return shm
}

// Run measures everything cfg asks for, in this order: the RSS child (first,
// while this process is small: see RSSResult.Rusage), pay latency and the
// floor, recovery, then start-up with each history and the audit reads on
// the largest. It stops at the first error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	started := time.Now()
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "bench: "+format+"\n", args...)
		}
	}
	rep := &Report{Machine: ReadMachine(), Config: cfg.summary()}
	k := cfg.Keys
	if k == nil {
		progress("generating RSA-2048 keys")
		nk, err := NewKeys()
		if err != nil {
			return nil, err
		}
		k = &nk
	}

	if cfg.RSSPays > 0 {
		r, err := measureRSS(ctx, *k, cfg.Dir, cfg.RSSPays, cfg.Child, progress)
		if err != nil {
			return nil, fmt.Errorf("peak RSS: %w", err)
		}
		rep.RSS = &r
	}

	pay, err := measurePay(ctx, *k, cfg.Dir, cfg.Pays, cfg.Warmup, progress)
	if err != nil {
		return nil, fmt.Errorf("pay latency: %w", err)
	}
	rep.Pay = pay

	if cfg.Recovery > 0 {
		r, err := measureRecovery(ctx, *k, cfg.Dir, cfg.Recovery, pay.Parts, progress)
		if err != nil {
			return nil, fmt.Errorf("recovery: %w", err)
		}
		rep.Recovery = &r
	}

	sizes := sortedSizes(cfg.History)
	build := cfg.BuildDir
	if build == "" {
		build = cfg.Dir
	}
	hr := &historyRun{k: *k, dir: cfg.Dir, buildDir: build, sizes: sizes, unfinished: cfg.Unfinished,
		diskSize: closestTo(sizes, 100_000), progress: progress}
	h, err := hr.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	rep.Startup, rep.Audit, rep.Disk, rep.HistoryBuild = h.startup, h.audit, h.disk, h.build

	rep.Elapsed = time.Since(started)
	return rep, nil
}

// summary records the run's sizes for the report.
func (c Config) summary() RunConfig {
	h := make([]string, 0, len(c.History))
	for _, n := range sortedSizes(c.History) {
		h = append(h, fmt.Sprint(n))
	}
	return RunConfig{Pays: c.Pays, Warmup: c.Warmup, History: strings.Join(h, ","), Unfinished: c.Unfinished,
		RSSPays: c.RSSPays, Recovery: c.Recovery, BuildDir: c.BuildDir}
}
