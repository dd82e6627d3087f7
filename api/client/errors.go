package client

import (
	"errors"
	"fmt"

	"github.com/wbpay/wbpay/api"
)

// ErrNoDaemon is returned by Discover when no live daemon serves the home
// (no serve.json, or the daemon it names does not answer).
var ErrNoDaemon = errors.New("client: no daemon serves this home")

// Error is an error answer of the API (local-api.md section 2).
type Error struct {
	Status int `json:"-"`
	ErrorObject
}

// ErrorObject is the error object of local-api.md section 2 (in error
// answers, transactions and events), as the daemon writes it.
type ErrorObject = api.ErrorObject

// Error returns "CODE: message (HTTP status)".
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}
