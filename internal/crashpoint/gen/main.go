// Command gen writes internal/crashpoint/points_gen.go: the crash points of
// the sequence driver, derived from the state machines of package fsm. Run
// it with `go generate ./internal/crashpoint/`; a test fails when the file
// is stale.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wbpay/wbpay/internal/crashpoint/gen/points"
)

func main() {
	out := "points_gen.go"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := os.WriteFile(filepath.Clean(out), points.Source(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
