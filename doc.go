// Package wbpay is a crash-safe payment engine for the PAYTREE QR-code
// payment gateway: the library spec's WbCPSPay as a Go Engine.
//
// A POS opens one Engine per home directory, registers its CompleteEvent and
// ErrorEvent handlers, and calls Pay, Refund, Reverse or Deposit; each
// returns at once and the outcome arrives as events, exactly as in the
// library spec. PaySync and friends run the same sequence and wait for it.
//
//	eng, err := wbpay.Open(ctx, wbpay.WithHome(dir))
//	defer eng.Close()
//	eng.OnComplete(func(c wbpay.Completion) { … })
//	eng.OnError(func(f wbpay.Failure) { … })
//	err = eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: code})
//
// What survives a crash: every transaction is a state machine (package fsm)
// whose every transition is committed to the journal (package journal, one
// bbolt file, fsync'd) before the request that the new state stands for
// leaves the host. A request that cannot be journaled is not sent (L0007).
// One driver follows every transaction (sequence.go): a loop that journals
// a decision, sends the next request, classifies the answer
// (paytree.ClassifyAnswer and friends) and asks the decision table of
// contract section 7 what comes next (fsm.Decide; drawn, per operation, in
// docs/state-diagrams/). On Open, every transaction the journal holds in a
// non-terminal state is resumed in the background by the same loop,
// entered with the verdict "restarted" (package recovery finds them and
// waits for an unreachable gateway): an unknown pay is confirmed
// and, if still unknown, reversed; a refund is confirmed and resent with the
// same requestId; nothing is ever resent with a new requestId. A gateway
// that cannot be reached at all is no outcome: recovery keeps such a
// transaction where it is, waits until the gateway accepts connections
// again and goes on (WithRecoveryPatience bounds the wait). Until recovery
// has finished, request methods return L0004; WaitRecovered waits.
//
// Errors are *Error values (Type, Code, SubCode, Message, Action) from the
// wire contract's catalog (package paytree); use errors.As.
//
// Test mode (AppTestMode = yes) sends every request to an in-process
// simulator through an http.RoundTripper: the same signing, journal and
// sequence code as production.
package wbpay
