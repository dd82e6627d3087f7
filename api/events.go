package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// eventData is the data line of an SSE event (local-api.md section 4).
type eventData struct {
	TransactionID string     `json:"transactionId"`
	RequestType   string     `json:"requestType"`
	Final         bool       `json:"final"`
	Recovered     bool       `json:"recovered"`
	Transaction   *txnBody   `json:"transaction"`
	Error         *errorBody `json:"error"`
}

// requestTypeName is the library spec's name of a request type.
func requestTypeName(op paytree.Operation) string {
	s := op.String()
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// frame is one encoded SSE event.
type frame struct {
	id   uint64
	data []byte
}

// EventData returns the JSON of an SSE event's data line for ev, with its
// transaction's snapshot t (nil when unknown): what /v1/events sends, for
// in-process followers (the CLI's --events jsonl).
func EventData(eng *wbpay.Engine, ev wbpay.StreamEvent, t *journal.Txn) []byte {
	js, _ := json.Marshal(eventDataOf(eng, ev, t))
	return js
}

// eventDataOf is the data object of ev.
func eventDataOf(eng *wbpay.Engine, ev wbpay.StreamEvent, t *journal.Txn) eventData {
	d := eventData{TransactionID: ev.Entry.TxnID, Final: ev.Final}
	op := paytree.Operation(0)
	if t != nil {
		op = t.Op
		b := txnNoReceipt(eng, t)
		if ev.Final && ev.Kind != wbpay.StreamState {
			b = txnOf(eng, t) // the final event carries the receipt
		}
		overlay(&b, ev)
		d.Transaction = &b
	}
	switch {
	case ev.Complete != nil:
		op, d.Recovered, d.TransactionID = ev.Complete.Request, ev.Complete.Recovered, ev.Complete.TransactionID
	case ev.Failure != nil:
		op, d.Recovered, d.TransactionID = ev.Failure.Request, ev.Failure.Recovered, ev.Failure.TransactionID
		d.Error = errorFromEngine(ev.Failure.Err)
	default:
		d.Error = errorFromInfo(ev.Entry.Error)
	}
	d.RequestType = requestTypeName(op)
	return d
}

// encodeEvent builds the SSE frame of ev with the transaction snapshot t
// (nil when it cannot be read).
func encodeEvent(eng *wbpay.Engine, ev wbpay.StreamEvent, t *journal.Txn) frame {
	js := EventData(eng, ev, t)
	var b bytes.Buffer
	b.Grow(len(js) + 48)
	b.WriteString("id: ")
	b.WriteString(strconv.FormatUint(ev.ID, 10))
	b.WriteString("\nevent: ")
	b.WriteString(string(ev.Kind))
	b.WriteString("\ndata: ")
	b.Write(js)
	b.WriteString("\n\n")
	return frame{id: ev.ID, data: b.Bytes()}
}

// hub follows the engine's stream in one goroutine and fans each event out
// to the connected clients through bounded buffers: a client whose buffer
// is full is dropped (it reconnects with Last-Event-ID); the hub never
// waits for a client.
type hub struct {
	eng  *wbpay.Engine
	log  *zap.Logger
	size int

	mu      sync.Mutex
	last    uint64 // id of the last event broadcast
	clients map[*sseClient]struct{}
	stopped bool

	stop chan struct{}
	done chan struct{}
}

type sseClient struct {
	ch      chan frame
	dropped bool
}

// newHub starts following the stream after its current end.
func newHub(eng *wbpay.Engine, log *zap.Logger, size int) (*hub, error) {
	h := &hub{eng: eng, log: log, size: size, clients: map[*sseClient]struct{}{}, stop: make(chan struct{}), done: make(chan struct{})}
	seq, err := eng.Audit().LastSeq()
	if err != nil {
		return nil, err
	}
	if seq > 0 {
		h.last = wbpay.StreamID(seq, 0) - 1
	}
	// Skip what is already journaled: live clients get only what follows.
	if err := eng.StreamAfter(h.last, func(ev wbpay.StreamEvent) error { h.last = ev.ID; return nil }); err != nil {
		return nil, err
	}
	go h.run()
	return h, nil
}

var errHubStop = errors.New("hub stopped")

func (h *hub) run() {
	defer close(h.done)
	cache := map[string]*journal.Txn{}
	for {
		changed := h.eng.StreamChanged()
		clear(cache)
		err := h.eng.StreamAfter(h.last, func(ev wbpay.StreamEvent) error {
			select {
			case <-h.stop:
				return errHubStop
			default:
			}
			t, ok := cache[ev.Entry.TxnID]
			if !ok && ev.Entry.TxnID != "" {
				t, _ = h.eng.Audit().Get(ev.Entry.TxnID)
				cache[ev.Entry.TxnID] = t
			}
			h.broadcast(encodeEvent(h.eng, ev, t))
			return nil
		})
		if errors.Is(err, errHubStop) {
			return
		}
		if err != nil {
			h.log.Error("event stream: read the journal", zap.Error(err))
		}
		select {
		case <-changed:
		case <-h.stop:
			return
		case <-time.After(time.Second):
			// A read error above is retried; a closed engine stops changing.
		}
	}
}

func (h *hub) broadcast(f frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = f.id
	for c := range h.clients {
		select {
		case c.ch <- f:
		default:
			c.dropped = true
			delete(h.clients, c)
			close(c.ch)
			h.log.Warn("event stream: a client did not keep up and was dropped", zap.Uint64("event-id", f.id))
		}
	}
}

// join registers a client once it has caught up with the hub: pos is the
// last id it has sent. It returns false when the hub is further along (the
// caller replays up to hub.last and tries again).
func (h *hub) join(pos uint64) (*sseClient, uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return nil, 0, true
	}
	if h.last > pos {
		return nil, h.last, false
	}
	c := &sseClient{ch: make(chan frame, h.size)}
	h.clients[c] = struct{}{}
	return c, h.last, true
}

func (h *hub) leave(c *sseClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.ch)
	}
}

// close stops the hub and ends every client's stream.
func (h *hub) close() {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.stopped = true
	close(h.stop)
	for c := range h.clients {
		delete(h.clients, c)
		close(c.ch)
	}
	h.mu.Unlock()
	<-h.done
}

// lastEventID reads Last-Event-ID or ?after= (ok false when neither).
func lastEventID(r *http.Request) (uint64, bool, *apiError) {
	v, field := r.Header.Get("Last-Event-ID"), "Last-Event-ID"
	if a := r.URL.Query().Get("after"); r.URL.Query().Has("after") {
		v, field = a, "after"
	}
	if v == "" && field == "Last-Event-ID" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false, badField(field, field+" must be a decimal event id")
	}
	return n, true, nil
}

// serveEvents is GET /v1/events.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r, "after"); e != nil {
		s.fail(w, r, e)
		return
	}
	after, replay, e := lastEventID(r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	pos := after
	var c *sseClient
	if !replay {
		// Join before the answer's headers: a client that takes the 200 as
		// "subscribed" must not miss an event raised in between.
		for {
			var ok bool
			if c, pos, ok = s.hub.join(^uint64(0)); ok {
				break
			}
		}
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	// The stream ends only when the client is dropped or the daemon stops:
	// then the connection closes, so the client notices and reconnects.
	h.Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(": wbpay events\n\n")) {
		if c != nil {
			s.hub.leave(c)
		}
		return
	}
	if replay {
		for c == nil {
			cache := map[string]*journal.Txn{}
			err := s.eng.StreamAfter(pos, func(ev wbpay.StreamEvent) error {
				t, ok := cache[ev.Entry.TxnID]
				if !ok {
					t, _ = s.eng.Audit().Get(ev.Entry.TxnID)
					if len(cache) > 256 {
						clear(cache)
					}
					cache[ev.Entry.TxnID] = t
				}
				if !write(encodeEvent(s.eng, ev, t).data) {
					return errClientGone
				}
				pos = ev.ID
				return nil
			})
			if err != nil {
				if !errors.Is(err, errClientGone) {
					s.log.Error("event stream: replay", zap.Error(err))
				}
				return
			}
			var ok bool
			if c, _, ok = s.hub.join(pos); ok {
				break
			}
		}
	}
	if c == nil { // the hub has stopped
		return
	}
	defer s.hub.leave(c)
	tick := time.NewTicker(s.opts.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case f, ok := <-c.ch:
			if !ok {
				return // dropped (too slow) or the daemon stops
			}
			if f.id <= pos {
				continue
			}
			if !write(f.data) {
				return
			}
			pos = f.id
		case <-tick.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

var errClientGone = errors.New("client gone")
