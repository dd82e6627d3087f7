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
	TransactionID string       `json:"transactionId"`
	RequestType   string       `json:"requestType"`
	Final         bool         `json:"final"`
	Recovered     bool         `json:"recovered"`
	Transaction   *Transaction `json:"transaction"`
	Error         *ErrorObject `json:"error"`
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
	e := newEncoder(eng)
	e.txns[ev.Entry.TxnID] = &encTxn{t: t}
	return e.data(ev)
}

// encoder builds the frames of one pass over the stream. It reads each
// transaction's snapshot once per pass (the events of one journal entry —
// its transition, then the CompleteEvent or ErrorEvent raised with it —
// all show the same snapshot), and the parts of its transaction object
// that need more reads (the void deadline, the receipt) at most once.
// A pass starts after the commit it reports, so nothing read is older
// than the events; a new pass reads again.
type encoder struct {
	eng  *wbpay.Engine
	txns map[string]*encTxn
}

// encTxn is one transaction as read in a pass.
type encTxn struct {
	t          *journal.Txn // nil when it cannot be read
	base       *Transaction // txnNoReceipt of t, once built
	receipt    *wbpay.Receipt
	hasReceipt bool
}

func newEncoder(eng *wbpay.Engine) *encoder {
	return &encoder{eng: eng, txns: map[string]*encTxn{}}
}

// reset forgets what the pass read.
func (e *encoder) reset() { clear(e.txns) }

// txn returns transaction id as read in this pass.
func (e *encoder) txn(id string) *encTxn {
	if et, ok := e.txns[id]; ok {
		return et
	}
	et := &encTxn{}
	if id != "" {
		et.t, _ = e.eng.Audit().Get(id)
	}
	e.txns[id] = et
	return et
}

// data is the JSON of ev's data line.
func (e *encoder) data(ev wbpay.StreamEvent) []byte {
	js, _ := json.Marshal(e.dataOf(ev))
	return js
}

// dataOf is the data object of ev.
func (e *encoder) dataOf(ev wbpay.StreamEvent) eventData {
	d := eventData{TransactionID: ev.Entry.TxnID, Final: ev.Final}
	op := paytree.Operation(0)
	if et := e.txn(ev.Entry.TxnID); et.t != nil {
		op = et.t.Op
		if et.base == nil {
			b := txnNoReceipt(e.eng, et.t)
			et.base = &b
		}
		b := *et.base // overlay replaces fields, never writes through them
		if ev.Final && ev.Kind != wbpay.StreamState && et.t.State.Terminal() {
			// The final event carries the receipt (txnOf).
			if !et.hasReceipt {
				et.receipt, _ = e.eng.Receipt(et.t.ID)
				et.hasReceipt = true
			}
			b.Receipt = et.receipt
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

// frame builds the SSE frame of ev.
func (e *encoder) frame(ev wbpay.StreamEvent) frame {
	js := e.data(ev)
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
	enc := newEncoder(h.eng)
	var batch []frame
	for {
		changed := h.eng.StreamChanged()
		enc.reset()
		// Encode what the pass finds, then hand it to the clients at once:
		// the events of one commit reach a client's connection together
		// (one write), and a client sees them in order either way.
		err := h.eng.StreamAfter(h.last, func(ev wbpay.StreamEvent) error {
			select {
			case <-h.stop:
				return errHubStop
			default:
			}
			batch = append(batch, enc.frame(ev))
			if len(batch) >= maxBatch {
				h.broadcast(batch...)
				batch = batch[:0]
			}
			return nil
		})
		if len(batch) > 0 && !errors.Is(err, errHubStop) {
			h.broadcast(batch...)
		}
		clear(batch) // the frames' memory belongs to the clients now
		batch = batch[:0]
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

// maxBatch bounds the frames the hub encodes before handing them out (a
// pass over a long stretch of the stream, e.g. after recovery, does not
// hold its events back until the end).
const maxBatch = 64

// broadcast hands frames, in order, to every client. A client whose
// buffer is full is dropped; the hub never waits.
func (h *hub) broadcast(frames ...frame) {
	if len(frames) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = frames[len(frames)-1].id
	for c := range h.clients {
		for _, f := range frames {
			if !c.offer(f) {
				c.dropped = true
				delete(h.clients, c)
				close(c.ch)
				h.log.Warn("event stream: a client did not keep up and was dropped", zap.Uint64("event-id", f.id))
				break
			}
		}
	}
}

// offer queues f for c unless c's buffer is full.
func (c *sseClient) offer(f frame) bool {
	select {
	case c.ch <- f:
		return true
	default:
		return false
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
	// put writes b into the answer's buffer (it reaches the connection
	// when the buffer is full or at flush), each write bounded in time.
	put := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		_, err := w.Write(b)
		return err == nil
	}
	flush := func() bool { return rc.Flush() == nil }
	if !put([]byte(": wbpay events\n\n")) || !flush() {
		if c != nil {
			s.hub.leave(c)
		}
		return
	}
	if replay {
		enc := newEncoder(s.eng)
		for c == nil {
			enc.reset()
			err := s.eng.StreamAfter(pos, func(ev wbpay.StreamEvent) error {
				if len(enc.txns) > 256 {
					enc.reset()
				}
				if !put(enc.frame(ev).data) {
					return errClientGone
				}
				pos = ev.ID
				return nil
			})
			if err == nil && !flush() {
				err = errClientGone
			}
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
			// Write this frame and every one already queued behind it
			// (the events of one commit come together), then flush once.
			for ok {
				if f.id > pos {
					if !put(f.data) {
						return
					}
					pos = f.id
				}
				select {
				case f, ok = <-c.ch:
					continue
				default:
				}
				break
			}
			if !flush() || !ok {
				return // !ok: dropped (too slow) or the daemon stops
			}
		case <-tick.C:
			if !put([]byte(": keep-alive\n\n")) || !flush() {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

var errClientGone = errors.New("client gone")
