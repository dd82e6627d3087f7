package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/paytree"
)

func init() { verbs = append(verbs, newConfirmCommand) }

func newConfirmCommand(g *globals) *cobra.Command {
	var cancel bool
	cmd := &cobra.Command{
		Use:   "confirm [--cancel]",
		Short: "Finish a pay left waiting for the customer's approval",
		Long: `confirm takes over a pay that was left waiting for the customer's approval
(passcode) — the pay command was interrupted, or the POS stopped — and
follows it to the end: the engine asks the gateway every
PayConfirmPollingInterval until the customer approves (paid), refuses, or
PayConfirmPollingTimeout has passed since the WAITING answer (then the pay is
reversed). On a terminal, Enter asks the gateway at once and c cancels;
--cancel ends the wait at once (a pay not yet approved is reversed).

Opening the engine also finishes any other unfinished transaction; all of
them are reported, as by recover.

Exit code 0 when paid, 3 when refused or undone (nothing charged), 4 when a
person must act, 1 (L0008) when no payment was waiting.`,
		Example: `  wbpay-engine confirm
  wbpay-engine confirm --cancel -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c := g.daemon(cmd.Context()); c != nil {
				return g.runViaDaemon(cmd.Context(), c, daemonRequest{op: "pay-confirm", body: map[string]any{"confirm": !cancel}})
			}
			recs, err := g.recoverAll(cmd, func(ctx context.Context, eng *wbpay.Engine) {
				g.helpWaiting(ctx, eng, cancel)
			})
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				def, _ := paytree.LookupError(paytree.L0008)
				return withExit(ExitLibrary, fmt.Errorf("%s: %s: no payment is waiting for the customer and nothing was unfinished", paytree.L0008, def.Message))
			}
			if err := g.printRecoveries(recs); err != nil {
				return err
			}
			if code := recoveryExit(recs, true); code != ExitOK {
				return silentExit(code)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&cancel, "cancel", false, "end the wait now: a pay not yet approved is reversed")
	return cmd
}

// helpWaiting runs while recovery resumes: once a pay waits for the
// customer, it cancels it (--cancel) or, on a terminal, prompts the cashier.
func (g *globals) helpWaiting(ctx context.Context, eng *wbpay.Engine, cancel bool) {
	if !cancel && !g.isTTY(g.stdin) {
		return // the engine polls by itself after a restart
	}
	recovered := make(chan struct{})
	go func() {
		_ = eng.WaitRecovered(ctx)
		close(recovered)
	}()
	clk := g.clk()
	for {
		txns, err := eng.Audit().Unfinished()
		if err != nil {
			return
		}
		for _, t := range txns {
			if t.Op != paytree.OpPay || t.State != wbpay.StateWaiting {
				continue
			}
			if cancel {
				err := eng.PayConfirm(false)
				var we *wbpay.Error
				if err == nil || !errors.As(err, &we) || (we.Code != paytree.L0008 && we.Code != paytree.L0004) {
					return
				}
				continue // not waiting on PayConfirm yet: try again shortly
			}
			a := &approval{g: g, eng: eng, quit: recovered}
			a.prompt(ctx, t.WaitingSince.Add(eng.Config().PayConfirmPollingTimeout))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-recovered:
			return
		case <-clk.After(50 * time.Millisecond):
		}
	}
}
