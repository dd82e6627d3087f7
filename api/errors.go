package api

import (
	"errors"
	"net/http"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/paytree"
)

// Sentinel errors of the package.
var (
	// ErrNotLoopback is returned by Listen when the address is not a
	// loopback address (127.0.0.0/8, ::1 or localhost).
	ErrNotLoopback = errors.New("api: listen address is not loopback")
	// ErrBadToken is returned by LoadOrCreateToken when serve.token is not
	// 64 hex digits.
	ErrBadToken = errors.New("api: serve.token is not 64 hex digits")
	// ErrNoDaemon is returned by ReadServeFile when the home has no
	// serve.json (no daemon runs, or it stopped cleanly).
	ErrNoDaemon = errors.New("api: no serve.json in the home")
	// ErrBadServeFile is returned by ReadServeFile when serve.json cannot
	// be parsed.
	ErrBadServeFile = errors.New("api: serve.json is not valid")
)

// Codes used by the API itself.
const (
	codeBadField  = paytree.L0003
	codeBusy      = paytree.L0004
	codeClosed    = paytree.L0005
	codeJournal   = paytree.L0007
	codeNoWaiting = paytree.L0008
	codeIdemConf  = paytree.L0010
	codeAuth      = paytree.L0011
)

// ErrorObject is the JSON error object of local-api.md section 2.
type ErrorObject struct {
	Type    int    `json:"type"`
	Code    string `json:"code"`
	SubCode string `json:"subCode"`
	Message string `json:"message"`
	Action  string `json:"action"`
	Field   string `json:"field,omitempty"`
}

// apiError is an error answer: its status and its object.
type apiError struct {
	status int
	body   ErrorObject
}

func (e *apiError) Error() string { return e.body.Code + ": " + e.body.Message }

// lookup returns the catalog row of code.
func lookup(code string) paytree.ErrorDef {
	if def, ok := paytree.LookupError(code); ok {
		return def
	}
	return paytree.ErrorDef{Code: code, Type: paytree.TypeLibrary, Action: paytree.VendorCall, Message: "unknown error"}
}

// newAPIError builds an answer with code's catalog row and detail appended
// to its message.
func newAPIError(status int, code, detail string) *apiError {
	def := lookup(code)
	msg := def.Message
	if detail != "" {
		msg += ": " + detail
	}
	return &apiError{status: status, body: ErrorObject{Type: int(def.Type), Code: code, Message: msg, Action: def.Action.String()}}
}

// badField is a 400 L0003 naming field.
func badField(field, detail string) *apiError {
	e := newAPIError(http.StatusBadRequest, codeBadField, detail)
	e.body.Field = field
	return e
}

// fromEngine maps an *wbpay.Error returned by a request method to its
// answer: 400 L0003, 409 L0004/L0008/L0010/L0012, 503 L0005 (or L0004
// while recovery runs), 500 otherwise.
func fromEngine(err error, recovering bool) *apiError {
	var we *wbpay.Error
	if !errors.As(err, &we) {
		return newAPIError(http.StatusInternalServerError, codeJournal, err.Error())
	}
	status := http.StatusInternalServerError
	switch we.Code {
	case codeBadField:
		status = http.StatusBadRequest
	case codeBusy:
		status = http.StatusConflict
		if recovering {
			status = http.StatusServiceUnavailable
		}
	case codeNoWaiting, codeIdemConf, paytree.L0012:
		status = http.StatusConflict
	case codeClosed:
		status = http.StatusServiceUnavailable
	}
	e := &apiError{status: status, body: ErrorObject{Type: int(we.Type), Code: we.Code, SubCode: we.SubCode, Message: we.Message, Action: we.Action.String()}}
	if we.Code == codeBadField {
		e.body.Field = engineField(we.Message)
	}
	return e
}
