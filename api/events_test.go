//go:build unix

package api_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventsOrderAndIDs checks that events arrive in order with
// increasing ids that are Seq<<3|i of the transaction's journal entries,
// a state event (i = 0) for every transition, keep-alive comments, and that
// live-only, ?after= and Last-Event-ID streams agree without gap or
// duplicate.
func TestEventsOrderAndIDs(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemon()
	live := d.events("")
	var ids []string
	for _, class := range []int{0, 1, 3} {
		a := d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 100 + class, "userCode": classCode(class)})
		require.Equal(t, http.StatusAccepted, a.status, "%s", a.raw)
		ids = append(ids, a.str("id"))
		live.until(t, 30*time.Second, finalOf(a.str("id")))
	}
	all := d.events("after=0").until(t, 10*time.Second, finalOf(ids[2]))
	require.NotEmpty(t, all)
	for i := 1; i < len(all); i++ {
		assert.Greater(t, all[i].id, all[i-1].id, "ids increase: %v", kinds(all))
	}
	for _, id := range ids {
		ents := d.request("GET", "/v1/transactions/"+id+"/entries", nil)
		require.Equal(t, http.StatusOK, ents.status)
		seqs := map[uint64]bool{}
		for _, en := range ents.body["entries"].([]any) {
			seqs[uint64(en.(map[string]any)["seq"].(float64))] = true
		}
		states := 0
		for _, ev := range all {
			if ev.data["transactionId"] != id {
				continue
			}
			assert.True(t, seqs[ev.id>>3], "event %d belongs to an entry of %s", ev.id, id)
			assert.Equal(t, ev.kind == "state", ev.id&7 == 0, "event %d (%s): i = 0 exactly for state", ev.id, ev.kind)
			if ev.kind == "state" {
				states++
			}
		}
		assert.Equal(t, len(seqs), states, "one state event per journaled transition of %s", id)
	}
	// The class 1 pay: state sending, complete WAITING (not final), …, complete PAID (final).
	var c1 []string
	for _, ev := range all {
		if ev.data["transactionId"] == ids[1] && ev.kind == "complete" {
			c1 = append(c1, fmt.Sprintf("%v/%v", ev.txn()["transStatus"], ev.data["final"]))
		}
	}
	assert.Equal(t, []string{"WAITING/false", "PAID/true"}, c1)
	// The class 3 pay: one error E2001, final.
	last := all[len(all)-1]
	assert.Equal(t, "error", last.kind)
	assert.Equal(t, "E2001", last.data["error"].(map[string]any)["code"])
	assert.Equal(t, "Pay", last.data["requestType"])

	// Reconnect in the middle: Last-Event-ID and ?after= give exactly the rest.
	mid := all[len(all)/2].id
	for _, how := range []string{"header", "query"} {
		t.Run(how, func(t *testing.T) {
			var s *sse
			if how == "header" {
				s = d.events("", "Last-Event-ID", fmt.Sprint(mid))
			} else {
				s = d.events(q("after", fmt.Sprint(mid)))
			}
			rest := s.until(t, 10*time.Second, finalOf(ids[2]))
			var want []uint64
			for _, ev := range all {
				if ev.id > mid {
					want = append(want, ev.id)
				}
			}
			var got []uint64
			for _, ev := range rest {
				got = append(got, ev.id)
			}
			assert.Equal(t, want, got)
		})
	}
	// The live stream (connected before the first pay) saw the same events.
	select {
	case <-live.keepAlives:
	case <-time.After(5 * time.Second):
		t.Fatal("no keep-alive comment within 5 s (interval 200ms)")
	}
	// Live only: nothing of the past is sent.
	fresh := d.events("")
	a := d.request("POST", "/v1/pay", map[string]any{"payType": "PAYPAY", "amount": 5, "userCode": classCode(0)})
	got := fresh.until(t, 30*time.Second, finalOf(a.str("id")))
	assert.Equal(t, a.str("id"), got[0].data["transactionId"], "a live-only client gets no past event: %v", kinds(got))
	assert.Greater(t, got[0].id, last.id)
}

// TestEventsSlowClient connects clients that never read (with a tiny
// receive buffer), live and replaying: pays go on as before and a reading
// client gets every event.
func TestEventsSlowClient(t *testing.T) {
	e := newEnv(t, nil)
	d := e.startDaemonArgs(nil, "--keep-alive", "100ms", "--sse-buffer", "4", "--sse-write-timeout", "300ms")
	reader := d.events("")
	stuckLive := d.rawEvents(t, "")
	stuckReplay := d.rawEvents(t, "after=0")
	var last string
	for i := 0; i < 60; i++ {
		a := d.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 100 + i, "userCode": classCode(0), "remark": strings.Repeat("x", 128)})
		require.Equal(t, "paid", a.str("state"), "pay %d: %s", i, a.raw)
		last = a.str("id")
	}
	got := reader.until(t, 30*time.Second, finalOf(last))
	assert.GreaterOrEqual(t, len(got), 60*3, "the reading client got every event")
	// The stuck connections are still open (the kernel's buffers hold
	// what was sent); the hub's dropping of a full client buffer is
	// TestHubDropsSlowClient's.
	_, _ = stuckLive, stuckReplay
	h := d.request("GET", "/v1/health", nil)
	assert.Equal(t, "ready", h.str("state"))
}

// rawEvents opens /v1/events on a TCP connection with a tiny receive
// buffer and never reads it.
func (d *daemon) rawEvents(t testing.TB, query string) net.Conn {
	t.Helper()
	host := strings.TrimPrefix(d.url, "http://")
	dialer := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
	}}
	c, err := dialer.Dial("tcp", host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	path := "/v1/events"
	if query != "" {
		path += "?" + query
	}
	_, err = fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", path, host, d.token)
	require.NoError(t, err)
	// Read only the status line, to know the stream is open.
	br := bufio.NewReaderSize(c, 16)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "200")
	return c
}
