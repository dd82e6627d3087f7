package recovery_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/recovery"
)

// fakeGateway is a recovery.Gateway on a fake clock whose probe fails until
// up is set; it counts the probes.
func fakeGateway(clock *clockwork.FakeClock, patience time.Duration, up *atomic.Bool, probes *atomic.Int32, since *atomic.Value) recovery.Gateway {
	return recovery.Gateway{Clock: clock, Patience: patience, Log: zap.NewNop(),
		Reachable: func(context.Context) error {
			probes.Add(1)
			if up.Load() {
				return nil
			}
			return errors.New("connection refused")
		},
		Waiting: func(t time.Time) { since.Store(t) }}
}

// advance moves clock by d once the waiter sleeps on it.
func advance(t *testing.T, clock *clockwork.FakeClock, d time.Duration) {
	t.Helper()
	sleeping(t, clock)
	clock.Advance(d)
}

// sleeping waits until the waiter sleeps on clock.
func sleeping(t *testing.T, clock *clockwork.FakeClock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, clock.BlockUntilContext(ctx, 1))
}

// TestGatewayWaitBacksOff: the probe runs after 2 s, then 4 s, 8 s, …, and
// the wait ends once the gateway accepts a connection.
func TestGatewayWaitBacksOff(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var up atomic.Bool
	var probes atomic.Int32
	var since atomic.Value
	g := fakeGateway(clock, 0, &up, &probes, &since)
	start := clock.Now()
	done := make(chan bool, 1)
	go func() { done <- g.Wait(context.Background(), start, 2) }()

	advance(t, clock, recovery.RetryMin-time.Millisecond)
	assert.Zero(t, probes.Load(), "no probe before the first wait is over")
	clock.Advance(time.Millisecond)
	advance(t, clock, 2*recovery.RetryMin-time.Millisecond) // the second wait doubles
	assert.Equal(t, int32(1), probes.Load())
	clock.Advance(time.Millisecond)
	sleeping(t, clock)
	assert.Equal(t, int32(2), probes.Load())
	up.Store(true)
	clock.Advance(4 * recovery.RetryMin)
	assert.True(t, <-done)
	assert.Equal(t, int32(3), probes.Load())
	assert.Equal(t, start, since.Load(), "the engine is told since when it waits")
}

// TestGatewayWaitPatience: the wait gives up once the patience, counted
// from since, has run out; and at once when the context ends.
func TestGatewayWaitPatience(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var up atomic.Bool
	var probes atomic.Int32
	var since atomic.Value
	g := fakeGateway(clock, 5*time.Second, &up, &probes, &since)
	done := make(chan bool, 1)
	go func() { done <- g.Wait(context.Background(), clock.Now(), 1) }()
	advance(t, clock, 2*time.Second)
	advance(t, clock, 4*time.Second)
	assert.False(t, <-done)
	assert.Equal(t, int32(2), probes.Load())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.False(t, fakeGateway(clock, 0, &up, &probes, &since).Wait(ctx, clock.Now(), 1))
}

// TestLoopRunsUntilNothingWaits: a transaction that met an unreachable
// gateway is resumed again, from the journal, once the gateway is back;
// the others are resumed once.
func TestLoopRunsUntilNothingWaits(t *testing.T) {
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{})
	require.NoError(t, err)
	defer j.Close()
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, paytree.JST)
	for i, id := range []string{"a", "b"} {
		snap := &journal.Txn{ID: id, Op: paytree.OpPay, State: fsm.StateSending, CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
		require.NoError(t, j.Append(&journal.Entry{TxnID: id, Time: now, Event: fsm.EvSend, From: fsm.StateNew, To: fsm.StateSending, RequestID: id, Kind: "pay"}, snap))
	}
	txns, err := recovery.Find(j)
	require.NoError(t, err)

	clock := clockwork.NewFakeClock()
	var up atomic.Bool
	up.Store(true)
	var probes atomic.Int32
	var since atomic.Value
	var resumed []string
	passes := 0
	l := recovery.Loop{Journal: j, Gateway: fakeGateway(clock, 0, &up, &probes, &since),
		Resume: func(t *journal.Txn) bool {
			resumed = append(resumed, t.ID)
			return t.ID == "b" && len(resumed) < 3 // b waits for the gateway on the first pass
		},
		Resuming: func() { passes++ }}
	done := make(chan struct{})
	go func() { l.Run(context.Background(), txns); close(done) }()
	advance(t, clock, recovery.RetryMin)
	<-done
	assert.Equal(t, []string{"a", "b", "a", "b"}, resumed, "the second pass resumes what the journal still holds unfinished")
	assert.Equal(t, 1, passes)
	assert.Equal(t, int32(1), probes.Load())
}
