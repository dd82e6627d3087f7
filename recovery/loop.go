package recovery

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/journal"
)

// While the gateway is unreachable, recovery retries: the first wait, and
// the longest (the waits double in between).
const (
	RetryMin = 2 * time.Second
	RetryMax = time.Minute
)

// Gateway is what the wait for an unreachable gateway needs of the engine.
type Gateway struct {
	Clock clockwork.Clock // the engine's clock
	// Reachable reports whether the gateway (or the proxy in front of it)
	// accepts a connection; nothing is sent.
	Reachable func(context.Context) error
	// Patience bounds the wait, counted from when the gateway was first
	// found unreachable (0: as long as the engine runs).
	Patience time.Duration
	Log      *zap.Logger // written at the engine's Error level
	// Waiting is told when the wait starts and since when the gateway is
	// unreachable (request methods then answer L0004 naming the wait).
	Waiting func(since time.Time)
}

// Wait waits (RetryMin, doubling up to RetryMax, on the engine's clock)
// until the gateway accepts a connection, before anything more is
// journaled. It returns false when ctx ends first or the patience, counted
// from since, runs out; waiting is how many transactions wait (for the log).
func (g Gateway) Wait(ctx context.Context, since time.Time, waiting int) bool {
	g.Waiting(since)
	for delay := RetryMin; ; delay = min(2*delay, RetryMax) {
		if p := g.Patience; p > 0 && g.Clock.Since(since) >= p {
			g.Log.Error("recovery stopped: the gateway stayed unreachable; the transactions are kept unfinished for the next start",
				zap.Int("waiting", waiting), zap.Duration("waited", g.Clock.Since(since)))
			return false
		}
		g.Log.Error("gateway unreachable: recovery waits and retries (nothing is escalated for it)",
			zap.Int("waiting", waiting), zap.Duration("retry-in", delay))
		select {
		case <-g.Clock.After(delay):
		case <-ctx.Done():
			return false
		}
		if g.Reachable(ctx) == nil {
			return true
		}
	}
}

// Loop resumes unfinished transactions with the engine's sequence driver.
type Loop struct {
	Journal *journal.Journal
	// Resume drives one transaction as far as it goes (see fsm.Decide with
	// the verdict restarted) and reports whether it stopped because the
	// gateway was unreachable (it is then left where the journal has it).
	Resume  func(*journal.Txn) (unreachable bool)
	Gateway Gateway
	// Resuming is told when the gateway is reachable again and the next
	// pass begins.
	Resuming func()
}

// Run resumes txns one by one. Those that met an unreachable gateway stay
// unfinished; Run then waits for the gateway (Gateway.Wait) and resumes
// what the journal still holds unfinished, until nothing waits, ctx ends,
// or the patience has run out.
func (l Loop) Run(ctx context.Context, txns []*journal.Txn) {
	var since time.Time // when the gateway was first found unreachable
	for {
		waiting := 0
		for _, t := range txns {
			if ctx.Err() != nil {
				return
			}
			if l.Resume(t) {
				waiting++
			}
		}
		if waiting == 0 {
			return
		}
		if since.IsZero() {
			since = l.Gateway.Clock.Now()
		}
		if !l.Gateway.Wait(ctx, since, waiting) {
			return
		}
		l.Resuming()
		var err error
		if txns, err = Find(l.Journal); err != nil {
			l.Gateway.Log.Error("recovery stopped", zap.Error(err))
			return
		}
	}
}
