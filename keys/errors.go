package keys

import "errors"

// ErrKey is returned (wrapped, with the file and the reason) when a key file
// is missing, unreadable, not PEM, not RSA or shorter than MinBits. The
// engine reports it as L0002.
var ErrKey = errors.New("keys: unusable key")

// ErrSignature is returned by Verify when a signature is not valid base64 or
// does not match the message.
var ErrSignature = errors.New("keys: signature invalid")
