//go:build crashpoints && unix

package crashpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// EnvCrashAt names the point at which a crashpoints build kills itself:
// "NAME" for the first hit, "NAME#N" for the N-th hit.
const EnvCrashAt = "WBPAY_CRASH_AT"

// EnvTrace, when set to a file path, makes a crashpoints build append the
// name of every point it passes to that file (one per line), so the crash
// matrix can list the points a scenario passes.
const EnvTrace = "WBPAY_CRASH_TRACE"

func init() {
	at := os.Getenv(EnvCrashAt)
	trace := os.Getenv(EnvTrace)
	if at == "" && trace == "" {
		return
	}
	name, nth := at, int64(1)
	if i := strings.LastIndexByte(at, '#'); i >= 0 {
		if n, err := strconv.ParseInt(at[i+1:], 10, 64); err == nil && n > 0 {
			name, nth = at[:i], n
		}
	}
	var hits atomic.Int64
	Set(func(p string) error {
		if trace != "" {
			if f, err := os.OpenFile(trace, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintln(f, p)
				_ = f.Sync()
				_ = f.Close()
			}
		}
		if p == name && hits.Add(1) == nth {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns
		}
		return nil
	})
}
