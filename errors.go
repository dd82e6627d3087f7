package wbpay

import (
	"errors"
	"fmt"

	"github.com/wbpay/wbpay/paytree"
)

// Error is every error the engine reports, as a return value or in an
// ErrorEvent: the library spec's WbCPSResponseError and WbPayException in one.
// Use errors.As to get it; decide on Type, Code and Action, never on Message.
type Error struct {
	Type    paytree.ErrorType // 2 network, 5 library, 6 post-process, 9 PAYTREE
	Code    string            // catalog code, e.g. "E2002", "L0003"
	SubCode string            // the processor's own code (errorSubCode), may be empty
	Message string            // what happened, naming the field, key or file at fault
	Action  paytree.Action    // whom to call: Retry, Customer, VendorCall, CPSCall
	Err     error             // the underlying cause, if any
}

// Error returns "CODE: message (action: X)".
func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Action != paytree.ActionNone {
		s += " (action: " + e.Action.String() + ")"
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so
// errors.Is(err, &wbpay.Error{Code: "L0004"}) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code != "" && t.Code == e.Code && t != e
}

// newError builds an *Error from the catalog row of code, with detail
// appended to the catalog message and cause wrapped.
func newError(code, detail string, cause error) *Error {
	def, ok := paytree.LookupError(code)
	if !ok {
		def = paytree.ErrorDef{Code: code, Type: paytree.TypePaytree, Action: paytree.VendorCall, Message: "unknown error code"}
	}
	msg := def.Message
	if detail != "" {
		msg += ": " + detail
	}
	return &Error{Type: def.Type, Code: code, Message: msg, Action: def.Action, Err: cause}
}

// errorf is newError with a formatted detail.
func errorf(code string, format string, args ...any) *Error {
	return newError(code, fmt.Sprintf(format, args...), nil)
}

// withAction returns a copy of e with action a.
func (e *Error) withAction(a paytree.Action) *Error {
	c := *e
	c.Action = a
	return &c
}

// withDetail returns a copy of e with detail added to its message.
func (e *Error) withDetail(detail string) *Error {
	c := *e
	c.Message += ": " + detail
	return &c
}

// asError returns err as an *Error, wrapping a foreign error under code.
func asError(err error, code string) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(code, err.Error(), err)
}
