package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
)

// warmRuns is how many timed runs follow the untimed first one in the
// start-up and query measurements; their median is reported.
const warmRuns = 5

// StartupResult is measurement 2 for one history size.
type StartupResult struct {
	Txns        int           // finished pays in the journal
	Unfinished  int           // pays left in sending
	FileBytes   int64         // the journal file's size
	Build       time.Duration // appending the pays added since the previous size
	JournalOpen time.Duration // journal.Open + Unfinished (warm, median)
	EngineOpen  time.Duration // wbpay.Open: config, keys, logging, journal, recovery started (warm, median)
}

// AuditResult is measurement 3, on the largest history.
type AuditResult struct {
	Txns       int
	ListDay    time.Duration // List with Since/Until = one JST day (warm, median)
	ListRows   int
	Verify     time.Duration // Verify of the whole journal (warm: the second run)
	Entries    uint64        // entries Verify checked
	Export     time.Duration // ForEachEntry writing JSON lines to io.Discard
	ExportRows uint64
}

// ExportRate returns exported entries per second.
func (a AuditResult) ExportRate() float64 {
	if a.Export <= 0 {
		return 0
	}
	return float64(a.ExportRows) / a.Export.Seconds()
}

// DiskResult is the on-disk half of measurement 4.
type DiskResult struct {
	Txns      int
	FileBytes int64 // file size
	UsedBytes int64 // bbolt pages in use (below the high-water mark, not free)
}

// PerPay returns file bytes per finished pay.
func (d DiskResult) PerPay() float64 {
	if d.Txns == 0 {
		return 0
	}
	return float64(d.FileBytes) / float64(d.Txns)
}

// historyRun builds the histories, measures start-up on each and, on the
// largest, the audit queries.
type historyRun struct {
	k          Keys
	dir        string // where the measured homes live (the real disk)
	buildDir   string // where the journal is built (tmpfs when available)
	sizes      []int  // ascending
	unfinished int
	diskSize   int // the size whose footprint is reported
	progress   func(string, ...any)
}

type historyResult struct {
	startup []StartupResult
	audit   *AuditResult
	disk    *DiskResult
	build   time.Duration
}

func (h *historyRun) run(ctx context.Context) (historyResult, error) {
	var out historyResult
	if len(h.sizes) == 0 {
		return out, nil
	}
	gw, err := newGateway(h.k)
	if err != nil {
		return out, err
	}
	defer gw.close()
	bdir, err := os.MkdirTemp(h.buildDir, "wbpay-bench-history-*")
	if err != nil {
		return out, fmt.Errorf("build directory: %w", err)
	}
	defer os.RemoveAll(bdir)
	buildPath := filepath.Join(bdir, wbpay.JournalFile)
	j, err := journal.Open(buildPath, journal.Options{})
	if err != nil {
		return out, err
	}
	defer func() {
		if j != nil {
			_ = j.Close()
		}
	}()
	last := h.sizes[len(h.sizes)-1]
	f := newFiller(j, last)
	if _, err := f.unfinished(h.unfinished, HistoryStart.Add(HistorySpan)); err != nil {
		return out, err
	}
	for _, n := range h.sizes {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		h.progress("history: appending %d finished pays (%d entries) through journal.Append in %s", n-f.n, 2*(n-f.n), bdir)
		start := time.Now()
		if err := f.fillTo(n); err != nil {
			return out, err
		}
		built := time.Since(start)
		out.build += built
		h.progress("history: %d pays in %s (%s per Append)", n, built.Round(time.Millisecond), perOp(built, 2*n))
		if err := j.Close(); err != nil {
			return out, err
		}
		j = nil
		home := filepath.Join(h.dir, fmt.Sprintf("history-%d", n))
		if err := writeHome(home, h.k, gw.srv.URL, nil, nil); err != nil {
			return out, err
		}
		path := filepath.Join(home, wbpay.JournalFile)
		if err := copyFile(buildPath, path); err != nil {
			return out, fmt.Errorf("copy journal to %s: %w", home, err)
		}
		st, err := h.startup(ctx, home, gw, n)
		if err != nil {
			return out, err
		}
		st.Build = built
		out.startup = append(out.startup, st)
		if n == h.diskSize {
			d, err := diskUse(path, n)
			if err != nil {
				return out, err
			}
			out.disk = &d
		}
		if n == last {
			a, err := h.audit(path, n)
			if err != nil {
				return out, err
			}
			out.audit = &a
		}
		if err := os.RemoveAll(home); err != nil {
			return out, err
		}
		if n != last {
			if j, err = journal.Open(buildPath, journal.Options{}); err != nil {
				return out, err
			}
			f.j = j
		}
	}
	return out, nil
}

func perOp(d time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return d / time.Duration(n)
}

// median runs fn once untimed, then warmRuns times, and returns the median.
func median(fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	var s Sample
	for range warmRuns {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		s.Add(time.Since(start))
	}
	return s.Quantile(0.5), nil
}

// startup times what a restart does on home's journal of n pays.
func (h *historyRun) startup(ctx context.Context, home string, gw *gateway, n int) (StartupResult, error) {
	path := filepath.Join(home, wbpay.JournalFile)
	res := StartupResult{Txns: n}
	fi, err := os.Stat(path)
	if err != nil {
		return res, err
	}
	res.FileBytes = fi.Size()
	res.JournalOpen, err = median(func() error {
		j, err := journal.Open(path, journal.Options{})
		if err != nil {
			return err
		}
		us, err := j.Unfinished()
		res.Unfinished = len(us)
		if cerr := j.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return res, fmt.Errorf("journal open on %d pays: %w", n, err)
	}
	// The engine resumes the unfinished pays in the background: the first
	// is marked lost at once, then its confirm waits RequestConfirmInterval
	// (1 s), which Close interrupts; so the history stays as built apart
	// from that one entry.
	res.EngineOpen, err = median(func() error {
		eng, err := wbpay.Open(ctx, wbpay.WithHome(home), wbpay.WithRootCAs(gw.pool()), wbpay.WithHTTPTimeout(engineHTTPTimeout))
		if err != nil {
			return err
		}
		return eng.Close()
	})
	if err != nil {
		return res, fmt.Errorf("engine open on %d pays: %w", n, err)
	}
	h.progress("start-up on %d pays: journal.Open+Unfinished %s, wbpay.Open %s", n, res.JournalOpen, res.EngineOpen)
	return res, nil
}

// diskUse reads the footprint of the journal at path holding n pays.
func diskUse(path string, n int) (DiskResult, error) {
	j, err := journal.Open(path, journal.Options{ReadOnly: true})
	if err != nil {
		return DiskResult{}, err
	}
	defer j.Close()
	st, err := j.Stats()
	if err != nil {
		return DiskResult{}, err
	}
	return DiskResult{Txns: n, FileBytes: st.FileBytes, UsedBytes: st.DataBytes - st.FreeBytes}, nil
}

// auditDay is the JST day in the middle of the history that List selects.
func auditDay() (since, until time.Time) {
	mid := HistoryStart.Add(HistorySpan / 2)
	since = time.Date(mid.Year(), mid.Month(), mid.Day(), 0, 0, 0, 0, mid.Location())
	return since, since.AddDate(0, 0, 1)
}

// audit times the audit commands' reads on the journal at path (opened
// read-only, as the CLI's audit verbs do).
func (h *historyRun) audit(path string, n int) (AuditResult, error) {
	res := AuditResult{Txns: n}
	j, err := journal.Open(path, journal.Options{ReadOnly: true})
	if err != nil {
		return res, err
	}
	defer j.Close()
	since, until := auditDay()
	res.ListDay, err = median(func() error {
		txns, err := j.List(journal.Query{Since: since, Until: until})
		res.ListRows = len(txns)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("list one day: %w", err)
	}
	h.progress("audit: list of %s: %d rows in %s", since.Format("2006-01-02"), res.ListRows, res.ListDay)
	h.progress("audit: verifying %d pays (twice: the second is reported)", n)
	if _, err := j.Verify(); err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	start := time.Now()
	rep, err := j.Verify()
	res.Verify = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	res.Entries = rep.Entries
	h.progress("audit: verify %s; exporting", res.Verify)
	start = time.Now()
	rows, err := exportJSONL(j, io.Discard)
	res.Export, res.ExportRows = time.Since(start), rows
	if err != nil {
		return res, fmt.Errorf("export: %w", err)
	}
	return res, nil
}

// exportJSONL writes every entry as a JSON line, as `wbpay-engine export
// --format jsonl` does, and returns how many it wrote.
func exportJSONL(j *journal.Journal, w io.Writer) (uint64, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var n uint64
	err := j.ForEachEntry(func(e journal.Entry) error {
		n++
		return enc.Encode(e)
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// closestTo returns the element of sizes nearest to want (the first on a tie).
func closestTo(sizes []int, want int) int {
	if len(sizes) == 0 {
		return 0
	}
	best := sizes[0]
	for _, s := range sizes[1:] {
		if abs(s-want) < abs(best-want) {
			best = s
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// sortedSizes returns sizes ascending, without duplicates or non-positive
// values.
func sortedSizes(sizes []int) []int {
	out := slices.Clone(sizes)
	out = slices.DeleteFunc(out, func(n int) bool { return n <= 0 })
	slices.Sort(out)
	return slices.Compact(out)
}
