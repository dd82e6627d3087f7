package config

import (
	"strconv"
	"strings"
)

// Level is a log level of library spec 2.5. A message is written when its
// level is at most the configured one (lower values are more important).
type Level int

// Log levels, by the spec's value and name.
const (
	LevelBasic       Level = 0 // start, stop and other basic facts
	LevelError       Level = 1 // errors, the program's and the gateway's
	LevelWarning     Level = 2 // data problems that do not stop execution
	LevelSequence    Level = 3 // each request and its answer (recommended)
	LevelTransaction Level = 4 // every exchange with the gateway
)

var levelNames = [...]string{"Basic", "Error", "Warning", "Sequence", "Transaction"}

// Valid reports whether l is one of the five levels.
func (l Level) Valid() bool { return l >= 0 && int(l) < len(levelNames) }

// String returns the spec's name of l ("Sequence"), or "Level(n)".
func (l Level) String() string {
	if !l.Valid() {
		return "Level(" + strconv.Itoa(int(l)) + ")"
	}
	return levelNames[l]
}

// ParseLevel reads a level by value ("3") or by name, case-insensitively
// ("Sequence", "sequence").
func ParseLevel(s string) (Level, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 1 && s[0] >= '0' && s[0] <= '4' {
		return Level(s[0] - '0'), true
	}
	for i, n := range levelNames {
		if strings.EqualFold(n, s) {
			return Level(i), true
		}
	}
	return LevelBasic, false
}
