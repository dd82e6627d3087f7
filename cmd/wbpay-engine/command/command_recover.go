package command

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
)

func init() { verbs = append(verbs, newRecoverCommand) }

func newRecoverCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Finish every transaction a crash or power loss left unfinished",
		Long: `recover opens the engine on the home, which resumes every transaction the
journal holds in an unfinished state (contract section 7): a pay or deposit
whose answer never came is confirmed, and reversed when still unknown; a
reverse is resent with its own request id; a refund is confirmed, then resent
with the same request id; a pay waiting for the customer is polled until
approved, refused or timed out (then reversed). It waits until all are done
and prints, per transaction, the state the journal held, the state it ended
in and the events.

Run it at boot, after a power loss, before the POS starts (see
docs/recovery.md for a systemd unit). Opening the engine from the POS does the
same, but recover tells an operator what happened.

When the gateway cannot be reached (no connection at all: nothing of the
request left this host), nothing is escalated or counted as an attempt: the
transaction stays where the journal has it, and recover waits (2 s, doubling
up to a minute) until the gateway accepts connections again, for at most
--gateway-wait. What still waits then is listed; run recover again once the
network is back, or let the POS open the engine, which goes on retrying.

Exit code 0 when nothing needs a person (also when there was nothing to do),
4 when any transaction is escalated (call CPS) or still waits for the
gateway after --gateway-wait (its outcome is unknown: check the network), 1
when the engine cannot be opened (configuration, keys, journal locked or
damaged).`,
		Example: `  wbpay-engine recover --home /var/lib/wbpay
  wbpay-engine recover --home /var/lib/wbpay -o json
  wbpay-engine recover --home /var/lib/wbpay --gateway-wait 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c := g.daemon(cmd.Context()); c != nil {
				return g.recoverVia(cmd.Context(), c)
			}
			recs, err := g.recoverAll(cmd, nil)
			if err != nil {
				return err
			}
			if err := g.printRecoveries(recs); err != nil {
				return err
			}
			if code := recoveryExit(recs, false); code != ExitOK {
				return silentExit(code)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&g.gatewayWait, "gateway-wait", 2*time.Minute, "how long to wait for an unreachable gateway before giving up (the transactions stay unfinished)")
	return cmd
}

// recoverAll opens the engine, runs during with it while start-up recovery
// runs (may be nil), waits for the recovery to finish and returns its
// reports.
func (g *globals) recoverAll(cmd *cobra.Command, during func(ctx context.Context, eng *wbpay.Engine)) ([]wbpay.Recovery, error) {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eng, err := g.openEngine(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	pr := g.startProgress(ctx, eng)
	done := make(chan struct{})
	if during != nil {
		go func() {
			defer close(done)
			during(ctx, eng)
		}()
	} else {
		close(done)
	}
	err = eng.WaitRecovered(ctx)
	pr.stop()
	if err != nil {
		return nil, withExit(ExitEscalate, fmt.Errorf("interrupted: recovery stopped between two journaled steps; run `wbpay-engine recover` again"))
	}
	recs := eng.Recovered()
	if err := eng.Close(); err != nil {
		fmt.Fprintln(g.stderr, "wbpay-engine: closing the engine:", err)
	}
	<-done
	for _, r := range recs {
		if r.Result != nil && g.onResult != nil {
			g.onResult(r.Result)
		}
	}
	return recs, nil
}

// recoveryJSON is one recovered transaction in -o json output.
type recoveryJSON struct {
	TransactionID string `json:"transactionId"`
	Operation     string `json:"operation"`
	From          string `json:"from"`
	To            string `json:"to"`
	Resume        string `json:"resume,omitempty"`
	OrderID       string `json:"orderId"`
	TransStatus   string `json:"transStatus"`
	Amount        int64  `json:"amount"`
	PayType       string `json:"payType"`
	NeedsPerson   bool   `json:"needsPerson"`
	// GatewayUnreachable: kept unfinished until the gateway answers again.
	GatewayUnreachable bool        `json:"gatewayUnreachable"`
	Events             []eventJSON `json:"events"`
	Error              *errorJSON  `json:"error,omitempty"`
}

func toRecoveryJSON(r wbpay.Recovery) recoveryJSON {
	out := recoveryJSON{TransactionID: r.TransactionID, Operation: r.Operation.String(), From: string(r.From),
		Resume: r.Resume, NeedsPerson: needsPerson(r), GatewayUnreachable: r.GatewayUnreachable, Events: []eventJSON{}}
	if res := r.Result; res != nil {
		j := toResultJSON(res)
		out.To, out.OrderID, out.TransStatus, out.Amount, out.PayType, out.Events = j.State, j.OrderID, j.TransStatus, j.Amount, j.PayType, j.Events
	} else {
		out.To = string(r.From)
	}
	if e := r.Err; e != nil {
		out.Error = &errorJSON{Type: int(e.Type), Code: e.Code, SubCode: e.SubCode, Message: e.Message, Action: e.Action.String()}
	}
	return out
}

// needsPerson reports whether a recovered transaction is escalated, still
// unfinished or could not be resumed at all. One that waits for an
// unreachable gateway does not: it is finished once the network is back.
func needsPerson(r wbpay.Recovery) bool {
	if r.GatewayUnreachable {
		return false
	}
	return r.Err != nil || r.Result == nil || r.Result.State == wbpay.StateEscalated || !r.Result.State.Terminal()
}

// recoveryExit is 4 when any transaction needs a person or waits for an
// unreachable gateway (its outcome is still unknown); with strict (the
// confirm verb) a transaction refused or undone gives 3.
func recoveryExit(recs []wbpay.Recovery, strict bool) int {
	code := ExitOK
	for _, r := range recs {
		c := ExitOK
		switch {
		case needsPerson(r):
			c = ExitEscalate
		case r.GatewayUnreachable:
			c = ExitEscalate
		case strict:
			c = exitForResult(r.Result)
		}
		code = max(code, c)
	}
	return code
}

// printRecoveries writes what recovery did, as JSON or for people.
func (g *globals) printRecoveries(recs []wbpay.Recovery) error {
	if g.json() {
		out := make([]recoveryJSON, 0, len(recs))
		for _, r := range recs {
			out = append(out, toRecoveryJSON(r))
		}
		if err := writeJSON(g.stdout, out); err != nil {
			return withExit(ExitLibrary, err)
		}
		return nil
	}
	w := g.stdout
	if len(recs) == 0 {
		fmt.Fprintln(w, "Nothing to recover: every transaction in the journal is finished.")
		return nil
	}
	fmt.Fprintf(w, "Recovered %d unfinished transaction(s):\n", len(recs))
	people, waiting := 0, 0
	for _, r := range recs {
		fmt.Fprintln(w)
		to := "(not resumed)"
		if r.Result != nil {
			to = string(r.Result.State)
		}
		fmt.Fprintf(w, "%s %s: %s -> %s", r.Operation, r.TransactionID, r.From, to)
		if r.Resume != "" {
			fmt.Fprintf(w, " (resumed at %s)", r.Resume)
		}
		fmt.Fprintln(w)
		if r.Result != nil {
			fmt.Fprintln(w, "  "+headline(r.Result))
			if r.Result.OrderID != "" {
				fmt.Fprintf(w, "  order %s\n", r.Result.OrderID)
			}
			for _, ev := range r.Result.Events {
				printEvent(w, ev)
			}
		}
		if r.Err != nil {
			printError(w, r.Err, "  ")
		}
		if needsPerson(r) {
			people++
		}
		if r.GatewayUnreachable {
			waiting++
		}
	}
	fmt.Fprintln(w)
	if waiting > 0 {
		fmt.Fprintf(w, "%d transaction(s) WAIT FOR THE GATEWAY, which could not be reached: nothing was escalated or sent twice; check the network, then run `wbpay-engine recover` again (an engine the POS opens also keeps retrying).\n", waiting)
	}
	switch {
	case people > 0:
		fmt.Fprintf(w, "%d transaction(s) NEED A PERSON: call CPS with the transaction id (see `wbpay-engine show ID`).\n", people)
	case waiting == 0:
		fmt.Fprintln(w, "Nothing needs a person.")
	}
	return nil
}
