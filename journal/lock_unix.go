//go:build unix

package journal

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes a shared flock on f, without waiting: it fails with
// ErrLocked while an engine (bbolt's exclusive flock) holds the journal,
// and keeps one from opening it meanwhile.
func lockFile(f *os.File) (unlock func(), err error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if err == syscall.EWOULDBLOCK {
			return nil, fmt.Errorf("%w (stop the engine first)", ErrLocked)
		}
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
