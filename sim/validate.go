package sim

import (
	"github.com/wbpay/wbpay/paytree"
)

// The field rules are paytree's tables (contract sections 3 and 4); the
// simulator only turns a refusal into the text of its E1001.

// fieldError is an E1001 refusal naming the field at fault.
type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return "invalid " + e.field + ": " + e.problem }

func refusal(fe *paytree.FieldError) *fieldError {
	if fe == nil {
		return nil
	}
	return &fieldError{field: fe.Field, problem: fe.Problem}
}

// commonRule returns paytree's section 3 rule of field.
func commonRule(field string) paytree.Rule {
	r, _ := paytree.CommonRule(field)
	return r
}

// validKey reports whether f carries a usable idempotency key.
func validKey(f paytree.Fields) bool {
	return commonRule(paytree.FTerminalUniqueID).Check(f[paytree.FTerminalUniqueID]) == nil &&
		paytree.ValidRequestID(f[paytree.FRequestID])
}

// validateCommon checks the fields every request carries (contract section
// 3), in a fixed order so the first fault is always the one named.
func validateCommon(f paytree.Fields) *fieldError {
	return refusal(paytree.CheckRules(paytree.CommonRules(), f))
}

// validateOp checks the operation's own fields (contract section 4).
func validateOp(rt route, f paytree.Fields) *fieldError {
	t, ok := paytree.RequestTable(rt.op, rt.v1)
	if !ok {
		return nil
	}
	return refusal(t.Check(f))
}
