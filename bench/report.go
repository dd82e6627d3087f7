package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets of issue 5.
const (
	TargetPayRatio     = 1.25
	TargetStartup      = 50 * time.Millisecond
	TargetListDay      = 100 * time.Millisecond
	TargetVerify       = 5 * time.Second
	TargetBytesPerPay  = 2048       // 2 KiB
	TargetPeakRSSBytes = 40_000_000 // 40 MB
)

// Machine describes where a run was made.
type Machine struct {
	CPUs      int
	CPUModel  string
	MemBytes  int64
	GoVersion string
	OS, Arch  string
	Kernel    string
	Date      time.Time
	Revision  string // the VCS revision the binary was built from ("" if unknown); "+dirty" when modified
	LoadAvg   string // /proc/loadavg's 1, 5 and 15 minute averages when the run started (Linux)
}

// ReadMachine reads the machine's description (best effort: the CPU model,
// memory and kernel come from /proc on Linux and are empty elsewhere).
func ReadMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, Date: time.Now().UTC()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		m.MemBytes = kb * 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "+dirty"
			}
		}
		if rev != "" {
			m.Revision = rev[:min(12, len(rev))] + dirty
		}
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// RunConfig is the part of Config the report shows.
type RunConfig struct {
	Pays, Warmup int
	History      string
	Unfinished   int
	RSSPays      int
	Recovery     int
	BuildDir     string
}

// Report is everything one run measured.
type Report struct {
	Command      string // the command line, as the caller ran it
	Machine      Machine
	Config       RunConfig
	Pay          PayResult
	Startup      []StartupResult
	HistoryBuild time.Duration
	Audit        *AuditResult
	Disk         *DiskResult
	RSS          *RSSResult
	Recovery     *RecoveryResult
	Elapsed      time.Duration
}

// Row is one line of the results table.
type Row struct {
	Section string
	Measure string
	Value   string
	Target  string // "" when the issue sets none
	Verdict string // "met", "NOT MET", or "" (information)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

// Dur formats d in ms below a second (two decimals), in s above.
func Dur(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

// count formats n with thousands separators.
func count[T int | int64 | uint64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Rows returns the results table, one row per figure, in the order.
func (r *Report) Rows() []Row {
	var rows []Row
	add := func(sec, measure, value, target, v string) {
		rows = append(rows, Row{Section: sec, Measure: measure, Value: value, Target: target, Verdict: v})
	}
	p := r.Pay
	s1 := "1 pay latency"
	add(s1, fmt.Sprintf("engine PaySync p50 (%s pays, LogLevel Sequence, loopback HTTPS simulator)", count(p.N)), Dur(p.Engine.P50), "", "")
	add(s1, "floor p50 (2 bbolt Updates, 2 RSA signs + 2 verifies, 1 HTTPS round trip)", Dur(p.Floor.P50), "", "")
	add(s1, "ratio engine/floor p50", fmt.Sprintf("%.2f", p.Ratio()), fmt.Sprintf("≤ %.2f", TargetPayRatio), verdict(p.Ratio() <= TargetPayRatio))
	add(s1, "engine PaySync p99", Dur(p.Engine.P99), "", "")
	add(s1, "floor p99", Dur(p.Floor.P99), "", "")
	add(s1, "ratio engine/floor p99", fmt.Sprintf("%.2f", p.RatioP99()), "", "")
	add(s1, "floor parts (medians): RSA-2048 sign / verify / bbolt Update / HTTPS round trip",
		fmt.Sprintf("%s / %s / %s / %s", Dur(p.Parts.Sign), Dur(p.Parts.Verify), Dur(p.Parts.Commit), Dur(p.Parts.RoundTrip)), "", "")
	add(s1, "floor steps in its loop (medians): bbolt Update / exchange (sign, HTTPS with server verify + sign, verify)",
		fmt.Sprintf("%s / %s", Dur(p.Parts.LoopCommit), Dur(p.Parts.LoopExchange)), "", "")
	add(s1, "journal.Append of one pay transition (median; the engine makes 2 per pay where the floor makes 2 bbolt Updates)", Dur(p.Parts.Append), "", "")

	s2 := "2 start-up"
	for _, st := range r.Startup {
		h := fmt.Sprintf("%s pays + %d unfinished", count(st.Txns), st.Unfinished)
		add(s2, "journal.Open + Unfinished, "+h+" (warm)", Dur(st.JournalOpen), "≤ 50 ms", verdict(st.JournalOpen <= TargetStartup))
		add(s2, "wbpay.Open (config, keys, log, journal, recovery started), "+h+" (warm)", Dur(st.EngineOpen), "≤ 50 ms", verdict(st.EngineOpen <= TargetStartup))
		add(s2, "building it: journal.Append, one bbolt Update each", fmt.Sprintf("%s for %s appends (file %s)",
			Dur(st.Build), count(2*st.Txns), mib(st.FileBytes)), "", "")
	}

	if a := r.Audit; a != nil {
		s3 := fmt.Sprintf("3 audit (%s pays)", count(a.Txns))
		add(s3, fmt.Sprintf("List --since/--until one day (%s rows, warm)", count(a.ListRows)), Dur(a.ListDay), "≤ 100 ms", verdict(a.ListDay <= TargetListDay))
		add(s3, fmt.Sprintf("Verify (%s entries, warm)", count(a.Entries)), Dur(a.Verify), "≤ 5 s", verdict(a.Verify <= TargetVerify))
		add(s3, fmt.Sprintf("export: ForEachEntry → JSON lines → io.Discard (%s rows in %s)", count(a.ExportRows), Dur(a.Export)),
			count(int64(a.ExportRate()))+" rows/s", "", "")
	}

	s4 := "4 footprint"
	if d := r.Disk; d != nil {
		add(s4, fmt.Sprintf("disk per finished pay (file %s / %s pays)", mib(d.FileBytes), count(d.Txns)), fmt.Sprintf("%.0f B", d.PerPay()),
			"≤ 2 KiB", verdict(d.PerPay() <= TargetBytesPerPay))
		add(s4, "bbolt pages in use per finished pay", fmt.Sprintf("%.0f B", float64(d.UsedBytes)/float64(max(d.Txns, 1))), "", "")
	}
	if m := r.RSS; m != nil {
		name := fmt.Sprintf("peak RSS of a %s-pay engine run (child process", count(m.Pays))
		if m.Skipped != "" {
			add(s4, name+")", "not measured: "+m.Skipped, "≤ 40 MB", "")
		} else {
			add(s4, name+", "+m.Source+")", mb(m.PeakRSS), "≤ 40 MB", verdict(m.PeakRSS <= TargetPeakRSSBytes))
			add(s4, "the same child's ru_maxrss from wait4 (on Linux it includes the parent's RSS at exec)", mb(m.Rusage), "", "")
		}
	}

	if rc := r.Recovery; rc != nil {
		s5 := "5 recovery"
		add(s5, fmt.Sprintf("%s pays in sending resumed by wbpay.Open + WaitRecovered (%s paid, %s reversed, %s other)",
			count(rc.N), count(rc.Paid), count(rc.Reversed), count(rc.Other)), Dur(rc.Total), "", "")
		add(s5, fmt.Sprintf("per pay (%s Updates and %s exchanges in all)", count(rc.Commits), count(rc.Exchanges)), Dur(rc.PerTxn()), "", "")
		add(s5, "floor per pay (the same Updates and exchanges at the floor's in-loop medians)", Dur(rc.FloorPerTxn()), "", "")
		add(s5, "ratio recovery/floor", fmt.Sprintf("%.2f", ratio(rc.PerTxn(), rc.FloorPerTxn())), "", "")
	}
	return rows
}

func mb(b int64) string { return strconv.FormatFloat(float64(b)/1e6, 'f', 1, 64) + " MB" }

func mib(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB"
}

// Table writes the rows as an aligned plain-text table.
func (r *Report) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tMEASURE\tRESULT\tTARGET\tVERDICT")
	for _, row := range r.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row.Section, row.Measure, row.Value, dash(row.Target), dash(row.Verdict))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "whole run: %s\n", Dur(r.Elapsed))
	return err
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// Markdown writes the run as a BENCHMARKS.md-ready section: the command,
// the machine, and the results table.
func (r *Report) Markdown(w io.Writer) error {
	m := r.Machine
	var b strings.Builder
	fmt.Fprintf(&b, "## Run of %s\n\n", m.Date.Format("2006-01-02 15:04 MST"))
	if r.Command != "" {
		fmt.Fprintf(&b, "```\n%s\n```\n\n", r.Command)
	}
	fmt.Fprintf(&b, "- machine: %d CPUs", m.CPUs)
	if m.CPUModel != "" {
		fmt.Fprintf(&b, " (%s)", m.CPUModel)
	}
	if m.MemBytes > 0 {
		fmt.Fprintf(&b, ", %.1f GiB memory", float64(m.MemBytes)/(1<<30))
	}
	fmt.Fprintf(&b, ", %s/%s", m.OS, m.Arch)
	if m.Kernel != "" {
		fmt.Fprintf(&b, " (kernel %s)", m.Kernel)
	}
	if m.LoadAvg != "" {
		fmt.Fprintf(&b, "; load average %s at the start", m.LoadAvg)
	}
	fmt.Fprintf(&b, "\n- Go: %s", m.GoVersion)
	if m.Revision != "" {
		fmt.Fprintf(&b, "; built from %s", m.Revision)
	}
	b.WriteString("\n")
	c := r.Config
	fmt.Fprintf(&b, "- sizes: %s pays (+%d warm-up) each for the engine and the floor; histories %s finished pays + %d unfinished; RSS child %s pays; recovery %s pays\n",
		count(c.Pays), c.Warmup, c.History, c.Unfinished, count(c.RSSPays), count(c.Recovery))
	if c.BuildDir != "" {
		fmt.Fprintf(&b, "- histories built in %s, then copied to the work directory's disk before timing\n", c.BuildDir)
	}
	fmt.Fprintf(&b, "- whole run: %s\n\n", Dur(r.Elapsed))
	b.WriteString("| # | measure | result | target | verdict |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.Section, mdEscape(row.Measure), mdEscape(row.Value), dash(row.Target), mdVerdict(row.Verdict))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdVerdict(v string) string {
	switch v {
	case "met":
		return "met"
	case "":
		return "–"
	}
	return "**" + v + "**"
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
