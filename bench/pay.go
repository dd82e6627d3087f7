package bench

import (
	"context"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// engineHTTPTimeout is the engine's HttpTimeout against the loopback
// gateway (the file's floor of 15 s outside test mode is kept in the file).
const engineHTTPTimeout = 10 * time.Second

// openEngine opens the engine on home, trusting pool for the gateway, and
// waits for its start-up recovery.
func openEngine(ctx context.Context, home string, pool *x509.CertPool) (*wbpay.Engine, error) {
	eng, err := wbpay.Open(ctx, wbpay.WithHome(home), wbpay.WithRootCAs(pool), wbpay.WithHTTPTimeout(engineHTTPTimeout))
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if err := eng.WaitRecovered(ctx); err != nil {
		_ = eng.Close()
		return nil, err
	}
	return eng, nil
}

// enginePay runs pay i through eng and checks that it was paid.
func enginePay(ctx context.Context, eng *wbpay.Engine, i int) error {
	res, err := eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: int64(1000 + i%1000),
		UserCode: historyCode, ReceiptNo: "R" + strconv.Itoa(i)})
	if err != nil {
		return fmt.Errorf("pay %d: %w", i, err)
	}
	if res.State != wbpay.StatePaid {
		return fmt.Errorf("pay %d ended %s: %v", i, res.State, res.Err())
	}
	return nil
}

// Latency is a latency distribution's summary.
type Latency struct {
	P50, P99 time.Duration
}

func summarize(s *Sample) Latency { return Latency{P50: s.Quantile(0.5), P99: s.Quantile(0.99)} }

// PayResult is measurement 1: pays through the engine against the loopback
// HTTPS simulator, beside the floor, in alternating blocks.
type PayResult struct {
	N      int     // pays measured of each kind (after the warm-up)
	Engine Latency // engine.PaySync, LogLevel Sequence
	Floor  Latency // the bare minimum of a durable signed pay
	Parts  Parts   // the floor's components, each alone
}

// Ratio returns engine p50 / floor p50.
func (r PayResult) Ratio() float64 { return ratio(r.Engine.P50, r.Floor.P50) }

// RatioP99 returns engine p99 / floor p99.
func (r PayResult) RatioP99() float64 { return ratio(r.Engine.P99, r.Floor.P99) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// payBlock is how many engine pays, then floor iterations, run back to back
// before switching; the order within a pair of blocks alternates, so that
// neither side always runs right after the other.
const payBlock = 50

// measurePay runs warmup then n pays through the engine and n iterations of
// the floor, in alternating blocks, against loopback HTTPS servers.
func measurePay(ctx context.Context, k Keys, dir string, n, warmup int, progress func(string, ...any)) (PayResult, error) {
	res := PayResult{N: n}
	gw, err := newGateway(k)
	if err != nil {
		return res, err
	}
	defer gw.close()
	home := filepath.Join(dir, "pay-home")
	if err := writeHome(home, k, gw.srv.URL, nil, nil); err != nil {
		return res, err
	}
	eng, err := openEngine(ctx, home, gw.pool())
	if err != nil {
		return res, err
	}
	defer eng.Close()
	fl, err := newFloor(k, filepath.Join(dir, "floor.db"))
	if err != nil {
		return res, err
	}
	defer fl.close()

	i := 0
	runEngine := func(count int, s *Sample) error {
		for range count {
			start := time.Now()
			if err := enginePay(ctx, eng, i); err != nil {
				return err
			}
			if s != nil {
				s.Add(time.Since(start))
			}
			i++
		}
		return nil
	}
	j := 0
	var st *stages
	runFloor := func(count int, s *Sample) error {
		for range count {
			start := time.Now()
			if err := fl.pay(ctx, j, st); err != nil {
				return err
			}
			if s != nil {
				s.Add(time.Since(start))
			}
			j++
		}
		return nil
	}
	progress("pay: warming up (%d of each)", warmup)
	if err := runEngine(warmup, nil); err != nil {
		return res, err
	}
	if err := runFloor(warmup, nil); err != nil {
		return res, err
	}
	var es, fs Sample
	st = &stages{}
	for block := 0; es.Len() < n; block++ {
		c := min(payBlock, n-es.Len())
		first, second := func() error { return runEngine(c, &es) }, func() error { return runFloor(c, &fs) }
		if block%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return res, err
		}
		if err := second(); err != nil {
			return res, err
		}
		if block%10 == 9 {
			progress("pay: %d/%d", es.Len(), n)
		}
	}
	res.Engine, res.Floor = summarize(&es), summarize(&fs)
	parts := max(min(n, 500), 20)
	if res.Parts, err = fl.measureParts(ctx, parts); err != nil {
		return res, fmt.Errorf("floor parts: %w", err)
	}
	res.Parts.LoopCommit, res.Parts.LoopExchange = st.commit.Quantile(0.5), st.exchange.Quantile(0.5)
	if res.Parts.Append, err = measureAppend(filepath.Join(dir, "append.journal"), parts); err != nil {
		return res, fmt.Errorf("journal append: %w", err)
	}
	return res, nil
}

// RunPays opens the engine on home (written by the parent, with the
// gateway's certificate in CAFile) and runs n pays through it. It is the
// body of the child process whose peak RSS measurement 4 reports.
func RunPays(ctx context.Context, home string, n int) error {
	pool, err := loadCA(filepath.Join(home, CAFile))
	if err != nil {
		return err
	}
	eng, err := openEngine(ctx, home, pool)
	if err != nil {
		return err
	}
	defer eng.Close()
	for i := range n {
		if err := enginePay(ctx, eng, i); err != nil {
			return err
		}
	}
	return eng.Close()
}

// measureAppend returns the median of journal.Append on a fresh journal at
// path, over n pays (send, then paid: 2n Appends), on the same disk as the
// floor's bbolt file.
func measureAppend(path string, n int) (time.Duration, error) {
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		return 0, err
	}
	defer j.Close()
	f := newFiller(j, n)
	var s Sample
	for i := range n {
		p := f.pay(time.Now().In(paytree.JST), i)
		for _, step := range []func(*journal.Txn) error{f.send, f.paid} {
			start := time.Now()
			if err := step(p); err != nil {
				return 0, err
			}
			s.Add(time.Since(start))
		}
	}
	return s.Quantile(0.5), nil
}
