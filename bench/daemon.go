package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api"
	"github.com/wbpay/wbpay/journal"
)

// Targets of issue 12 (the daemon).
const (
	TargetAPIFloorRatio   = 1.25
	TargetAPIPaySyncRatio = 1.08
	TargetDeliveryP99     = 5 * time.Millisecond
	TargetServeStartup    = 50 * time.Millisecond
)

// ServeRunner returns, unstarted, a `wbpay-engine serve` process on home
// listening on a free loopback port and trusting caFile for the gateway.
type ServeRunner func(ctx context.Context, home, caFile string) *exec.Cmd

// DaemonConfig says what RunDaemon measures.
type DaemonConfig struct {
	Dir      string      // work directory on the disk to measure
	BuildDir string      // where the history is built ("" = Dir)
	Pays     int         // pays of each kind (API, PaySync, floor) measured
	Warmup   int         // untimed pays of each kind first
	RSSPays  int         // API pays after which the daemon's peak RSS is read (total, the measured ones included)
	History  int         // finished pays of the history serve starts on (0 skips)
	Serve    ServeRunner // required
	Keys     *Keys       // nil: fresh keys
	Progress io.Writer
}

// DaemonReport is what RunDaemon measured.
type DaemonReport struct {
	Pays              int
	API, PaySync      Latency // POST /v1/pay + the final SSE event; Engine.PaySync
	Floor             Latency
	Delivery          Latency // journal commit → SSE client
	DeliveryN         int
	RSSPays           int
	PeakRSS           int64 // the daemon's VmHWM after RSSPays API pays
	History           int
	ServeStartup      time.Duration // median: serve started → first answered /v1/health
	ServeStartupFirst time.Duration // the untimed first run (cold page cache)
	Elapsed           time.Duration
}

// RunDaemon measures the daemon: API pay latency beside PaySync and the
// floor (alternating blocks), event delivery, the daemon's peak RSS, and
// serve's start-up on a large history.
func RunDaemon(ctx context.Context, cfg DaemonConfig) (*DaemonReport, error) {
	if cfg.Dir == "" || cfg.Serve == nil || cfg.Pays < 1 {
		return nil, fmt.Errorf("%w: daemon bench needs a directory, a serve runner and pays", ErrConfig)
	}
	started := time.Now()
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "bench: "+format+"\n", args...)
		}
	}
	k := cfg.Keys
	if k == nil {
		nk, err := NewKeys()
		if err != nil {
			return nil, err
		}
		k = &nk
	}
	rep := &DaemonReport{Pays: cfg.Pays, RSSPays: cfg.RSSPays, History: cfg.History}
	gw, err := newGateway(*k)
	if err != nil {
		return nil, err
	}
	defer gw.close()

	// The daemon child.
	dhome := filepath.Join(cfg.Dir, "daemon-home")
	if err := writeHome(dhome, *k, gw.srv.URL, gw.caPEM(), nil); err != nil {
		return nil, err
	}
	d, err := startServe(ctx, cfg.Serve, dhome)
	if err != nil {
		return nil, err
	}
	defer d.stop()
	// The in-process engine and the floor.
	ehome := filepath.Join(cfg.Dir, "engine-home")
	if err := writeHome(ehome, *k, gw.srv.URL, nil, nil); err != nil {
		return nil, err
	}
	eng, err := openEngine(ctx, ehome, gw.pool())
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	fl, err := newFloor(*k, filepath.Join(cfg.Dir, "daemon-floor.db"))
	if err != nil {
		return nil, err
	}
	defer fl.close()

	ai, ei, fi := 0, 0, 0
	runs := []func(int, *Sample) error{
		func(n int, s *Sample) error { return timed(n, s, func() error { ai++; return d.Pay(ctx, ai) }) },
		func(n int, s *Sample) error {
			return timed(n, s, func() error { ei++; return enginePay(ctx, eng, ei) })
		},
		func(n int, s *Sample) error { return timed(n, s, func() error { fi++; return fl.pay(ctx, fi, nil) }) },
	}
	progress("daemon: warming up (%d pays of each kind)", cfg.Warmup)
	for _, run := range runs {
		if err := run(cfg.Warmup, nil); err != nil {
			return nil, err
		}
	}
	samples := make([]Sample, 3)
	for block := 0; samples[0].Len() < cfg.Pays; block++ {
		c := min(payBlock, cfg.Pays-samples[0].Len())
		for j := range runs {
			idx := (j + block) % 3 // rotate who goes first
			if err := runs[idx](c, &samples[idx]); err != nil {
				return nil, err
			}
		}
		if block%4 == 3 {
			progress("daemon: %d/%d pays of each kind", samples[0].Len(), cfg.Pays)
		}
	}
	rep.API, rep.PaySync, rep.Floor = summarize(&samples[0]), summarize(&samples[1]), summarize(&samples[2])
	progress("daemon: API p50 %s, PaySync p50 %s, floor p50 %s", rep.API.P50, rep.PaySync.P50, rep.Floor.P50)

	if cfg.RSSPays > 0 {
		for ai < cfg.RSSPays {
			if err := d.Pay(ctx, ai+1); err != nil {
				return nil, err
			}
			ai++
			if ai%1000 == 0 {
				progress("daemon: %d/%d API pays", ai, cfg.RSSPays)
			}
		}
		if rep.PeakRSS, err = d.peakRSS(); err != nil {
			return nil, err
		}
		progress("daemon: peak RSS %.1f MB after %d API pays", float64(rep.PeakRSS)/1e6, ai)
	}
	d.stop()

	if rep.Delivery, rep.DeliveryN, err = measureDelivery(ctx, *k, cfg.Dir, gw, min(cfg.Pays, 500)); err != nil {
		return nil, fmt.Errorf("event delivery: %w", err)
	}
	progress("daemon: commit → SSE client p50 %s p99 %s", rep.Delivery.P50, rep.Delivery.P99)

	if cfg.History > 0 {
		if rep.ServeStartupFirst, rep.ServeStartup, err = measureServeStartup(ctx, *k, cfg, gw, progress); err != nil {
			return nil, fmt.Errorf("serve start-up: %w", err)
		}
	}
	rep.Elapsed = time.Since(started)
	return rep, nil
}

func timed(n int, s *Sample, fn func() error) error {
	for range n {
		start := time.Now()
		if err := fn(); err != nil {
			return err
		}
		if s != nil {
			s.Add(time.Since(start))
		}
	}
	return nil
}

// served is a running daemon child with an open event stream.
type served struct {
	*APIPayer
	cmd  *exec.Cmd
	once sync.Once
}

func startServe(ctx context.Context, run ServeRunner, home string) (*served, error) {
	cmd := run(ctx, home, filepath.Join(home, CAFile))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &served{cmd: cmd}
	var url string
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := api.ReadServeFile(home)
		if err == nil && info.PID == cmd.Process.Pid {
			url = info.URL
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("serve did not start: %s", errb.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	tok, err := api.ReadToken(home)
	if err != nil {
		d.stop()
		return nil, err
	}
	if d.APIPayer, err = NewAPIPayer(url, tok, historyCode); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// peakRSS reads the daemon's VmHWM.
func (d *served) peakRSS() (int64, error) {
	v := procField(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid), "VmHWM")
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the daemon's VmHWM: %q", v)
	}
	return kb * 1024, nil
}

func (d *served) stop() {
	d.once.Do(func() {
		if d.APIPayer != nil {
			d.Close()
		}
		_ = d.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = d.cmd.Process.Kill()
			<-done
		}
	})
}

// measureDelivery runs n pays through an in-process engine with the API
// server on loopback and an SSE client, and times each event from the
// journal's commit notification (journal.Changed, as an in-process watcher
// sees it) to the client's read of it.
func measureDelivery(ctx context.Context, k Keys, dir string, gw *gateway, n int) (Latency, int, error) {
	home := filepath.Join(dir, "delivery-home")
	if err := writeHome(home, k, gw.srv.URL, nil, nil); err != nil {
		return Latency{}, 0, err
	}
	eng, err := openEngine(ctx, home, gw.pool())
	if err != nil {
		return Latency{}, 0, err
	}
	defer eng.Close()
	tok := strings.Repeat("ab", 32)
	srv, err := api.New(api.Options{Engine: eng, Token: tok})
	if err != nil {
		return Latency{}, 0, err
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.BeginClose()

	var mu sync.Mutex
	committed := map[uint64]time.Time{} // seq → when the commit was first seen
	stopWatch := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		j := eng.Audit()
		var seen uint64
		if last, err := j.LastSeq(); err == nil {
			seen = last
		}
		for {
			ch := j.Changed()
			if seq, err := j.LastSeq(); err == nil && seq > seen {
				now := time.Now()
				mu.Lock()
				for q := seen + 1; q <= seq; q++ {
					committed[q] = now
				}
				mu.Unlock()
				seen = seq
			}
			select {
			case <-ch:
			case <-stopWatch:
				return
			}
		}
	}()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, hs.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Latency{}, 0, err
	}
	defer resp.Body.Close()
	var s Sample
	got := make(chan struct{}, 1024)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "id: ") {
				continue
			}
			now := time.Now()
			id, _ := strconv.ParseUint(line[4:], 10, 64)
			mu.Lock()
			if at, ok := committed[id>>3]; ok {
				s.Add(now.Sub(at))
			}
			mu.Unlock()
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	for i := range n {
		if err := enginePay(ctx, eng, i); err != nil {
			return Latency{}, 0, err
		}
	}
	// Let the last events arrive.
	deadline := time.After(5 * time.Second)
	for {
		mu.Lock()
		l := s.Len()
		mu.Unlock()
		if l >= 2*n {
			break
		}
		select {
		case <-got:
		case <-deadline:
			l = -1
		}
		if l < 0 {
			break
		}
	}
	close(stopWatch)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if s.Len() == 0 {
		return Latency{}, 0, errors.New("no event timed")
	}
	return summarize(&s), s.Len(), nil
}

// measureServeStartup builds a history of cfg.History finished pays, copies
// it into a home on the disk, and times `serve` from its start to the first
// answered /v1/health: one untimed (cold) run, then the median of five.
func measureServeStartup(ctx context.Context, k Keys, cfg DaemonConfig, gw *gateway, progress func(string, ...any)) (first, med time.Duration, err error) {
	build := cfg.BuildDir
	if build == "" {
		build = cfg.Dir
	}
	bdir, err := os.MkdirTemp(build, "wbpay-bench-serve-history-*")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(bdir)
	buildPath := filepath.Join(bdir, wbpay.JournalFile)
	j, err := journal.Open(buildPath, journal.Options{})
	if err != nil {
		return 0, 0, err
	}
	progress("daemon: building a history of %d pays in %s", cfg.History, bdir)
	f := newFiller(j, cfg.History)
	if err := f.fillTo(cfg.History); err != nil {
		_ = j.Close()
		return 0, 0, err
	}
	if err := j.Close(); err != nil {
		return 0, 0, err
	}
	home := filepath.Join(cfg.Dir, "serve-history-home")
	if err := writeHome(home, k, gw.srv.URL, gw.caPEM(), nil); err != nil {
		return 0, 0, err
	}
	if err := copyFile(buildPath, filepath.Join(home, wbpay.JournalFile)); err != nil {
		return 0, 0, err
	}
	tok, err := api.LoadOrCreateToken(home)
	if err != nil {
		return 0, 0, err
	}
	once := func() (time.Duration, error) {
		_ = os.Remove(filepath.Join(home, api.ServeFile))
		cmd := cfg.Serve(ctx, home, filepath.Join(home, CAFile))
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		defer func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}()
		c := &http.Client{Timeout: time.Second}
		for {
			if time.Since(start) > 30*time.Second {
				return 0, errors.New("serve did not answer within 30 s")
			}
			info, err := api.ReadServeFile(home)
			if err != nil || info.PID != cmd.Process.Pid {
				time.Sleep(200 * time.Microsecond)
				continue
			}
			req, _ := http.NewRequest(http.MethodGet, info.URL+"/v1/health", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := c.Do(req)
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
	}
	if first, err = once(); err != nil {
		return 0, 0, err
	}
	var s Sample
	for range warmRuns {
		d, err := once()
		if err != nil {
			return 0, 0, err
		}
		s.Add(d)
	}
	med = s.Quantile(0.5)
	progress("daemon: serve on %d pays answers after %s (first run %s)", cfg.History, med, first)
	return first, med, nil
}

// WriteDaemon writes the report as a Markdown table with the targets.
func (r *DaemonReport) WriteDaemon(w io.Writer) {
	ok := func(b bool) string {
		if b {
			return "met"
		}
		return "MISSED"
	}
	fmt.Fprintf(w, "| daemon figure | value | target | |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| pay through the API (POST + final SSE event), p50 / p99 | %s / %s | | |\n", r.API.P50, r.API.P99)
	fmt.Fprintf(w, "| in-process PaySync, p50 / p99 | %s / %s | | |\n", r.PaySync.P50, r.PaySync.P99)
	fmt.Fprintf(w, "| floor, p50 / p99 | %s / %s | | |\n", r.Floor.P50, r.Floor.P99)
	af, ap := ratio(r.API.P50, r.Floor.P50), ratio(r.API.P50, r.PaySync.P50)
	fmt.Fprintf(w, "| API / floor (p50) | %.2f | ≤ %.2f | %s |\n", af, TargetAPIFloorRatio, ok(af <= TargetAPIFloorRatio))
	fmt.Fprintf(w, "| API / PaySync (p50) | %.2f | ≤ %.2f | %s |\n", ap, TargetAPIPaySyncRatio, ok(ap <= TargetAPIPaySyncRatio))
	fmt.Fprintf(w, "| journal commit → SSE client, p50 / p99 (%d events) | %s / %s | p99 ≤ %s | %s |\n", r.DeliveryN, r.Delivery.P50, r.Delivery.P99, TargetDeliveryP99, ok(r.Delivery.P99 <= TargetDeliveryP99))
	if r.PeakRSS > 0 {
		fmt.Fprintf(w, "| daemon peak RSS after %d API pays | %.1f MB | ≤ 40 MB | %s |\n", r.RSSPays, float64(r.PeakRSS)/1e6, ok(r.PeakRSS <= TargetPeakRSSBytes))
	}
	if r.History > 0 {
		fmt.Fprintf(w, "| serve start-up on %d pays → first answered request, median of 5 (first, cold: %s) | %s | ≤ %s | %s |\n", r.History, r.ServeStartupFirst.Round(time.Microsecond), r.ServeStartup.Round(time.Microsecond), TargetServeStartup, ok(r.ServeStartup <= TargetServeStartup))
	}
	fmt.Fprintf(w, "\n%d pays of each kind in rotating blocks of %d; run took %s.\n", r.Pays, payBlock, r.Elapsed.Round(time.Second))
}
