//go:build !unix

package bench

import "os"

// peakRSS is not available here (no getrusage).
func peakRSS(*os.ProcessState) (int64, bool) { return 0, false }
