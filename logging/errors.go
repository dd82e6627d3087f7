package logging

import "errors"

// ErrOptions is returned (wrapped, naming the field) by Open when Options has
// no Dir, a Level outside 0–4 or a negative Expire.
var ErrOptions = errors.New("logging: invalid options")

// ErrClosed is returned by writes to the log file after Logger.Close; zap
// reports it on its error output.
var ErrClosed = errors.New("logging: logger closed")
