//go:build linux

// Command lazyfsd serves an internal/lazyfs mount for tests; see that
// package. It is built and started by lazyfs.BuildServer and lazyfs.Start.
package main

import (
	"os"

	"github.com/wbpay/wbpay/internal/lazyfs"
)

func main() { os.Exit(lazyfs.Serve(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
