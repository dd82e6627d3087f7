package testgw

import (
	"fmt"
	"io"
	"net"
	"sync"
)

// Relay stands for the network between an engine and its gateway: a TCP
// relay on a fixed loopback address (give the engine "https://"+Addr as its
// ServerURL) that forwards to the gateway. Down cuts it (nothing listens:
// a connect is refused, the engine's N0001) and Up restores it on the same
// address.
type Relay struct {
	Addr   string // host:port the engine connects to
	target string // the gateway's host:port

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// NewRelay starts a relay to target (host:port) on a free loopback port.
func NewRelay(target string) (*Relay, error) {
	r := &Relay{target: target, conns: map[net.Conn]bool{}}
	if err := r.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	r.Addr = r.ln.Addr().String()
	return r, nil
}

// Up restores the relay after Down (a no-op while it is up).
func (r *Relay) Up() error {
	r.mu.Lock()
	up := r.ln != nil
	r.mu.Unlock()
	if up {
		return nil
	}
	return r.listen(r.Addr)
}

// Down cuts the network: new connections are refused and the open ones are
// closed. It waits until no relaying goroutine is left.
func (r *Relay) Down() {
	r.mu.Lock()
	if r.ln != nil {
		_ = r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *Relay) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("relay: listen on %s: %w", addr, err)
	}
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.pipe(c)
			}()
		}
	}()
	return nil
}

// pipe relays one connection until either side closes or Down cuts it.
func (r *Relay) pipe(c net.Conn) {
	g, err := net.Dial("tcp", r.target)
	if err != nil {
		_ = c.Close()
		return
	}
	r.mu.Lock()
	if r.ln == nil { // cut meanwhile
		r.mu.Unlock()
		_ = c.Close()
		_ = g.Close()
		return
	}
	r.conns[c], r.conns[g] = true, true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(g, c)
		_ = g.Close()
		close(done)
	}()
	_, _ = io.Copy(c, g)
	_ = c.Close()
	<-done
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.conns, g)
	r.mu.Unlock()
}
