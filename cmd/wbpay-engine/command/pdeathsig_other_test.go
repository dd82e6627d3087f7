//go:build !linux

package command

import "os/exec"

// setPdeathsig does nothing here (the end-to-end test skips without
// PostgreSQL, which pgserver only starts on Linux).
func setPdeathsig(*exec.Cmd) {}
