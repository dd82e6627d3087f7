package config

import "github.com/wbpay/wbpay/logging"

// Level is a log level of library spec 2.5 (LogLevel), the logging
// package's own type: a message is written when its level is at most the
// configured one (lower values are more important).
type Level = logging.Level

// Log levels, by the spec's value and name.
const (
	LevelBasic       = logging.Basic       // start, stop and other basic facts
	LevelError       = logging.Error       // errors, the program's and the gateway's
	LevelWarning     = logging.Warning     // data problems that do not stop execution
	LevelSequence    = logging.Sequence    // each request and its answer (recommended)
	LevelTransaction = logging.Transaction // every exchange with the gateway
)

// ParseLevel reads a level by value ("3") or by name, case-insensitively
// ("Sequence", "sequence").
func ParseLevel(s string) (Level, bool) { return logging.ParseLevel(s) }
