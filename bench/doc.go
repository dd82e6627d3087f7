// Package bench measures the engine against the physical floor of a durable
// signed payment, in one run, and formats the results for BENCHMARKS.md.
// `wbpay-engine bench` is its command; `go test -bench . ./bench/` runs its
// Go benchmarks (BenchmarkPay, BenchmarkFloor, BenchmarkOpenWithHistory).
//
// # What is measured
//
//  1. Pay latency: Engine.PaySync at LogLevel Sequence against the simulator
//     (package sim) served over loopback HTTPS, beside the floor: two bbolt
//     Updates of 300 bytes, two RSA-2048 SHA1 signs and two verifies (the
//     client signs, a bare server verifies and signs, the client verifies)
//     and one HTTPS round trip on a kept-alive connection, nothing else.
//     Both run in alternating blocks of 50 after a warm-up, so that a noisy
//     neighbour hurts both alike; p50 and p99 of each and their ratio.
//  2. Start-up: journal.Open + Unfinished and wbpay.Open on journals of
//     finished pays (two entries each, send then paid, with masked user
//     codes, receipt and order ids, creation times spread over a year) plus
//     a few pays left in sending; the median of five warm runs.
//  3. Audit on the largest history: List of one JST day, Verify (the second
//     run), and ForEachEntry written as JSON lines to io.Discard.
//  4. Footprint: file bytes per finished pay, and the peak RSS (getrusage's
//     ru_maxrss) of a child process running pays through the engine while
//     the simulator runs in the parent.
//  5. Recovery: pays journaled in sending, half of them already processed
//     by the simulator (confirmed PAID) and half never seen (confirm E3001,
//     then reversed), resumed by wbpay.Open + WaitRecovered with
//     RequestConfirmInterval 0. The bbolt Updates and exchanges recovery
//     made are counted in the journal and priced at the floor's medians.
//
// # Histories
//
// Histories are built through journal.Append, one fsync'd bbolt Update per
// transition exactly as the engine writes them, in Config.BuildDir (by
// default /dev/shm on Linux, where fsync costs nothing: about 0.1–0.2 ms per
// Append instead of about 1 ms on disk), then copied to Config.Dir, fsync'd,
// before anything is timed there. The layout is the same as on disk.
//
// # What survives
//
// Nothing is meant to: every home, journal and key lives under Config.Dir
// and BuildDir, which the command removes after the run (unless --keep).
// The keys are generated per run.
//
// # Use
//
//	rep, err := bench.Run(ctx, bench.DefaultConfig(dir))
//	rep.Table(os.Stdout)      // aligned text
//	rep.Markdown(f)           // BENCHMARKS.md-ready section
package bench
