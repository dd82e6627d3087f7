package command

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api/client"
)

func init() { verbs = append(verbs, newResolveCommand) }

func newResolveCommand(g *globals) *cobra.Command {
	var outcome, note, operator string
	cmd := &cobra.Command{
		Use:   "resolve ID --outcome refunded|paid|deposited|reversed|failed --note TEXT [--operator NAME]",
		Short: "Record what CPS said about an escalated transaction (sends nothing)",
		Long: `resolve records, after a person called CPS about an escalated transaction
(NEEDS A PERSON in history), where its money went. It journals one
hash-chained entry with the operator and the note, and moves the transaction
to the state "resolved" with that outcome, so the audit (history, show,
export, verify) tells what happened, and a refund or reverse of its order is
accepted again (an escalated one refuses them with L0012).

It never sends anything to the gateway: it only records. The outcome must fit
the operation: a pay paid, reversed or failed; a deposit deposited, reversed
or failed; a refund refunded or failed; a reverse reversed or failed.

While a daemon (wbpay-engine serve) holds the home, resolve goes through
its API.

--operator names who records it (default: the USER of this shell); --note
says what CPS said (their reference number, for example).

Exit code 0 when recorded, 1 when it could not be (not escalated, an
outcome that does not fit, the home in use).`,
		Example: `  wbpay-engine resolve 0195f3a2b4c07d3e9a1b2c3d4e5f6071 --outcome refunded --note "CPS ticket 4711: refund of 500 yen went through"
  wbpay-engine resolve 0195f3a2b4c07d3e9a1b2c3d4e5f6071 --outcome failed --operator tanaka --note "CPS: never reached the channel"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if operator == "" {
				operator = os.Getenv("USER")
			}
			if operator == "" {
				return usageErrorf("--operator is empty and USER is not set: say who records this")
			}
			if note == "" {
				return usageErrorf("--note is empty: say what CPS said")
			}
			res, err := g.resolve(cmd.Context(), args[0], outcome, operator, note)
			if err != nil {
				return err
			}
			if g.json() {
				return jsonOrExit(g, toResultJSON(res))
			}
			fmt.Fprintf(g.stdout, "RESOLVED: %s %s recorded as %s by %s (nothing was sent)\n", res.Operation, res.TransactionID, outcome, operator)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&outcome, "outcome", "", "where the money went, as CPS said: refunded, paid, deposited, reversed or failed")
	f.StringVar(&note, "note", "", "what CPS said (their reference, the outcome), at most 512 characters")
	f.StringVar(&operator, "operator", "", "who records it (default: $USER)")
	_ = cmd.MarkFlagRequired("outcome")
	_ = cmd.MarkFlagRequired("note")
	return cmd
}

// resolve records the resolution through the daemon serving the home, or
// with the engine opened on the home when none does.
func (g *globals) resolve(ctx context.Context, id, outcome, operator, note string) (*wbpay.Result, error) {
	if c := g.daemon(ctx); c != nil {
		var t client.Transaction
		err := g.retryRecovering(ctx, c, func() (err error) {
			t, err = c.Resolve(ctx, id, outcome, operator, note)
			return err
		})
		if err != nil {
			return nil, g.daemonFailed(err)
		}
		// As the engine's Result of Resolve: no events, and the receipt
		// of the transaction now that it is resolved.
		res := resultOf(t, nil)
		res.Events = nil
		if rc, err := c.Receipt(ctx, id); err == nil {
			res.Receipt = rc
		}
		return res, nil
	}
	eng, err := g.openEngine(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if err := g.awaitRecovery(ctx, eng); err != nil {
		return nil, err
	}
	res, err := eng.Resolve(id, wbpay.State(outcome), operator, note)
	if err != nil {
		return nil, withExit(ExitLibrary, err)
	}
	return res, nil
}
