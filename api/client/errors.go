package client

import (
	"errors"
	"fmt"
)

// ErrNoDaemon is returned by Discover when no live daemon serves the home
// (no serve.json, or the daemon it names does not answer).
var ErrNoDaemon = errors.New("client: no daemon serves this home")

// Error is an error answer of the API (local-api.md section 2).
type Error struct {
	Status  int    `json:"-"`
	Type    int    `json:"type"`
	Code    string `json:"code"`
	SubCode string `json:"subCode"`
	Message string `json:"message"`
	Action  string `json:"action"`
	Field   string `json:"field,omitempty"`
}

// Error returns "CODE: message (HTTP status)".
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}
