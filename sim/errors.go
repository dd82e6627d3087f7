package sim

import "errors"

// ErrConfig is returned (wrapped, naming the field) by New when the Config
// is unusable: a missing key, a negative duration, a test class out of range,
// a bad path or a bad fault.
var ErrConfig = errors.New("sim: invalid config")

// ErrFaultSpec is returned (wrapped, naming the item) by ParseFaults when a
// fault specification cannot be read.
var ErrFaultSpec = errors.New("sim: invalid fault spec")

// ErrAnswerLost is returned by the RoundTripper when the simulator processed
// the request and then dropped the answer, as a closed connection would (the
// "lost" and "hold" faults, pay class 2, refund class 1). It wraps
// io.ErrUnexpectedEOF: the request was sent, its outcome is unknown.
var ErrAnswerLost = errors.New("sim: connection closed before the answer")

// ErrStore is returned (wrapped, naming the file) by New when Config.Store
// cannot be read, is not a simulator store (garbage, truncated, another
// version) or cannot be written. New never replaces such a file.
var ErrStore = errors.New("sim: store")
