package wbpay

import (
	"sync"

	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// StreamKind says what a StreamEvent is.
type StreamKind string

// Stream event kinds (the SSE event names of the local API).
const (
	StreamState    StreamKind = "state"    // a journaled transition
	StreamComplete StreamKind = "complete" // a CompleteEvent
	StreamError    StreamKind = "error"    // an ErrorEvent
)

// StreamEvent is one event of the engine's durable stream: every journaled
// transition, followed by the CompleteEvents and ErrorEvents the engine
// raised right after it, in the order it raised them.
//
// ID is StreamID(Entry.Seq, i): i = 0 for the transition itself, 1, 2, …
// for the events raised after it. IDs increase and are never reused, and
// they survive a restart, because the events are journaled with their
// transition. The one exception is an ErrorEvent reporting that the journal
// itself could not be written: it exists only in memory (Volatile), with ID
// StreamID(last durable Seq, 7).
type StreamEvent struct {
	ID       uint64
	Kind     StreamKind
	Entry    journal.Entry // the transition (for a Volatile event: the last durable one, may be zero)
	Complete *Completion   // Kind complete
	Failure  *Failure      // Kind error
	Final    bool          // the transaction is terminal after this event
	Volatile bool          // not in the journal (a journal failure report)
}

// maxRaised is how many events one transition may raise (IDs 1 … 6 after
// its own 0; 7 is kept for a volatile report).
const maxRaised = 6

// StreamID is the id of event i of the entry with Seq seq.
func StreamID(seq uint64, i int) uint64 { return seq<<3 | uint64(i) }

// StreamAfter calls fn for every stream event with an ID above after, in
// order, reading the journal (so it includes events raised before a restart
// and by recovery), then the volatile ones still in memory. It stops at fn's
// first error and returns it. Use StreamChanged to learn when there is more.
func (e *Engine) StreamAfter(after uint64, fn func(StreamEvent) error) error {
	vol := e.stream.after(after)
	emitVolatile := func(below uint64) error {
		for len(vol) > 0 && vol[0].ID < below {
			if err := fn(vol[0]); err != nil {
				return err
			}
			vol = vol[1:]
		}
		return nil
	}
	// Start at the entry of after, unless all of its events are known to
	// be at or below after: a follower that has had a whole entry asks
	// for what follows it, and the entry need not be read (decoded and
	// hash-checked) again.
	from := max(after>>3, 1)
	if after&7 >= maxRaised || e.stream.entryDone(after) {
		from = after>>3 + 1
	}
	err := e.journal.EntriesFrom(from, func(en journal.Entry) error {
		if err := emitVolatile(StreamID(en.Seq, 0)); err != nil {
			return err
		}
		evs := streamEvents(en)
		e.stream.noteEntry(en.Seq, evs[len(evs)-1].ID)
		for _, ev := range evs {
			if ev.ID <= after {
				continue
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return emitVolatile(^uint64(0))
}

// StreamChanged returns a channel closed when the stream may have grown
// (after the next journal commit or volatile event, or at Close). Take it
// before calling StreamAfter, then wait on it.
func (e *Engine) StreamChanged() <-chan struct{} {
	e.stream.mu.Lock()
	defer e.stream.mu.Unlock()
	if e.stream.changed == nil {
		e.stream.changed = make(chan struct{})
		jc := e.journal.Changed()
		ch := e.stream.changed
		go func() {
			select {
			case <-jc:
			case <-ch:
				return
			}
			e.stream.notify(ch)
		}()
	}
	return e.stream.changed
}

// streamEvents expands one journal entry into its stream events.
func streamEvents(en journal.Entry) []StreamEvent {
	out := make([]StreamEvent, 0, 1+len(en.Events))
	final := en.To.Terminal()
	out = append(out, StreamEvent{ID: StreamID(en.Seq, 0), Kind: StreamState, Entry: en, Final: final && len(en.Events) == 0})
	for i, rec := range en.Events {
		op := rec.Op
		if i >= maxRaised {
			break
		}
		ev := StreamEvent{ID: StreamID(en.Seq, i+1), Entry: en, Final: rec.Final}
		if rec.Error {
			ev.Kind = StreamError
			ev.Failure = &Failure{Request: op, TransactionID: en.TxnID, Err: fromInfo(rec.Err), Recovered: rec.Recovered}
		} else {
			ev.Kind = StreamComplete
			c := &Completion{Request: op, TransactionID: en.TxnID, OrderID: rec.OrderID, TransTime: rec.TransTime, Amount: rec.Amount,
				TransStatus: paytree.TransStatus(rec.TransStatus), RefundedTotal: rec.RefundedTotal, Recovered: rec.Recovered}
			if ch, ok := paytree.ChannelFromCode(rec.PayType); ok {
				c.PayType = ch
			}
			ev.Complete = c
		}
		out = append(out, ev)
	}
	return out
}

// eventStream keeps the volatile events and wakes StreamChanged waiters.
type eventStream struct {
	mu       sync.Mutex
	volatile []StreamEvent // the latest few, oldest first
	changed  chan struct{}
	// The newest journal entry StreamAfter has expanded and the id of its
	// last event (a committed entry never changes, so this cannot go stale).
	seenSeq, seenLast uint64
}

// noteEntry records that entry seq's last event has id last.
func (s *eventStream) noteEntry(seq, last uint64) {
	s.mu.Lock()
	if seq >= s.seenSeq {
		s.seenSeq, s.seenLast = seq, last
	}
	s.mu.Unlock()
}

// entryDone reports whether every event of the entry of id after is known
// to have an id at or below after.
func (s *eventStream) entryDone(after uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seenSeq != 0 && after>>3 == s.seenSeq && after >= s.seenLast
}

// maxVolatile bounds the volatile events kept in memory.
const maxVolatile = 64

// add keeps a volatile event (ids are made unique and increasing: the
// journal is broken when one is raised, so no durable id follows soon).
func (s *eventStream) add(ev StreamEvent) {
	s.mu.Lock()
	if n := len(s.volatile); n > 0 && ev.ID <= s.volatile[n-1].ID {
		ev.ID = s.volatile[n-1].ID + 1
	}
	s.volatile = append(s.volatile, ev)
	if len(s.volatile) > maxVolatile {
		s.volatile = s.volatile[len(s.volatile)-maxVolatile:]
	}
	ch := s.changed
	s.mu.Unlock()
	s.notify(ch)
}

// after returns the volatile events with an ID above id.
func (s *eventStream) after(id uint64) []StreamEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StreamEvent
	for _, ev := range s.volatile {
		if ev.ID > id {
			out = append(out, ev)
		}
	}
	return out
}

// notify closes ch if it is still the current changed channel.
func (s *eventStream) notify(ch chan struct{}) {
	if ch == nil {
		return
	}
	s.mu.Lock()
	if s.changed == ch {
		close(ch)
		s.changed = nil
	}
	s.mu.Unlock()
}
