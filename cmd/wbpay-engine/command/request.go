package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
)

// requestFunc runs one request's whole sequence on an open engine.
type requestFunc func(ctx context.Context, eng *wbpay.Engine) (*wbpay.Result, error)

// runRequest opens the engine, lets start-up recovery finish, runs call
// (helping a pay that waits for the customer, and telling a terminal what it
// waits for), closes the engine and prints the result. The exit code says
// where the request ended (see ExitCodesHelp).
func (g *globals) runRequest(cmd *cobra.Command, req wbpay.Request, call requestFunc) error {
	if err, ok := g.tryDaemon(cmd.Context(), req); ok { // a daemon holds the home: through its API
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eng, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := g.awaitRecovery(ctx, eng); err != nil {
		return err
	}
	if rec := eng.RecoveredLike(req); rec != nil && !g.again {
		// The same request was cut short (a crash, a power loss) and the
		// recovery just now finished it: a repeat would move money twice.
		fmt.Fprintf(g.stderr, "NOT SENT AGAIN: recovery just finished the same %s (%s, now %s); this is its result. Pass --again to send a new one anyway.\n",
			rec.Operation, rec.TransactionID, rec.Result.State)
		_ = eng.Close()
		return g.report(rec.Result)
	}
	ap := g.startApproval(ctx, eng)
	pr := g.startProgress(ctx, eng)
	sf := g.startStreamFollower(eng)
	res, err := call(ctx, eng)
	sf.stop()
	pr.stop()
	ap.stop()
	if err != nil {
		if ctx.Err() != nil {
			_ = eng.Close()
			return withExit(ExitEscalate, errors.New("interrupted: the request was stopped between two journaled steps and its outcome may be unknown; run `wbpay-engine recover` to finish it"))
		}
		return withExit(exitForError(err), err)
	}
	if err := eng.Close(); err != nil {
		fmt.Fprintln(g.stderr, "wbpay-engine: closing the engine:", err)
	}
	return g.report(res)
}

// report prints a request's result and turns where it ended into the exit
// code (silently: the output already says why).
func (g *globals) report(res *wbpay.Result) error {
	if g.onResult != nil {
		g.onResult(res)
	}
	switch {
	case g.events == "jsonl": // stdout holds the events only
	case g.json():
		if err := writeJSON(g.stdout, toResultJSON(res)); err != nil {
			return withExit(ExitLibrary, err)
		}
	default:
		printResult(g.stdout, res)
	}
	if code := exitForResult(res); code != ExitOK {
		return silentExit(code)
	}
	return nil
}

// awaitRecovery waits for start-up recovery and tells stderr what it did,
// so a request never silently follows the repair of an earlier crash.
func (g *globals) awaitRecovery(ctx context.Context, eng *wbpay.Engine) error {
	pr := g.startProgress(ctx, eng)
	err := eng.WaitRecovered(ctx)
	pr.stop()
	if err != nil {
		return withExit(ExitEscalate, fmt.Errorf("interrupted while recovering unfinished transactions: %w; run `wbpay-engine recover`", err))
	}
	recs := eng.Recovered()
	if len(recs) == 0 {
		return nil
	}
	fmt.Fprintf(g.stderr, "recovered %d unfinished transaction(s) first (see `wbpay-engine recover`):\n", len(recs))
	for _, r := range recs {
		to := "not resumed"
		if r.Result != nil {
			to = string(r.Result.State)
		}
		if r.GatewayUnreachable {
			to += " (kept: the gateway is unreachable)"
		}
		fmt.Fprintf(g.stderr, "  %s %s: %s -> %s\n", r.Operation, r.TransactionID, r.From, to)
		if r.Result != nil && r.Result.State == wbpay.StateEscalated {
			fmt.Fprintln(g.stderr, "    NEEDS A PERSON: call CPS (see `wbpay-engine show "+r.TransactionID+"`)")
		}
	}
	return nil
}
