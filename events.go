package wbpay

import (
	"sync"

	"go.uber.org/zap"
)

// dispatcher delivers events to the user's handlers one at a time, in the
// order they were emitted, from its own goroutine, so no engine lock is held
// while a handler runs and a handler may start the next request.
type dispatcher struct {
	log *zap.Logger

	mu         sync.Mutex
	onComplete func(Completion)
	onError    func(Failure)
	queue      []Event
	wake       chan struct{}
	done       chan struct{}
	closing    bool
}

func newDispatcher(log *zap.Logger) *dispatcher {
	d := &dispatcher{log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go d.loop()
	return d
}

func (d *dispatcher) setComplete(fn func(Completion)) {
	d.mu.Lock()
	d.onComplete = fn
	d.mu.Unlock()
}

func (d *dispatcher) setError(fn func(Failure)) {
	d.mu.Lock()
	d.onError = fn
	d.mu.Unlock()
}

// post queues ev for delivery.
func (d *dispatcher) post(ev Event) {
	d.mu.Lock()
	d.queue = append(d.queue, ev)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// close delivers what is queued, then stops the goroutine.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closing = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-d.done
}

func (d *dispatcher) loop() {
	defer close(d.done)
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			closing := d.closing
			d.mu.Unlock()
			if closing {
				return
			}
			<-d.wake
			continue
		}
		ev := d.queue[0]
		d.queue = d.queue[1:]
		onC, onE := d.onComplete, d.onError
		d.mu.Unlock()
		d.deliver(ev, onC, onE)
	}
}

// deliver calls one handler; a panicking handler is logged, not fatal.
func (d *dispatcher) deliver(ev Event, onC func(Completion), onE func(Failure)) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("event handler panicked", zap.Any("panic", r))
		}
	}()
	switch {
	case ev.Complete != nil && onC != nil:
		onC(*ev.Complete)
	case ev.Failure != nil && onE != nil:
		onE(*ev.Failure)
	}
}
