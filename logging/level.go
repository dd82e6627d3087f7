package logging

import (
	"strconv"
	"strings"

	"go.uber.org/zap/zapcore"
)

// Level is the library spec's log level (section 2.5). A message is written
// when its level is less than or equal to the configured one.
type Level int

// The five levels of the library spec.
const (
	Basic       Level = 0 // start, stop and other basic facts of a run
	Error       Level = 1 // program errors and error responses of the gateway
	Warning     Level = 2 // data problems that do not stop the run
	Sequence    Level = 3 // each request method's request and response
	Transaction Level = 4 // every exchange with the gateway
)

// DefaultLevel is the level used when the configuration names none (LogLevel).
const DefaultLevel = Error

var levelNames = [...]string{"Basic", "Error", "Warning", "Sequence", "Transaction"}

// Valid reports whether l is one of the five levels.
func (l Level) Valid() bool { return l >= Basic && l <= Transaction }

// String returns the level's name ("Sequence"), or "Level(n)" for a value
// outside 0–4.
func (l Level) String() string {
	if !l.Valid() {
		return "Level(" + strconv.Itoa(int(l)) + ")"
	}
	return levelNames[l]
}

// ParseLevel reads a level given by value ("3") or by name, in any case
// ("Sequence", "sequence"); surrounding spaces are ignored. It reports false
// for anything else.
func ParseLevel(s string) (Level, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 1 && s[0] >= '0' && s[0] <= '9' { // by value: one digit, as the spec writes it
		l := Level(s[0] - '0')
		return l, l.Valid()
	}
	for i, name := range levelNames {
		if strings.EqualFold(s, name) {
			return Level(i), true
		}
	}
	return 0, false
}

// Mapping between the spec's levels and zap's. A *zap.Logger from Zap() keeps
// zap's meaning: Error and above → Error, Warn → Warning, Info → Sequence,
// Debug → Transaction. Basic has no zap counterpart and is carried as
// basicZap, which only the loggers returned by At(Basic) produce.
const basicZap = zapcore.DebugLevel - 1

func (l Level) zap() zapcore.Level {
	switch l {
	case Basic:
		return basicZap
	case Error:
		return zapcore.ErrorLevel
	case Warning:
		return zapcore.WarnLevel
	case Sequence:
		return zapcore.InfoLevel
	}
	return zapcore.DebugLevel
}

func fromZap(z zapcore.Level) Level {
	switch {
	case z == basicZap:
		return Basic
	case z >= zapcore.ErrorLevel:
		return Error
	case z == zapcore.WarnLevel:
		return Warning
	case z == zapcore.InfoLevel:
		return Sequence
	}
	return Transaction
}

// encodeLevel writes the spec's level name instead of zap's.
func encodeLevel(z zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(fromZap(z).String())
}
