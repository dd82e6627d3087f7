package recovery

import "errors"

// ErrCannotResume is returned by PlanFor for a transaction whose operation
// and state no sequence resumes from.
var ErrCannotResume = errors.New("recovery: cannot resume transaction")
