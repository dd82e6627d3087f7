package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RSSResult is the memory half of measurement 4.
type RSSResult struct {
	Pays int
	// PeakRSS is the child's own peak resident set size in bytes: its
	// VmHWM, which it reads from /proc/self/status before exiting (Linux),
	// else ru_maxrss. 0 when not measured.
	PeakRSS int64
	// Rusage is ru_maxrss as wait4 reports it for the child. On Linux it
	// also counts the parent's resident memory at the moment of the exec:
	// Go starts children with vfork (CLONE_VM), so the child's peak starts
	// from the parent's address space. It is reported beside PeakRSS, and the
	// child runs first, while the parent is small.
	Rusage  int64
	Source  string        // where PeakRSS comes from: "VmHWM" or "ru_maxrss"
	Took    time.Duration // the child's whole run
	Skipped string        // why it was not measured, if it was not
}

// PeakLinePrefix starts the line a child prints on stdout with its own
// peak RSS in bytes (see SelfPeakRSS).
const PeakLinePrefix = "peak-rss-bytes "

// SelfPeakRSS returns this process's peak resident set size in bytes
// (VmHWM of /proc/self/status); false where there is no such file.
func SelfPeakRSS() (int64, bool) {
	v := procField("/proc/self/status", "VmHWM")
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	if err != nil {
		return 0, false
	}
	return kb * 1024, true
}

// ReportPeak prints this process's peak RSS for the parent (after RunPays).
func ReportPeak(w io.Writer) error {
	if peak, ok := SelfPeakRSS(); ok {
		_, err := fmt.Fprintf(w, "%s%d\n", PeakLinePrefix, peak)
		return err
	}
	return nil
}

// ChildRunner starts the child process that runs pays through the engine on
// home (see RunPays) and returns it unstarted; Run starts it, waits, and
// reads its peak RSS from the operating system.
type ChildRunner func(ctx context.Context, home string, pays int) *exec.Cmd

// RunChild runs cmd to its end and returns the peak resident set size the
// child printed (a PeakLinePrefix line; 0 when it printed none) and its
// ru_maxrss from wait4, both in bytes. ErrNoRusage when the system has no
// ru_maxrss and the child printed nothing.
func RunChild(cmd *exec.Cmd) (self, rusage int64, err error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("child %s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(tail(errb.String()+out.String(), 800)))
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), PeakLinePrefix); ok {
			if self, err = strconv.ParseInt(v, 10, 64); err != nil {
				return 0, 0, fmt.Errorf("child's peak line %q: %w", line, err)
			}
		}
	}
	rusage, ok := peakRSS(cmd.ProcessState)
	if !ok && self == 0 {
		return 0, 0, ErrNoRusage
	}
	return self, rusage, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// measureRSS runs pays through the engine in a child process against a
// simulator served by this one, so that the child's memory is the engine's
// alone (the simulator's ledger grows with every order).
func measureRSS(ctx context.Context, k Keys, dir string, pays int, child ChildRunner, progress func(string, ...any)) (RSSResult, error) {
	res := RSSResult{Pays: pays}
	if child == nil {
		res.Skipped = "no child runner"
		return res, nil
	}
	gw, err := newGateway(k)
	if err != nil {
		return res, err
	}
	defer gw.close()
	home := filepath.Join(dir, "rss-home")
	if err := writeHome(home, k, gw.srv.URL, gw.caPEM(), nil); err != nil {
		return res, err
	}
	progress("rss: %d pays through the engine in a child process", pays)
	start := time.Now()
	self, rusage, err := RunChild(child(ctx, home, pays))
	res.Took = time.Since(start)
	if errors.Is(err, ErrNoRusage) {
		res.Skipped = err.Error()
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.PeakRSS, res.Rusage, res.Source = self, rusage, "VmHWM"
	if self == 0 {
		res.PeakRSS, res.Source = rusage, "ru_maxrss"
	}
	progress("rss: peak %.1f MB (%s; ru_maxrss %.1f MB) in %s", float64(res.PeakRSS)/1e6, res.Source, float64(rusage)/1e6, res.Took.Round(time.Millisecond))
	return res, nil
}
