package config

import (
	"errors"
	"strconv"
)

// ErrInvalid is wrapped by every error of Parse, Load and Validate: a missing
// or unreadable file, a malformed line, a bad value or a missing required
// key. The engine reports it as L0001.
var ErrInvalid = errors.New("config: invalid configuration")

// Error is one problem found in a configuration file. Its message names the
// file, the line (when known) and the key, e.g.
// `WbCPSPay.conf:7: MerchantId: must be exactly 12 digits, got "1234"`.
// It wraps ErrInvalid; use errors.As to list the problems of a joined error.
type Error struct {
	File    string // the name given to Parse, or the path given to Load
	Line    int    // 1-based; 0 when the problem has no line (a missing key)
	Key     string // "" for a line that could not be split into Key = Value
	Message string
}

// Error formats e as file:line: key: message.
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Key != "" {
		s += e.Key + ": "
	}
	return s + e.Message
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }
