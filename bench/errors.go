package bench

import "errors"

var (
	// ErrNoRusage is returned by RunChild where the operating system does
	// not report a child's peak RSS (getrusage is Unix-only).
	ErrNoRusage = errors.New("bench: peak RSS of a child process is not available on this system")

	// ErrConfig is returned by Run when its Config cannot be run (no
	// directory, negative sizes).
	ErrConfig = errors.New("bench: invalid configuration")
)
