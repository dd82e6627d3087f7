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

// Codes of the local API that the engine's catalog may not hold (wire
// contract section 8): they are added here so the error object is complete
// whatever the catalog version.
var localCodes = map[string]paytree.ErrorDef{
	"L0010": {Code: "L0010", Type: paytree.TypeLibrary, Action: paytree.VendorCall, Message: "local API: Idempotency-Key reused with another request"},
	"L0011": {Code: "L0011", Type: paytree.TypeLibrary, Action: paytree.VendorCall, Message: "local API: missing or wrong token, or a request not from this host"},
	"L0012": {Code: "L0012", Type: paytree.TypeLibrary, Action: paytree.CPSCall, Message: "an earlier refund or reverse of this order is unfinished or escalated: its outcome must be known first"},
}

// Codes used by the API itself.
const (
	codeBadField  = paytree.L0003
	codeBusy      = paytree.L0004
	codeClosed    = paytree.L0005
	codeJournal   = paytree.L0007
	codeNoWaiting = paytree.L0008
	codeIdemConf  = "L0010"
	codeAuth      = "L0011"
)

// errorBody is the JSON error object of local-api.md section 2.
type errorBody struct {
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
	body   errorBody
}

func (e *apiError) Error() string { return e.body.Code + ": " + e.body.Message }

// lookup returns the catalog row of code (the API's own rows included).
func lookup(code string) paytree.ErrorDef {
	if def, ok := paytree.LookupError(code); ok {
		return def
	}
	if def, ok := localCodes[code]; ok {
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
	return &apiError{status: status, body: errorBody{Type: int(def.Type), Code: code, Message: msg, Action: def.Action.String()}}
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
	case codeNoWaiting, codeIdemConf, "L0012":
		status = http.StatusConflict
	case codeClosed:
		status = http.StatusServiceUnavailable
	}
	e := &apiError{status: status, body: errorBody{Type: int(we.Type), Code: we.Code, SubCode: we.SubCode, Message: we.Message, Action: we.Action.String()}}
	if we.Code == codeBadField {
		e.body.Field = engineField(we.Message)
	}
	return e
}
