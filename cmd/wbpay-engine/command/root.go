// Package command holds the wbpay-engine CLI: one file per verb
// (command_<verb>.go), each with a test beside it.
package command

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes of wbpay-engine, documented in the README.
const (
	ExitOK       = 0 // done as asked
	ExitLibrary  = 1 // library or configuration error
	ExitUsage    = 2 // usage error
	ExitRefused  = 3 // refused or failed with nothing moved
	ExitEscalate = 4 // needs a person (escalated, outcome unknown)
)

// exitError carries an exit code out of a command's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit wraps err so Execute exits with code.
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// globals are the flags every verb shares.
type globals struct {
	home   string
	output string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// newRoot builds the command tree.
func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "wbpay-engine",
		Short: "Crash-safe PAYTREE QR payment engine, simulator and audit tools",
		Long: `wbpay-engine pays, refunds, reverses (取消) and deposits (入金) through the
PAYTREE QR-code payment gateway. Every step of every transaction is written
to a journal before the request leaves the host, so after a crash or a power
loss the engine finishes each unfinished transaction on the next start.

Start with:  wbpay-engine demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.PersistentFlags().StringVar(&g.home, "home", defaultHome(), "engine home directory (WbCPSPay.conf, keys, journal, Log/); default $WBPAY_HOME or the platform default")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "table", "output format: table (for people) or json (for scripts)")
	for _, add := range verbs {
		root.AddCommand(add(g))
	}
	return root
}

// verbs registers each verb's constructor (one per command_<verb>.go).
var verbs []func(*globals) *cobra.Command

// Execute runs the CLI with args and returns the process exit code.
func Execute(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "wbpay-engine:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors (unknown flag, bad args) are usage errors.
	return ExitUsage
}
