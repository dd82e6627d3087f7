package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api"
	"github.com/wbpay/wbpay/bench"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/sim"
)

// The pay path through the API beside the in-process PaySync, without the
// bench verb's child process: a real engine on a home in a temporary
// directory (on the disk, fsync included), the simulator over loopback
// HTTPS, the API server over loopback HTTP with one open event stream.
//
//	go test -run '^$' -bench 'Pay' -benchtime 500x ./api/
//
// api/pay is POST /v1/pay until that transaction's final event is parsed
// by the client; paysync is Engine.PaySync on another home. Their ratio is
// the API's cost (bench --daemon measures it across processes as issue 12
// asks).

// benchUserCode is paid at once by the simulator (as in the bench verb).
const benchUserCode = "281234567890123456"

// benchRig is one engine on its own home against a shared simulator.
type benchRig struct {
	eng *wbpay.Engine
}

func newBenchRig(b *testing.B, gw *testgw.Gateway, dir string) *benchRig {
	b.Helper()
	home := filepath.Join(dir, "home")
	require.NoError(b, os.MkdirAll(home, 0o700))
	require.NoError(b, testgw.WriteKeys(home))
	require.NoError(b, testgw.WriteConf(home, testgw.Merge(testgw.LiveConf(gw.URL()), map[string]string{
		"HttpTimeout": "15", "LogLevel": "Sequence",
	})))
	ctx := context.Background()
	eng, err := wbpay.Open(ctx, wbpay.WithHome(home), wbpay.WithRootCAs(gw.Pool))
	require.NoError(b, err)
	b.Cleanup(func() { _ = eng.Close() })
	require.NoError(b, eng.WaitRecovered(ctx))
	return &benchRig{eng: eng}
}

func startBenchGateway(b *testing.B) (*testgw.Gateway, string) {
	b.Helper()
	dir := b.TempDir()
	gw, err := testgw.StartGateway(sim.Config{Seed: 1}, dir)
	require.NoError(b, err)
	b.Cleanup(gw.Close)
	return gw, dir
}

// newAPIClient serves eng's API on loopback and returns a payer (package
// bench's, as the bench verb uses) holding its event stream open.
func newAPIClient(b *testing.B, eng *wbpay.Engine) *bench.APIPayer {
	b.Helper()
	tok := strings.Repeat("cd", 32)
	srv, err := api.New(api.Options{Engine: eng, Token: tok})
	require.NoError(b, err)
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	b.Cleanup(srv.BeginClose)
	c, err := bench.NewAPIPayer(hs.URL, tok, benchUserCode)
	require.NoError(b, err)
	b.Cleanup(c.Close)
	return c
}

// p50s collects per-pay durations for a median metric (the means of a
// benchmark are dominated by the disk's slow fsyncs).
type p50s []time.Duration

func (p *p50s) timed(fn func() error) error {
	t := time.Now()
	err := fn()
	*p = append(*p, time.Since(t))
	return err
}

func (p p50s) median() time.Duration {
	s := slices.Clone(p)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// payRigs builds the API client and the PaySync engine, warmed up.
func payRigs(b *testing.B) (apiPay, syncPay func(int) error) {
	b.Helper()
	if testing.Short() {
		b.Skip("pays against the simulator over loopback (skipped with -short)")
	}
	gw, dir := startBenchGateway(b)
	c := newAPIClient(b, newBenchRig(b, gw, filepath.Join(dir, "api")).eng)
	eng := newBenchRig(b, gw, filepath.Join(dir, "paysync")).eng
	syncPay = func(i int) error {
		res, err := eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: int64(1000 + i%1000),
			UserCode: benchUserCode, ReceiptNo: fmt.Sprintf("R%d", i)})
		if err == nil && res.State != fsm.StatePaid {
			err = fmt.Errorf("pay %d ended %s", i, res.State)
		}
		return err
	}
	apiPay = func(i int) error { return c.Pay(context.Background(), i) }
	for i := range 20 { // warm the connections, the journals and the code
		require.NoError(b, apiPay(-1-i))
		require.NoError(b, syncPay(-1-i))
	}
	return apiPay, syncPay
}

// BenchmarkPay times one pay through the API (api: POST /v1/pay until its
// final event is parsed) or through Engine.PaySync (paysync), each on its
// own engine and home, and reports the median beside the mean.
func BenchmarkPay(b *testing.B) {
	for _, kind := range []string{"api", "paysync"} {
		b.Run(kind, func(b *testing.B) {
			apiPay, syncPay := payRigs(b)
			pay := map[string]func(int) error{"api": apiPay, "paysync": syncPay}[kind]
			var d p50s
			i := 0
			for b.Loop() {
				i++
				if err := d.timed(func() error { return pay(i) }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(d.median().Nanoseconds()), "p50-ns/op")
		})
	}
}

// BenchmarkPayRatio alternates API pays and PaySync pays (one of each per
// iteration, who goes first alternating) and reports both medians and
// their ratio, the figure issue 12 bounds by 1.08 (the bench verb measures
// it across processes).
func BenchmarkPayRatio(b *testing.B) {
	apiPay, syncPay := payRigs(b)
	var da, ds p50s
	i := 0
	for b.Loop() {
		i++
		first, second := func() error { return da.timed(func() error { return apiPay(i) }) }, func() error { return ds.timed(func() error { return syncPay(i) }) }
		if i%2 == 0 {
			first, second = second, first
		}
		if err := first(); err != nil {
			b.Fatal(err)
		}
		if err := second(); err != nil {
			b.Fatal(err)
		}
	}
	a, s := da.median(), ds.median()
	b.ReportMetric(float64(a.Nanoseconds()), "api-p50-ns")
	b.ReportMetric(float64(s.Nanoseconds()), "paysync-p50-ns")
	if s > 0 {
		b.ReportMetric(float64(a)/float64(s), "api/paysync")
	}
}
