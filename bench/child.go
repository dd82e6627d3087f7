package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// RSSResult is the memory half of measurement 4.
type RSSResult struct {
	Pays    int
	PeakRSS int64         // bytes; 0 when not measured
	Took    time.Duration // the child's whole run
	Skipped string        // why it was not measured, if it was not
}

// ChildRunner starts the child process that runs pays through the engine on
// home (see RunPays) and returns it unstarted; Run starts it, waits, and
// reads its peak RSS from the operating system.
type ChildRunner func(ctx context.Context, home string, pays int) *exec.Cmd

// RunChild runs cmd to its end and returns its peak resident set size in
// bytes (getrusage's ru_maxrss of the child).
func RunChild(cmd *exec.Cmd) (int64, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("child %s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(tail(out.String(), 800)))
	}
	peak, ok := peakRSS(cmd.ProcessState)
	if !ok {
		return 0, ErrNoRusage
	}
	return peak, nil
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
	peak, err := RunChild(child(ctx, home, pays))
	res.Took = time.Since(start)
	if errors.Is(err, ErrNoRusage) {
		res.Skipped = err.Error()
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.PeakRSS = peak
	progress("rss: peak %.1f MB in %s", float64(peak)/1e6, res.Took.Round(time.Millisecond))
	return res, nil
}
