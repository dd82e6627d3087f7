package transport

import (
	"strconv"
	"time"

	"github.com/wbpay/wbpay/paytree"
)

// Outcome is what became of one Send.
type Outcome int

const (
	// Answered: HTTP 200, flat JSON, signature verified, requestId echo
	// matches. Result.Fields hold the gateway's answer (success or business
	// error).
	Answered Outcome = iota + 1
	// NotSent: the request provably never left the host (after bounded
	// retries); safe to report N0001 and to try again later.
	NotSent
	// Unknown: anything else. Money may have moved; the engine must confirm.
	Unknown
)

// String returns "answered", "not-sent" or "unknown".
func (o Outcome) String() string {
	switch o {
	case Answered:
		return "answered"
	case NotSent:
		return "not-sent"
	case Unknown:
		return "unknown"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result reports one Send.
type Result struct {
	Outcome    Outcome
	Fields     paytree.Fields // the verified answer (sign included) when Answered; nil otherwise
	HTTPStatus int            // 0 when no status was received
	Code       string         // for NotSent/Unknown: the contract §8 code (N0001…N0006; L0002/L0003 for a request that could not be built)
	Detail     string         // short human description for logs/journal: "timeout after 20s", "HTTP 500", …
	Err        error          // wraps one of the package's sentinel errors and the underlying cause; nil when Answered
	Duration   time.Duration  // from the start of Send to its end, on the injected clock
	Attempts   int            // HTTP attempts made (0 when nothing was attempted)
}
