package command

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the child die with the test binary.
func setPdeathsig(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
