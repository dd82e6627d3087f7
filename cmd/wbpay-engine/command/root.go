// Package command holds the wbpay-engine CLI: one file per verb
// (command_<verb>.go), each with a test beside it.
package command

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wbpay/wbpay"
)

// Exit codes of wbpay-engine, documented in the README and in `--help`.
const (
	ExitOK       = 0 // done as asked
	ExitLibrary  = 1 // library or configuration error
	ExitUsage    = 2 // usage error
	ExitRefused  = 3 // refused or failed with nothing moved
	ExitEscalate = 4 // needs a person (escalated, outcome unknown)
)

// ExitCodesHelp is the exit-code table shown by `wbpay-engine --help` and
// copied into the README (a test keeps both in step).
const ExitCodesHelp = `Exit codes:
  0  done as asked (paid, refunded, reversed, deposited; audit read fine)
  1  library or configuration error (L-codes: bad or missing home, config,
     key, journal locked or damaged; unknown transaction id)
  2  usage error (unknown verb or flag, bad flag value, a request field the
     engine refuses, L0003)
  3  refused or failed with nothing moved (customer or business error, or a
     payment undone by a reverse): the money is where it was
  4  needs a person: escalated (call CPS) or outcome still unknown`

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

// usageErrorf is a usage error (exit 2) with a formatted message.
func usageErrorf(format string, args ...any) error {
	return withExit(ExitUsage, fmt.Errorf(format, args...))
}

// silentExit ends a command with code after it has already reported why
// (on stdout or stderr): Execute prints nothing more.
type silentExit int

func (s silentExit) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// globals are the flags every verb shares, the streams, and the hooks that
// tests and the demo use.
type globals struct {
	home        string
	output      string
	gatewayCA   string
	httpTimeout time.Duration // hidden --http-timeout: wbpay.WithHTTPTimeout (demo, tests)
	gatewayWait time.Duration // recover --gateway-wait; 0: defaultGatewayWait
	verbose     bool
	events      string // --events: "" or jsonl (each event of a request on stdout as it happens)
	again       bool   // request verbs' --again: send even though recovery just settled the same request

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	// clock paces the CLI's own waits (approval prompt, polling, progress);
	// nil means the real clock.
	clock clockwork.Clock
	// engineOpts are appended to every wbpay.Open (tests: a fake clock).
	engineOpts []wbpay.Option
	// terminal reports whether a stream is an interactive terminal; nil
	// means isTerminal.
	terminal func(any) bool
	// onResult, when set, receives every request's Result (the demo checks
	// each step's outcome with it).
	onResult func(*wbpay.Result)

	in *bufio.Reader
}

func (g *globals) json() bool { return g.output == "json" }

func (g *globals) clk() clockwork.Clock {
	if g.clock == nil {
		return clockwork.NewRealClock()
	}
	return g.clock
}

func (g *globals) isTTY(stream any) bool {
	if g.terminal != nil {
		return g.terminal(stream)
	}
	return isTerminal(stream)
}

// reader returns stdin, buffered once, so every verb reads lines from one
// buffer (a user code from stdin, then the approval prompt).
func (g *globals) reader() *bufio.Reader {
	if g.in == nil {
		g.in = bufio.NewReader(g.stdin)
	}
	return g.in
}

// isTerminal reports whether stream is an *os.File open on a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
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

Start with:  wbpay-engine demo

Data goes to stdout (a table for people, or JSON with -o json); progress,
prompts and logs go to stderr.

` + ExitCodesHelp,
		Example: `  wbpay-engine demo
  wbpay-engine init --home ./pos1 --test-mode
  wbpay-engine pay --home ./pos1 --amount 1000 --user-code 281234567890123456
  wbpay-engine history --home ./pos1 --since 2026-11-25 -o json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.validate()
		},
	}
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.home, "home", defaultHome(), "engine home directory (WbCPSPay.conf, keys, journal, Log/); default $WBPAY_HOME or the platform default")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table (for people) or json (for scripts)")
	pf.StringVar(&g.gatewayCA, "gateway-ca", "", "PEM file of CA certificates to trust for the gateway's TLS certificate (a private CA, or the demo's simulator)")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "also write the engine's log (at its LogLevel) to stderr")
	pf.StringVar(&g.events, "events", "", "with jsonl, request verbs write each event (state, complete, error) to stdout as one JSON line as it happens, instead of the result")
	pf.DurationVar(&g.httpTimeout, "http-timeout", 0, "override HttpTimeout (for loopback simulators)")
	_ = pf.MarkHidden("http-timeout")
	for _, add := range verbs {
		root.AddCommand(add(g))
	}
	return root
}

// validate checks the global flags; a bad value is a usage error.
func (g *globals) validate() error {
	switch g.output {
	case "table", "json":
	default:
		return usageErrorf("-o %q: want table or json", g.output)
	}
	if g.home == "" {
		return usageErrorf("--home is empty")
	}
	if g.events != "" && g.events != "jsonl" {
		return usageErrorf("--events %q: want jsonl", g.events)
	}
	if g.httpTimeout < 0 {
		return usageErrorf("--http-timeout %s is negative", g.httpTimeout)
	}
	return nil
}

// verbs registers each verb's constructor (one per command_<verb>.go).
var verbs []func(*globals) *cobra.Command

// Execute runs the CLI with args and returns the process exit code.
func Execute(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(&globals{stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

// execute runs the CLI with g's streams and hooks.
func execute(g *globals, args []string) int {
	root := newRoot(g)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return int(se)
	}
	fmt.Fprintln(g.stderr, "wbpay-engine:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors (unknown flag, bad args) are usage errors.
	return ExitUsage
}
