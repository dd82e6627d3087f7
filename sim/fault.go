package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/wbpay/wbpay/paytree"
)

// FaultKind names one fault of contract section 10.
type FaultKind string

// Faults the simulator injects. "Processed" means the request took effect
// and is recorded (a resend with the same requestId gets the stored answer);
// "not processed" means nothing happened and nothing is recorded.
const (
	FaultLost        FaultKind = "lost"         // processed, then the connection is closed without an answer
	FaultHold        FaultKind = "hold"         // processed, then the answer is held until the client gives up (or Delay passes, then lost)
	FaultDelayBefore FaultKind = "delay-before" // wait Delay before processing (a client that gives up meanwhile leaves it unprocessed)
	FaultDelayAfter  FaultKind = "delay-after"  // process, then wait Delay before answering
	Fault500Before   FaultKind = "500-before"   // HTTP 500, nothing processed (not recorded: a resend is processed afresh)
	Fault500After    FaultKind = "500-after"    // processed, then HTTP 500
	FaultBadSign     FaultKind = "bad-sign"     // processed, the answer's signature corrupted
	FaultE9001       FaultKind = "e9001"        // processed, answer E9001
	FaultE9002       FaultKind = "e9002"        // not processed, answer E9002 (not recorded)
	FaultExtraField  FaultKind = "extra-field"  // processed, the answer carries an extra unknown signed field with UTF-8, &, =, % in its value
	FaultProcessing  FaultKind = "processing"   // pay/deposit answers transStatus 3; confirms answer 3 until Settle has passed, then PAID/DEPOSITED (or FAILED, E2006, with SettleFail)
)

// faultKinds lists every kind in documentation order.
var faultKinds = []FaultKind{
	FaultLost, FaultHold, FaultDelayBefore, FaultDelayAfter, Fault500Before, Fault500After,
	FaultBadSign, FaultE9001, FaultE9002, FaultExtraField, FaultProcessing,
}

// Fault is one fault rule. It matches requests of Op (0 = every operation)
// and fires with Probability, at most Count times; Probability 0 with
// Count > 0 means "the next Count matching requests", and both 0 means
// "every matching request". Rules are tried in order; a request gets at most
// one of lost, hold, 500-after and e9001, and at most one of 500-before and
// e9002, while delays, bad-sign, extra-field and processing combine.
type Fault struct {
	Kind        FaultKind
	Op          paytree.Operation // 0 = every operation (pay, refund, reverse, deposit, confirm)
	Probability float64           // 0 with Count>0 means "the next Count matching requests"
	Count       int               // max times it fires (0 = unlimited)
	Delay       time.Duration     // for delay-*: the wait; for hold: the longest hold (0 = until the client gives up)
	Settle      time.Duration     // for processing: how long confirms keep answering 3
	SettleFail  bool              // for processing: settle as FAILED (E2006) instead of PAID
}

// String writes f in the ParseFaults syntax.
func (f Fault) String() string {
	op := "any"
	if f.Op != 0 {
		op = f.Op.String()
	}
	parts := []string{string(f.Kind), op}
	if f.Probability > 0 {
		parts = append(parts, "p="+strconv.FormatFloat(f.Probability, 'g', -1, 64))
	}
	if f.Count > 0 {
		parts = append(parts, "count="+strconv.Itoa(f.Count))
	}
	if f.Delay > 0 {
		parts = append(parts, "delay="+f.Delay.String())
	}
	if f.Settle > 0 {
		parts = append(parts, "settle="+f.Settle.String())
	}
	if f.SettleFail {
		parts = append(parts, "fail")
	}
	return strings.Join(parts, ":")
}

// validate reports what is wrong with f.
func (f Fault) validate() error {
	known := false
	for _, k := range faultKinds {
		known = known || k == f.Kind
	}
	switch {
	case !known:
		return fmt.Errorf("unknown kind %q (want one of %s)", f.Kind, kindList())
	case f.Op < 0 || f.Op > paytree.OpDeposit:
		return fmt.Errorf("unknown operation %d", int(f.Op))
	case f.Probability < 0 || f.Probability > 1 || f.Probability != f.Probability:
		return fmt.Errorf("probability %v is not within 0..1", f.Probability)
	case f.Count < 0:
		return fmt.Errorf("count %d is negative", f.Count)
	case f.Delay < 0:
		return fmt.Errorf("delay %v is negative", f.Delay)
	case f.Settle < 0:
		return fmt.Errorf("settle %v is negative", f.Settle)
	case (f.Kind == FaultDelayBefore || f.Kind == FaultDelayAfter) && f.Delay == 0:
		return fmt.Errorf("%s needs a delay", f.Kind)
	case f.Delay > 0 && f.Kind != FaultDelayBefore && f.Kind != FaultDelayAfter && f.Kind != FaultHold:
		return fmt.Errorf("delay applies to delay-before, delay-after and hold only, not %s", f.Kind)
	case f.Kind == FaultProcessing && f.Op != 0 && f.Op != paytree.OpPay && f.Op != paytree.OpDeposit:
		return fmt.Errorf("processing applies to pay and deposit only, not %s", f.Op)
	case (f.Settle > 0 || f.SettleFail) && f.Kind != FaultProcessing:
		return fmt.Errorf("settle and fail apply to processing only, not %s", f.Kind)
	}
	return nil
}

func kindList() string {
	s := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// FaultSyntax documents the ParseFaults syntax, for --help texts.
const FaultSyntax = `A fault spec is a comma-separated list of KIND:OP[:OPTION...]
  KIND    lost, hold, delay-before, delay-after, 500-before, 500-after,
          bad-sign, e9001, e9002, extra-field, processing
  OP      pay, refund, reverse, deposit, confirm, or any
  OPTION  p=FLOAT      fire with this probability (0 < p <= 1)
          count=N      fire at most N times (alone: the next N matching requests)
          delay=DUR    delay-before/delay-after: the wait (required);
                       hold: the longest hold, then the answer is lost
          settle=DUR   processing: confirms answer 3 for this long (default 0)
          fail         processing: settle as FAILED (E2006) instead of PAID
  Without p and count a fault fires on every matching request.
  Example: lost:pay:count=1,500-after:refund:p=0.3,processing:pay:settle=5s:fail,delay-before:any:delay=2s`

// ParseFaults reads a fault spec (see FaultSyntax), e.g.
// "lost:pay:count=1,500-after:refund:p=0.3,processing:pay:settle=5s:fail".
// An empty spec gives no faults. Errors wrap ErrFaultSpec and name the item.
func ParseFaults(spec string) ([]Fault, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	var out []Fault
	for i, item := range strings.Split(spec, ",") {
		f, err := parseFault(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("%w: item %d %q: %v", ErrFaultSpec, i+1, strings.TrimSpace(item), err)
		}
		out = append(out, f)
	}
	return out, nil
}

func parseFault(item string) (Fault, error) {
	parts := strings.Split(item, ":")
	if len(parts) < 2 {
		return Fault{}, errors.New("want KIND:OP[:OPTION...]")
	}
	f := Fault{Kind: FaultKind(strings.ToLower(strings.TrimSpace(parts[0])))}
	switch op := strings.ToLower(strings.TrimSpace(parts[1])); op {
	case "any", "*", "all":
	default:
		o, ok := paytree.ParseOperation(op)
		if !ok {
			return Fault{}, fmt.Errorf("unknown operation %q (want pay, refund, reverse, deposit, confirm or any)", parts[1])
		}
		f.Op = o
	}
	seen := map[string]bool{}
	for _, opt := range parts[2:] {
		opt = strings.TrimSpace(opt)
		name, val, hasVal := strings.Cut(opt, "=")
		name = strings.ToLower(name)
		if seen[name] {
			return Fault{}, fmt.Errorf("option %q given twice", name)
		}
		seen[name] = true
		if name == "fail" {
			if hasVal {
				return Fault{}, errors.New("option fail takes no value")
			}
			f.SettleFail = true
			continue
		}
		if !hasVal || val == "" {
			return Fault{}, fmt.Errorf("option %q needs a value (name=value)", opt)
		}
		switch name {
		case "p":
			p, err := strconv.ParseFloat(val, 64)
			if err != nil || p <= 0 || p > 1 {
				return Fault{}, fmt.Errorf("p=%s is not a probability in (0, 1]", val)
			}
			f.Probability = p
		case "count":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return Fault{}, fmt.Errorf("count=%s is not a positive integer", val)
			}
			f.Count = n
		case "delay", "settle":
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return Fault{}, fmt.Errorf("%s=%s is not a positive duration like 2s or 500ms", name, val)
			}
			if name == "delay" {
				f.Delay = d
			} else {
				f.Settle = d
			}
		default:
			return Fault{}, fmt.Errorf("unknown option %q (want p, count, delay, settle or fail)", name)
		}
	}
	if err := f.validate(); err != nil {
		return Fault{}, err
	}
	return f, nil
}

// faultState is a Fault with its firing count.
type faultState struct {
	Fault
	fired int
}

// fire decides whether the rule fires now, consuming rng only when a
// probability must be drawn.
func (fs *faultState) fire(rng *rand.Rand) bool {
	if fs.Count > 0 && fs.fired >= fs.Count {
		return false
	}
	if fs.Probability > 0 && rng.Float64() >= fs.Probability {
		return false
	}
	fs.fired++
	return true
}

// phase groups the kinds by when they act.
type phase int

const (
	phaseBefore phase = iota // before processing: 500-before, e9002, delay-before
	phaseDuring              // while processing a pay/deposit: processing
	phaseAfter               // after processing: lost, hold, 500-after, e9001, bad-sign, extra-field, delay-after
)

func (k FaultKind) phase() phase {
	switch k {
	case Fault500Before, FaultE9002, FaultDelayBefore:
		return phaseBefore
	case FaultProcessing:
		return phaseDuring
	}
	return phaseAfter
}

// exclusive kinds replace the answer; a request gets at most one per phase.
func (k FaultKind) exclusive() bool {
	switch k {
	case Fault500Before, FaultE9002, FaultLost, FaultHold, Fault500After, FaultE9001:
		return true
	}
	return false
}

// plan is what the fired faults of one phase ask for.
type plan struct {
	answer     *Fault        // the exclusive fault that fired, if any
	delay      time.Duration // delay-before or delay-after, summed
	badSign    bool
	extraField bool
	processing *Fault
	fired      []string // for the log
}

// pick evaluates the rules of phase ph for op. The caller holds s.mu.
func (s *Sim) pick(op paytree.Operation, ph phase) plan {
	var p plan
	for _, fs := range s.faults {
		if fs.Kind.phase() != ph || (fs.Op != 0 && fs.Op != op) {
			continue
		}
		if fs.Kind.exclusive() && p.answer != nil {
			continue
		}
		if fs.Kind == FaultProcessing && p.processing != nil {
			continue
		}
		if !fs.fire(s.rng) {
			continue
		}
		f := fs.Fault
		p.fired = append(p.fired, string(f.Kind))
		switch {
		case f.Kind.exclusive():
			p.answer = &f
		case f.Kind == FaultDelayBefore || f.Kind == FaultDelayAfter:
			p.delay += f.Delay
		case f.Kind == FaultBadSign:
			p.badSign = true
		case f.Kind == FaultExtraField:
			p.extraField = true
		case f.Kind == FaultProcessing:
			p.processing = &f
		}
	}
	return p
}
