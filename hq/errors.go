package hq

import "errors"

var (
	// ErrSchema is returned by Migrate when the embedded migrations are
	// malformed or the database is newer than this build.
	ErrSchema = errors.New("hq: schema mismatch")

	// ErrNotFound is returned by the query functions' callers when nothing
	// matches (the CLI turns it into an exit code).
	ErrNotFound = errors.New("hq: nothing found")
)
