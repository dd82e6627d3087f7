package fsm

import "errors"

// ErrIllegal is returned (wrapped, naming the operation, state and event) by
// Machine.Fire and Machine.Next when the event is not allowed in the current
// state of the machine.
var ErrIllegal = errors.New("fsm: illegal transition")

// ErrNoMachine is returned (wrapped) by New when the operation has no machine
// (confirm, or an unknown operation) or the state is not one of its machine's.
var ErrNoMachine = errors.New("fsm: no such machine or state")

// ErrNoDecision is returned (wrapped, naming the inputs) by Decide for an
// input the decision table has no row for: no sequence reaches it.
var ErrNoDecision = errors.New("fsm: no decision for this verdict")
