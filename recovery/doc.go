// Package recovery decides, for every transaction the journal holds in a
// non-terminal state, where its sequence resumes after a crash or a power
// loss (contract section 7). It reads only the journal's index of unfinished
// transactions, never the whole history, and it does not send anything
// itself: the engine's one sequence driver carries each Plan out, so new
// requests and recovery share the same code.
//
// The decisions:
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
package recovery
