package paytree

import "fmt"

// Verdict is what an answer of the gateway (or its absence) means for the
// sequence of contract section 7. The classifiers below give the verdict of
// an answer; the engine adds those without an answer (NotSent,
// Unreachable, Stopped) and those of its own (Spent, Timeout, Restarted).
// What the engine then does is the decision table of package fsm.
type Verdict int

// Verdicts, in the order the decision tables list them.
const (
	VerdictDone         Verdict = iota + 1 // PAID/DEPOSITED, or the refund/reverse succeeded
	VerdictWaiting                         // WAITING: the customer must approve
	VerdictFailed                          // refused, or FAILED/CANCELLED/EXPIRED/REVERSED: nothing moved
	VerdictNotProcessed                    // this very request was not processed (E9002 busy, E1002)
	VerdictUnknown                         // no trustworthy answer: E9001, PROCESSING, unreadable, lost
	VerdictNotFound                        // a confirm: the gateway never received the target (E3001)
	VerdictNotSent                         // provably never left the host (a code other than N0001: L0002, L0003, N0006)
	VerdictUnreachable                     // the gateway could not be reached at all (N0001): no answer
	VerdictStopped                         // N0001 because the engine is closing: the journal keeps the decision
	VerdictSpent                           // no answer: RequestConfirmNum confirms (or resends) are spent
	VerdictTimeout                         // no answer: PayConfirmPollingTimeout has passed since WAITING
	VerdictRestarted                       // no answer: the engine restarted with the transaction unfinished
)

// AllVerdicts lists every verdict, in declaration order.
func AllVerdicts() []Verdict {
	return []Verdict{VerdictDone, VerdictWaiting, VerdictFailed, VerdictNotProcessed, VerdictUnknown, VerdictNotFound,
		VerdictNotSent, VerdictUnreachable, VerdictStopped, VerdictSpent, VerdictTimeout, VerdictRestarted}
}

var verdictNames = map[Verdict]string{
	VerdictDone: "done", VerdictWaiting: "waiting", VerdictFailed: "failed", VerdictNotProcessed: "not-processed",
	VerdictUnknown: "unknown", VerdictNotFound: "not-found", VerdictNotSent: "not-sent", VerdictUnreachable: "unreachable",
	VerdictStopped: "stopped", VerdictSpent: "spent", VerdictTimeout: "timeout", VerdictRestarted: "restarted",
}

var verdictDocs = map[Verdict]string{
	VerdictDone:         "PAID/DEPOSITED, or the refund/reverse succeeded",
	VerdictWaiting:      "WAITING: the customer must approve",
	VerdictFailed:       "refused, or FAILED/CANCELLED/EXPIRED/REVERSED: nothing moved",
	VerdictNotProcessed: "this very request was not processed (E9002 busy, E1002)",
	VerdictUnknown:      "no trustworthy answer: E9001, PROCESSING, an unreadable or lost answer, HTTP 500",
	VerdictNotFound:     "confirm: the gateway never received the target (E3001)",
	VerdictNotSent:      "provably never left the host, and a retry won't fix it (N0006, L0002, L0003)",
	VerdictUnreachable:  "the gateway could not be reached at all (N0001): no answer",
	VerdictStopped:      "N0001 because the engine is closing",
	VerdictSpent:        "no answer: RequestConfirmNum confirms (or resends) are spent",
	VerdictTimeout:      "no answer: PayConfirmPollingTimeout has passed since the WAITING answer",
	VerdictRestarted:    "no answer: the engine restarted with the transaction unfinished",
}

// Describe says in a few words what v means.
func (v Verdict) Describe() string { return verdictDocs[v] }

// String names v as the decision tables do.
func (v Verdict) String() string {
	if s, ok := verdictNames[v]; ok {
		return s
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Reason says which catalog error an answer's verdict reports: Code is the
// catalog code ("" = none), Detail is added to its catalog message, Gateway
// is the gateway's own errorMessage (added when it differs), and Message,
// when set, replaces the whole message.
type Reason struct {
	Code, SubCode, Detail, Gateway, Message string
}

// Judgement is the classification of one answer.
type Judgement struct {
	Verdict Verdict
	Reason  Reason
	// Keep: the answer tells how the order stands (orderId, transStatus,
	// payType, amount, transTime, refundedTotal): the engine keeps it.
	Keep bool
}

func judged(v Verdict, r Reason) Judgement { return Judgement{Verdict: v, Reason: r} }

// fromGateway is the reason of an answer refused with resultCode code.
func fromGateway(code string, f Fields) Reason {
	return Reason{Code: code, SubCode: f[FErrorSubCode], Gateway: f[FErrorMessage]}
}

// ClassifyAnswer classifies the answer to the transaction's own request of
// operation op (its first send, or a resend with the same requestId).
func ClassifyAnswer(op Operation, f Fields) Judgement {
	switch code := f[FResultCode]; code {
	case CodeOK:
	case E9001:
		return judged(VerdictUnknown, fromGateway(code, f))
	case E9002, E1002:
		return judged(VerdictNotProcessed, fromGateway(code, f))
	default:
		return judged(VerdictFailed, fromGateway(code, f))
	}
	return processed(op, f)
}

// ClassifyConfirm classifies the answer to a confirm of the transaction's
// own request of operation op.
func ClassifyConfirm(op Operation, f Fields) Judgement {
	switch code := f[FResultCode]; code {
	case CodeOK:
	case E3001:
		return judged(VerdictNotFound, fromGateway(code, f))
	default: // the confirm itself was not served: ask again
		return judged(VerdictUnknown, fromGateway(code, f))
	}
	switch tc := f[FTargetResultCode]; tc {
	case CodeOK, "":
	case E9001:
		if f[FTransStatus] == "" {
			return judged(VerdictUnknown, Reason{Code: tc})
		}
	default:
		// Keep how the order ended (CANCELLED, EXPIRED, FAILED), not the
		// WAITING before it.
		j := judged(VerdictFailed, Reason{Code: tc})
		j.Keep = f[FTransStatus] != ""
		return j
	}
	return processed(op, f)
}

// processed classifies an answer saying the request was processed: a pay
// or deposit by its order's transStatus, a refund or reverse as done.
func processed(op Operation, f Fields) Judgement {
	j := Judgement{Verdict: VerdictDone, Keep: true}
	if op != OpPay && op != OpDeposit {
		return j
	}
	st, ok := ParseTransStatus(f[FTransStatus])
	if !ok {
		j.Verdict, j.Reason = VerdictUnknown, Reason{Code: N0004, Detail: fmt.Sprintf("transStatus %q is not a status", f[FTransStatus])}
		return j
	}
	j.Verdict, j.Reason = StatusVerdict(op, st)
	return j
}

// StatusVerdict is the verdict of transStatus st for a pay or deposit.
func StatusVerdict(op Operation, st TransStatus) (Verdict, Reason) {
	switch st {
	case StatusPaid, StatusPartiallyRefunded, StatusRefunded:
		if op == OpPay {
			return VerdictDone, Reason{}
		}
	case StatusDeposited:
		if op == OpDeposit {
			return VerdictDone, Reason{}
		}
	case StatusWaiting:
		if op == OpPay {
			return VerdictWaiting, Reason{}
		}
	case StatusProcessing:
		// Not a time-out: the gateway answered, but the channel had not
		// settled the payment. Say so (the code keeps "outcome unknown").
		return VerdictUnknown, Reason{Code: N0002,
			Message: "outcome unknown: the gateway answered PROCESSING (transStatus 3): the channel had not settled it yet"}
	case StatusFailed:
		return VerdictFailed, Reason{Code: E2006, Detail: "transStatus FAILED"}
	case StatusCancelled:
		return VerdictFailed, Reason{Code: E2004, Detail: "transStatus CANCELLED"}
	case StatusExpired:
		return VerdictFailed, Reason{Code: E2005, Detail: "transStatus EXPIRED"}
	case StatusReversed:
		return VerdictFailed, Reason{Code: E3004, Detail: "transStatus REVERSED"}
	}
	return VerdictUnknown, Reason{Code: N0004, Detail: fmt.Sprintf("unexpected transStatus %q for a %s", st.Wire(), op)}
}

// ClassifyReverse classifies the answer to the reverse that undoes a pay
// or deposit (by targetRequestId).
func ClassifyReverse(f Fields) Verdict { return reverseCode(f[FResultCode]) }

// ClassifyReverseConfirm classifies the answer to a confirm of that reverse.
func ClassifyReverseConfirm(f Fields) Verdict {
	switch f[FResultCode] {
	case CodeOK:
		return reverseCode(f[FTargetResultCode])
	case E3001:
		return VerdictNotFound
	}
	return VerdictUnknown
}

func reverseCode(code string) Verdict {
	switch code {
	case CodeOK, "":
		return VerdictDone
	case E9001, E9002:
		return VerdictUnknown
	}
	return VerdictFailed
}
