package fsm

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wbpay/wbpay/paytree"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var machineOps = []paytree.Operation{paytree.OpPay, paytree.OpRefund, paytree.OpReverse, paytree.OpDeposit, paytree.OpClose}

// lookup reads op's table directly: the expected destination of e from s.
func lookup(op paytree.Operation, s State, e Event) (State, bool) {
	for _, r := range Transitions(op) {
		if r.Event != e {
			continue
		}
		for _, src := range r.Src {
			if src == s {
				return r.Dst, true
			}
		}
	}
	return "", false
}

func TestFireMatchesTable(t *testing.T) {
	for _, op := range machineOps {
		t.Run(op.String(), func(t *testing.T) {
			legal := 0
			for _, s := range States(op) {
				for _, e := range AllEvents() {
					want, ok := lookup(op, s, e)
					m, err := New(op, s)
					require.NoError(t, err)
					assert.Equal(t, ok, m.Can(e), "Can(%s) in %s", e, s)

					next, nerr := m.Next(e)
					from, to, ferr := m.Fire(e)
					assert.Equal(t, s, from, "from of %s in %s", e, s)
					if ok {
						legal++
						assert.NoError(t, nerr, "Next(%s) in %s", e, s)
						assert.NoError(t, ferr, "Fire(%s) in %s", e, s)
						assert.Equal(t, want, next, "Next(%s) in %s", e, s)
						assert.Equal(t, want, to, "Fire(%s) in %s", e, s)
						assert.Equal(t, want, m.State(), "State after %s in %s", e, s)
					} else {
						assert.ErrorIs(t, nerr, ErrIllegal, "Next(%s) in %s", e, s)
						assert.ErrorIs(t, ferr, ErrIllegal, "Fire(%s) in %s", e, s)
						assert.Equal(t, s, to, "to of illegal %s in %s", e, s)
						assert.Equal(t, s, m.State(), "illegal %s in %s moved the machine", e, s)
					}
				}
			}
			rows := 0
			for _, r := range Transitions(op) {
				rows += len(r.Src)
			}
			assert.Equal(t, rows, legal, "legal (state, event) pairs vs table rows")
		})
	}
}

func TestTableHasNoDuplicateEdges(t *testing.T) {
	for _, op := range machineOps {
		seen := map[string]bool{}
		for _, r := range Transitions(op) {
			for _, s := range r.Src {
				k := string(s) + "/" + string(r.Event)
				assert.False(t, seen[k], "%s: event %s from %s listed twice", op, r.Event, s)
				seen[k] = true
			}
		}
	}
}

// The driver never leaves a terminal state; the one way out is a person's
// record of what CPS said about an escalated transaction (resolve).
func TestTerminalStatesHaveNoOutgoingTransitions(t *testing.T) {
	for _, op := range machineOps {
		t.Run(op.String(), func(t *testing.T) {
			require.NotEmpty(t, Terminal(op))
			for _, s := range States(op) {
				out := 0
				for _, e := range AllEvents() {
					if _, ok := lookup(op, s, e); ok && e != EvResolve {
						out++
					}
				}
				if dst, ok := lookup(op, s, EvResolve); ok {
					assert.Equal(t, StateEscalated, s, "only an escalated transaction is resolved")
					assert.Equal(t, StateResolved, dst)
				}
				if s.Terminal() {
					assert.Zero(t, out, "terminal %s has outgoing transitions", s)
					assert.Contains(t, Terminal(op), s)
				} else {
					assert.NotZero(t, out, "non-terminal %s is a dead end", s)
					assert.NotContains(t, Terminal(op), s)
				}
			}
		})
	}
}

// Invariant 1 of architecture.md: from every state a terminal state is
// reachable, and every state is reachable from new.
func TestEveryStateReachesTerminal(t *testing.T) {
	for _, op := range machineOps {
		t.Run(op.String(), func(t *testing.T) {
			adj := map[State][]State{}
			for _, r := range Transitions(op) {
				for _, s := range r.Src {
					adj[s] = append(adj[s], r.Dst)
				}
			}
			reach := func(from State) map[State]bool {
				seen := map[State]bool{from: true}
				queue := []State{from}
				for len(queue) > 0 {
					s := queue[0]
					queue = queue[1:]
					for _, d := range adj[s] {
						if !seen[d] {
							seen[d] = true
							queue = append(queue, d)
						}
					}
				}
				return seen
			}
			fromNew := reach(StateNew)
			for _, s := range States(op) {
				assert.True(t, fromNew[s], "%s unreachable from new", s)
				found := false
				for r := range reach(s) {
					found = found || r.Terminal()
				}
				assert.True(t, found, "no terminal state reachable from %s", s)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name  string
		op    paytree.Operation
		state State
	}{
		{"unknown state", paytree.OpPay, State("bogus")},
		{"empty state", paytree.OpRefund, State("")},
		{"deposited in pay", paytree.OpPay, StateDeposited},
		{"paid in deposit", paytree.OpDeposit, StatePaid},
		{"waiting in deposit", paytree.OpDeposit, StateWaiting},
		{"resending in pay", paytree.OpPay, StateResending},
		{"reversing in refund", paytree.OpRefund, StateReversing},
		{"refunded in reverse", paytree.OpReverse, StateRefunded},
		{"confirm has no machine", paytree.OpConfirm, StateNew},
		{"unknown operation", paytree.Operation(99), StateNew},
		{"zero operation", paytree.Operation(0), StateNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.op, tt.state)
			assert.Nil(t, m)
			require.ErrorIs(t, err, ErrNoMachine)
			assert.True(t, strings.HasPrefix(err.Error(), "fsm: "), "got %q", err)
		})
	}
}

func TestSelfLoops(t *testing.T) {
	tests := []struct {
		op    paytree.Operation
		state State
		ev    Event
	}{
		{paytree.OpPay, StateConfirming, EvConfirm},
		{paytree.OpPay, StateReversing, EvReverse},
		{paytree.OpDeposit, StateConfirming, EvConfirm},
		{paytree.OpDeposit, StateReversing, EvReverse},
		{paytree.OpRefund, StateConfirming, EvConfirm},
		{paytree.OpReverse, StateConfirming, EvConfirm},
	}
	for _, tt := range tests {
		t.Run(tt.op.String()+"/"+tt.state.String(), func(t *testing.T) {
			m, err := New(tt.op, tt.state)
			require.NoError(t, err)
			for i := 0; i < 3; i++ { // repeatable
				require.True(t, m.Can(tt.ev))
				from, to, err := m.Fire(tt.ev)
				require.NoError(t, err)
				assert.Equal(t, tt.state, from)
				assert.Equal(t, tt.state, to)
			}
		})
	}
}

func TestIllegalErrorNamesOpStateEvent(t *testing.T) {
	m, err := New(paytree.OpRefund, StateRefunded)
	require.NoError(t, err)
	_, _, err = m.Fire(EvSend)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrIllegal))
	assert.Equal(t, `fsm: illegal transition: refund machine: event "send" in state "refunded"`, err.Error())

	// An event that exists in no row of this machine (looplab's UnknownEventError).
	_, _, err = m.Fire(EvWait)
	assert.ErrorIs(t, err, ErrIllegal)
	_, err = m.Next(Event("nonsense"))
	assert.ErrorIs(t, err, ErrIllegal)
	assert.Contains(t, err.Error(), "nonsense")
	assert.Equal(t, StateRefunded, m.State())
}

func TestSequences(t *testing.T) {
	tests := []struct {
		name   string
		op     paytree.Operation
		events []Event
		want   State
	}{
		{"pay paid", paytree.OpPay, []Event{EvSend, EvPaid}, StatePaid},
		{"pay lost then reversed", paytree.OpPay, []Event{EvSend, EvLost, EvConfirm, EvConfirm, EvReverse, EvReverse, EvReversed}, StateReversed},
		{"pay waiting polled then paid", paytree.OpPay, []Event{EvSend, EvWait, EvConfirm, EvWait, EvConfirm, EvPaid}, StatePaid},
		{"pay approval timeout", paytree.OpPay, []Event{EvSend, EvWait, EvReverse, EvEscalate}, StateEscalated},
		{"deposit lost then confirmed", paytree.OpDeposit, []Event{EvSend, EvLost, EvConfirm, EvDeposited}, StateDeposited},
		{"refund resent", paytree.OpRefund, []Event{EvSend, EvLost, EvConfirm, EvResend, EvDone}, StateRefunded},
		{"refund escalated", paytree.OpRefund, []Event{EvSend, EvLost, EvResend, EvLost, EvEscalate}, StateEscalated},
		{"reverse done", paytree.OpReverse, []Event{EvSend, EvDone}, StateReversed},
		{"reverse refused", paytree.OpReverse, []Event{EvSend, EvLost, EvConfirm, EvFail}, StateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.op, StateNew)
			require.NoError(t, err)
			assert.Equal(t, tt.op, m.Op())
			for _, e := range tt.events {
				prev := m.State()
				next, err := m.Next(e)
				require.NoError(t, err, "Next(%s) in %s", e, prev)
				from, to, err := m.Fire(e)
				require.NoError(t, err, "Fire(%s) in %s", e, prev)
				assert.Equal(t, prev, from)
				assert.Equal(t, next, to)
			}
			assert.Equal(t, tt.want, m.State())
			assert.True(t, m.State().Terminal())
		})
	}
}

func TestStatesAndTerminal(t *testing.T) {
	assert.Equal(t, []State{StateNew, StateSending, StateUnknown, StateConfirming, StateWaiting,
		StateReversing, StatePaid, StateReversed, StateFailed, StateEscalated, StateResolved}, States(paytree.OpPay))
	assert.Equal(t, []State{StatePaid, StateReversed, StateFailed, StateEscalated, StateResolved}, Terminal(paytree.OpPay))
	assert.Equal(t, []State{StateDeposited, StateReversed, StateFailed, StateEscalated, StateResolved}, Terminal(paytree.OpDeposit))
	assert.Equal(t, []State{StateRefunded, StateFailed, StateEscalated, StateResolved}, Terminal(paytree.OpRefund))
	assert.Equal(t, []State{StateReversed, StateFailed, StateEscalated, StateResolved}, Terminal(paytree.OpReverse))
	assert.Nil(t, States(paytree.OpConfirm))
	assert.Nil(t, Terminal(paytree.OpConfirm))
	for _, s := range AllStates() {
		used := false
		for _, op := range machineOps {
			used = used || contains(States(op), s)
		}
		assert.True(t, used, "state %s belongs to no machine", s)
	}
}

func TestMermaid(t *testing.T) {
	for _, op := range machineOps {
		t.Run(op.String(), func(t *testing.T) {
			got := Mermaid(op)
			assert.Equal(t, got, Mermaid(op), "not deterministic")
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			require.Equal(t, "stateDiagram-v2", lines[0])
			assert.Equal(t, "    [*] --> new", lines[1])
			set := map[string]bool{}
			for _, l := range lines[1:] {
				assert.False(t, set[l], "duplicate line %q", l)
				set[l] = true
			}
			rows := 0
			for _, r := range Transitions(op) {
				for _, s := range r.Src {
					rows++
					assert.True(t, set["    "+string(s)+" --> "+string(r.Dst)+": "+string(r.Event)], "missing %s -%s-> %s", s, r.Event, r.Dst)
				}
			}
			for _, s := range Terminal(op) {
				assert.True(t, set["    "+string(s)+" --> [*]"], "terminal %s not marked", s)
			}
			assert.Len(t, lines, 2+rows+len(Terminal(op)))
		})
	}
	assert.Empty(t, Mermaid(paytree.OpConfirm))
}
