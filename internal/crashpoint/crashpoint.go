// Package crashpoint names the places where a crash matters (before and after
// each journal commit, before and after each send) so tests can stop the
// process exactly there.
//
// In production nothing is armed: Hit is one atomic load and a nil check.
// In-process tests arm a hook with Set; the crash-matrix binary, built with
// the "crashpoints" build tag, arms itself from the WBPAY_CRASH_AT
// environment variable and SIGKILLs itself at the named point.
//
// Every point is declared here (Declared): the sequence driver's are
// generated from the state machines of package fsm into points_gen.go
// (`go generate ./internal/crashpoint/`; a test fails when it is stale) and
// named by Commit ("op/event/journal-before", "…/journal-after") and Send
// ("op/kind/send-before", "…/received"); the transport adds two. The
// journal has none of its own: the driver's commit points mark the same
// moments. The crash matrix (recovery, tag crashmatrix) fails when a
// scenario passes an undeclared point or a declared point is passed by no
// scenario.
package crashpoint

import "sync/atomic"

// Hook is called at every named point; a non-nil error makes the caller
// fail as if the step itself had failed (e.g. a journal commit).
type Hook func(name string) error

var hook atomic.Pointer[Hook]

// Hit runs the armed hook at the point called name; nil when nothing is armed.
func Hit(name string) error {
	if h := hook.Load(); h != nil {
		return (*h)(name)
	}
	return nil
}

// Set arms h (nil disarms) and returns a function that restores the previous
// hook. Not for production code.
func Set(h Hook) (restore func()) {
	var p *Hook
	if h != nil {
		p = &h
	}
	old := hook.Swap(p)
	return func() { hook.Store(old) }
}

// Name builds a point name from its parts: Name("pay", "send", "before")
// is "pay/send/before".
func Name(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, '/')
		}
		b = append(b, p...)
	}
	return string(b)
}
