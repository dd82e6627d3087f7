package wbpay_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// streamRaised returns the complete and error events of the engine's
// stream after id, with their ids, checking that ids increase.
func streamRaised(t *testing.T, eng *wbpay.Engine, after uint64) (ids []uint64, evs []wbpay.Event, states int) {
	t.Helper()
	last := after
	require.NoError(t, eng.StreamAfter(after, func(ev wbpay.StreamEvent) error {
		require.Greater(t, ev.ID, last, "stream ids increase")
		last = ev.ID
		switch ev.Kind {
		case wbpay.StreamState:
			states++
			assert.Equal(t, wbpay.StreamID(ev.Entry.Seq, 0), ev.ID)
		case wbpay.StreamComplete:
			ids, evs = append(ids, ev.ID), append(evs, wbpay.Event{Complete: ev.Complete})
		case wbpay.StreamError:
			ids, evs = append(ids, ev.ID), append(evs, wbpay.Event{Failure: ev.Failure})
		default:
			t.Fatalf("unknown stream kind %q", ev.Kind)
		}
		return nil
	}))
	return ids, evs, states
}

// sameEvents compares events as raised with events read back from the
// stream (the stream keeps an error's fields, not its Go cause).
func sameEvents(t *testing.T, want, got []wbpay.Event) {
	t.Helper()
	require.Equal(t, len(want), len(got), "events raised %s\nevents in the stream %s", describeEvents(want), describeEvents(got))
	for i := range want {
		w, g := want[i], got[i]
		if w.Complete != nil {
			require.NotNil(t, g.Complete, "event %d is a CompleteEvent", i)
			assert.Equal(t, *w.Complete, *g.Complete, "event %d", i)
			continue
		}
		require.NotNil(t, g.Failure, "event %d is an ErrorEvent", i)
		we, ge := *w.Failure.Err, *g.Failure.Err
		we.Err, ge.Err = nil, nil
		assert.Equal(t, we, ge, "event %d error", i)
		assert.Equal(t, w.Failure.Request, g.Failure.Request, "event %d", i)
		assert.Equal(t, w.Failure.TransactionID, g.Failure.TransactionID, "event %d", i)
		assert.Equal(t, w.Failure.Recovered, g.Failure.Recovered, "event %d", i)
	}
}

func describeEvents(evs []wbpay.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Complete != nil {
			b.WriteString(" complete:" + ev.Complete.TransStatus.String())
		} else {
			b.WriteString(" error:" + ev.Failure.Err.Code)
		}
	}
	return b.String()
}

// TestStreamReplaysEveryRaisedEvent: every CompleteEvent and ErrorEvent the
// handlers received is in the durable stream, in order, with the same
// content, and the same again after the engine is reopened.
func TestStreamReplaysEveryRaisedEvent(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	ctx := context.Background()
	pay := func(code string) *wbpay.Result {
		res, err := h.eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: code})
		require.NoError(t, err)
		return res
	}
	paid := pay("281234567890123456")         // PAID
	pay("99" + strings.Repeat("0", 15) + "1") // WAITING, then PAID by polling: two CompleteEvents
	pay("99" + strings.Repeat("0", 15) + "8") // refused: one ErrorEvent
	h.sim.SetFaults([]sim.Fault{{Kind: sim.FaultLost, Op: 0, Probability: 1}})
	pay("281234567890123457") // every answer lost: reverse never achieved, two ErrorEvents
	h.sim.SetFaults(nil)
	_, err := h.eng.RefundSync(ctx, &wbpay.RefundRequest{OrderID: paid.OrderID, RefundAmount: 300})
	require.NoError(t, err)

	// PAID; WAITING, PAID; E2001; N0002, P0001; the refund's PARTIALLY_REFUNDED
	// (handlers run after the Sync call returns: wait for them).
	raised := h.waitEvents(7)
	require.Len(t, raised, 7, "the scenario raises the events it is meant to: %s", describeEvents(raised))
	var twoErrors bool
	for i := 1; i < len(raised); i++ {
		twoErrors = twoErrors || raised[i-1].Failure != nil && raised[i].Failure != nil && raised[i].Failure.Err.Code == paytree.P0001
	}
	require.True(t, twoErrors, "an unachieved reverse raises two ErrorEvents: %s", describeEvents(raised))

	ids, streamed, states := streamRaised(t, h.eng, 0)
	sameEvents(t, raised, streamed)
	st, err := h.eng.Audit().Stats()
	require.NoError(t, err)
	assert.Equal(t, int(st.Entries), states, "one state event per journal entry")

	require.NoError(t, h.eng.Close())
	h.open(0)
	ids2, again, _ := streamRaised(t, h.eng, 0)
	assert.Equal(t, ids, ids2, "ids survive a restart")
	sameEvents(t, raised, again)

	mid := ids[3]
	tail, rest, _ := streamRaised(t, h.eng, mid)
	assert.Equal(t, ids[4:], tail, "replay after an id gives exactly the later events")
	sameEvents(t, raised[4:], rest)
	none, _, _ := streamRaised(t, h.eng, ids[len(ids)-1]+7)
	assert.Empty(t, none)
}

// TestStreamChangedWakes: StreamChanged fires after a transition is
// journaled, so a follower needs no polling.
func TestStreamChangedWakes(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	ch := h.eng.StreamChanged()
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 500, UserCode: "281234567890123456"}))
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("StreamChanged did not fire after a pay was journaled")
	}
}
