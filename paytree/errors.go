package paytree

import "errors"

// ErrMalformed is returned by Decode and Encode when a body or a field map is
// not one flat JSON object of string values with [A-Za-z0-9] names.
var ErrMalformed = errors.New("paytree: malformed message")
