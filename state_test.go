package wbpay_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
)

// TestStatesReexported: the root package names every state of fsm, so a
// caller never needs fsm for Result.State.
func TestStatesReexported(t *testing.T) {
	root := []wbpay.State{wbpay.StateNew, wbpay.StateSending, wbpay.StateUnknown, wbpay.StateConfirming, wbpay.StateWaiting,
		wbpay.StateResending, wbpay.StateReversing, wbpay.StatePaid, wbpay.StateDeposited, wbpay.StateRefunded,
		wbpay.StateReversed, wbpay.StateFailed, wbpay.StateEscalated, wbpay.StateResolved, wbpay.StateClosed}
	assert.Equal(t, fsm.AllStates(), root, "one root constant per fsm state, in diagram order")
	assert.Equal(t, fsm.AllStates(), wbpay.AllStates())
}
