// Package recovery finds, after a crash or a power loss, every transaction
// the journal holds in a non-terminal state, and runs the loop that resumes
// them, waiting for the gateway while it cannot be reached (contract
// section 7). It reads only the journal's index of unfinished transactions,
// never the whole history, and it sends nothing itself: Loop.Resume is the
// engine's one sequence driver, entered with the verdict restarted, so new
// requests and recovery share the same code and the same decision table
// (fsm.Decide; PlanFor reads the row a restart takes, for reports).
//
// Where each transaction resumes (the rows "restart | restarted" of
// docs/state-diagrams/):
//
//	pay/deposit  sending                 → journal "lost", confirm; still unknown or E3001 → reverse by targetRequestId
//	pay/deposit  unknown, confirming     → confirm; still unknown → reverse
//	pay/deposit  reversing               → resend the same reverse (same requestId), confirm it; never achieved → escalated
//	pay          waiting                 → poll with confirms until PAID or a refusal; reverse once
//	                                       PayConfirmPollingTimeout has passed since the WAITING answer
//	refund/reverse sending, resending    → journal "lost", then as unknown
//	refund/reverse unknown, confirming   → confirm; E3001/unknown → resend with the same requestId; never settled → escalated
//
// A transaction is never resent with a new requestId, so recovery can
// neither double-charge nor double-refund.
//
// An unreachable gateway is no outcome: a transaction that meets one is
// left where the journal has it. Loop.Run then waits (Gateway.Wait: RetryMin,
// doubling up to RetryMax, on the engine's clock), checks that the gateway
// accepts a connection before anything more is journaled, and resumes what
// is still unfinished, until nothing waits, the engine closes or
// Gateway.Patience runs out. The engine's resumer for a live request that
// parked uses the same Gateway.Wait and Loop. The engine passes its clock,
// probe, logger and driver in as values and functions: this package never
// imports the engine.
package recovery
