package fsm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lfsm "github.com/looplab/fsm"

	"github.com/wbpay/wbpay/paytree"
)

// Machine is one transaction's state machine. It only validates and records
// transitions: it runs no callbacks and does no I/O, so the driver journals a
// transition (see Next) before firing it. Not safe for concurrent use.
type Machine struct {
	op    paytree.Operation
	f     *lfsm.FSM
	table map[edge]State // (event, src) → dst, the same rows looplab holds
}

type edge struct {
	ev  Event
	src State
}

// New returns op's machine in state current, typically rebuilt from a journal
// snapshot. It returns an error wrapping ErrNoMachine when op has no machine
// (confirm) or current is not one of its states.
func New(op paytree.Operation, current State) (*Machine, error) {
	rows := Transitions(op)
	if rows == nil {
		return nil, fmt.Errorf("%w: operation %s has no state machine", ErrNoMachine, op)
	}
	if !contains(States(op), current) {
		return nil, fmt.Errorf("%w: state %q is not in the %s machine", ErrNoMachine, current, op)
	}
	table := make(map[edge]State)
	events := make([]lfsm.EventDesc, 0, len(rows))
	for _, r := range rows {
		src := make([]string, len(r.Src))
		for i, s := range r.Src {
			src[i] = string(s)
			table[edge{r.Event, s}] = r.Dst
		}
		events = append(events, lfsm.EventDesc{Name: string(r.Event), Src: src, Dst: string(r.Dst)})
	}
	// No callbacks: looplab's callbacks cannot fail and deadlock on nested
	// events, so the machine is only the table and its validator.
	return &Machine{op: op, f: lfsm.NewFSM(string(current), events, nil), table: table}, nil
}

// Op returns the operation whose machine m is.
func (m *Machine) Op() paytree.Operation { return m.op }

// State returns the current state.
func (m *Machine) State() State { return State(m.f.Current()) }

// Can reports whether e is allowed in the current state (self-loops included).
func (m *Machine) Can(e Event) bool { return m.f.Can(string(e)) }

// Next returns the state e would lead to from the current state, without
// firing it, so the driver can journal the transition first. It returns an
// error wrapping ErrIllegal when e is not allowed.
func (m *Machine) Next(e Event) (State, error) {
	cur := m.State()
	dst, ok := m.table[edge{e, cur}]
	if !ok || !m.Can(e) {
		return "", m.illegal(cur, e)
	}
	return dst, nil
}

// Fire takes the transition e from the current state and returns both ends.
// A self-loop (confirming → confirming) is a legal transition. An event not
// allowed in the current state returns an error wrapping ErrIllegal and
// leaves the state unchanged.
func (m *Machine) Fire(e Event) (from, to State, err error) {
	from = m.State()
	want, ok := m.table[edge{e, from}]
	if !ok {
		return from, from, m.illegal(from, e)
	}
	// Background never cancels, so looplab cannot be left "in transition"
	// and no goroutine is started.
	err = m.f.Event(context.Background(), string(e))
	var noTrans lfsm.NoTransitionError
	var invalid lfsm.InvalidEventError
	var unknown lfsm.UnknownEventError
	switch {
	case err == nil:
	case errors.As(err, &noTrans) && noTrans.Err == nil:
		// looplab reports a self-loop as "no transition": legal here.
	case errors.As(err, &invalid), errors.As(err, &unknown):
		return from, from, m.illegal(from, e)
	default:
		return from, m.State(), fmt.Errorf("fsm: %s machine: event %s in state %s: %w", m.op, e, from, err)
	}
	to = m.State()
	if to != want {
		return from, to, fmt.Errorf("fsm: %s machine: event %s from %s reached %s, want %s", m.op, e, from, to, want)
	}
	return from, to, nil
}

func (m *Machine) illegal(s State, e Event) error {
	return fmt.Errorf("%w: %s machine: event %q in state %q", ErrIllegal, m.op, e, s)
}

// States returns the states op's machine uses, in AllStates order; nil for an
// operation without a machine.
func States(op paytree.Operation) []State {
	rows := Transitions(op)
	if rows == nil {
		return nil
	}
	used := make(map[State]bool)
	for _, r := range rows {
		for _, s := range r.Src {
			used[s] = true
		}
		used[r.Dst] = true
	}
	var out []State
	for _, s := range AllStates() {
		if used[s] {
			out = append(out, s)
		}
	}
	return out
}

// Terminal returns the terminal states of op's machine, in AllStates order.
func Terminal(op paytree.Operation) []State {
	var out []State
	for _, s := range States(op) {
		if s.Terminal() {
			out = append(out, s)
		}
	}
	return out
}

// Mermaid returns op's machine as a Mermaid stateDiagram-v2: the start arrow
// into StateNew, one line per (src, event, dst) ordered by source state (in
// AllStates order) then table row, and an arrow to [*] from each terminal
// state. The output is deterministic; empty for an operation without a machine.
func Mermaid(op paytree.Operation) string {
	rows := Transitions(op)
	if rows == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s\n", StateNew)
	for _, src := range States(op) {
		for _, r := range rows {
			if contains(r.Src, src) {
				fmt.Fprintf(&b, "    %s --> %s: %s\n", src, r.Dst, r.Event)
			}
		}
	}
	for _, s := range Terminal(op) {
		fmt.Fprintf(&b, "    %s --> [*]\n", s)
	}
	return b.String()
}

func contains(list []State, s State) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
