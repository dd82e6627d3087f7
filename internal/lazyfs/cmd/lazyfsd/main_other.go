//go:build !linux

// Command lazyfsd serves an internal/lazyfs mount for tests; it needs
// Linux's FUSE.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "lazyfsd: FUSE test filesystem: Linux only")
	os.Exit(2)
}
