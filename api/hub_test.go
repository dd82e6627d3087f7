package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

// TestHubDropsSlowClient: a client whose buffer is full is dropped (its
// channel closed) at the next broadcast, which never blocks; a reading
// client gets every frame in order.
func TestHubDropsSlowClient(t *testing.T) {
	h := &hub{log: zaptest.NewLogger(t), size: 4, clients: map[*sseClient]struct{}{}, stop: make(chan struct{}), done: make(chan struct{})}
	slow, _, ok := h.join(0)
	require.True(t, ok)
	fast, _, ok := h.join(0)
	require.True(t, ok)
	var got []uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for f := range fast.ch {
			got = append(got, f.id)
		}
	}()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := uint64(1); i <= 100; i++ {
			h.broadcast(frame{id: i})
			if i%5 == 0 {
				time.Sleep(time.Millisecond) // let the fast reader keep up
			}
		}
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("broadcast blocked on a client that does not read")
	}
	n := 0
	for range slow.ch { // closed after the frames it could hold
		n++
	}
	assert.Equal(t, 4, n, "the slow client got what its buffer held, then its channel was closed")
	assert.True(t, slow.dropped)
	h.leave(fast)
	<-done
	require.NotEmpty(t, got)
	for i := 1; i < len(got); i++ {
		assert.Equal(t, got[i-1]+1, got[i], "no gap for the reader")
	}
	_, last, ok := h.join(50)
	assert.False(t, ok, "a client behind the hub must replay first")
	assert.Equal(t, uint64(100), last)
}
