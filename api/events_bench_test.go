package api

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/sim"
)

// BenchmarkHubPass is the hub's work for one pay's final commit, alone: a
// pass over the stream from the previous event (the journal read) that
// encodes the final entry's two frames (state paid, complete final, with
// the receipt), on a journal on the disk.
func BenchmarkHubPass(b *testing.B) {
	if testing.Short() {
		b.Skip("pays against the simulator over loopback (skipped with -short)")
	}
	dir := b.TempDir()
	gw, err := testgw.StartGateway(sim.Config{Seed: 1}, dir)
	require.NoError(b, err)
	b.Cleanup(gw.Close)
	home := filepath.Join(dir, "home")
	require.NoError(b, os.MkdirAll(home, 0o700))
	require.NoError(b, testgw.WriteKeys(home))
	require.NoError(b, testgw.WriteConf(home, testgw.LiveConf(gw.URL())))
	ctx := context.Background()
	eng, err := wbpay.Open(ctx, wbpay.WithHome(home), wbpay.WithRootCAs(gw.Pool))
	require.NoError(b, err)
	b.Cleanup(func() { _ = eng.Close() })
	require.NoError(b, eng.WaitRecovered(ctx))
	for i := range 3 {
		_, err := eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: int64(100 + i), UserCode: "281234567890123456"})
		require.NoError(b, err)
	}
	seq, err := eng.Audit().LastSeq()
	require.NoError(b, err)
	after := wbpay.StreamID(seq, 0) - 1 // the previous entry's last event, as the hub has it
	enc := newEncoder(eng)
	n := 0
	for b.Loop() {
		enc.reset()
		n = 0
		err := eng.StreamAfter(after, func(ev wbpay.StreamEvent) error {
			f := enc.frame(ev)
			n += len(f.data)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "frame-bytes")
}
