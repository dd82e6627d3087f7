package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/ship"
)

func init() { verbs = append(verbs, newShipCommand) }

func newShipCommand(g *globals) *cobra.Command {
	var catchUp bool
	var recordEvery time.Duration
	cmd := &cobra.Command{
		Use:   "ship",
		Short: "Ship the home's journal to HQ over NATS JetStream (ShipURL), from the last acknowledged entry",
		Long: `ship publishes every journal entry of the home to the HQ's NATS JetStream
(the config's ShipURL and Ship… keys), in Seq order, each awaiting the
server's acknowledgement, from the last entry the server acknowledged (kept
in the journal). It holds the home's journal: run it on a home without a
running engine or daemon (the daemon ships by itself when ShipURL is set).
It runs until interrupted (SIGINT, SIGTERM), or with --catch-up until every
entry is acknowledged. Logs go to stderr.

Exit code 0 when stopped or caught up, 1 when shipping is off (ShipURL is
empty), the configuration or the journal cannot be used.`,
		Example: `  wbpay-engine ship --home /var/lib/wbpay
  wbpay-engine ship --home ./pos1 --catch-up`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return g.ship(ctx, catchUp, recordEvery)
		},
	}
	cmd.Flags().BoolVar(&catchUp, "catch-up", false, "exit once every entry in the journal is acknowledged")
	cmd.Flags().DurationVar(&recordEvery, "record-every", 0, "record the acknowledged Seq in the journal at most this often (default 1s; tests)")
	_ = cmd.Flags().MarkHidden("record-every")
	return cmd
}

func (g *globals) ship(ctx context.Context, catchUp bool, recordEvery time.Duration) error {
	if err := g.checkHome(); err != nil {
		return err
	}
	cfg, err := config.Load(layout.Home(g.home).Conf())
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	lg := infoLogger(g, "ship")
	defer lg.Sync() //nolint:errcheck
	j, err := journal.Open(layout.Home(g.home).Journal(), journal.Options{Logger: lg})
	if err != nil {
		if errors.Is(err, journal.ErrLocked) {
			err = fmt.Errorf("%w\nan engine or daemon holds the home; the daemon ships by itself when ShipURL is set", err)
		}
		return withExit(ExitLibrary, err)
	}
	defer j.Close()
	s, err := ship.New(ship.Options{Journal: j, Config: cfg, Home: g.home, Logger: lg, ExitWhenIdle: catchUp, FlushEvery: recordEvery})
	if errors.Is(err, ship.ErrOff) {
		return withExit(ExitLibrary, fmt.Errorf("%w: set ShipURL in %s", err, layout.Home(g.home).Conf()))
	}
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	if err := s.Run(ctx); err != nil {
		return withExit(ExitLibrary, err)
	}
	if g.json() {
		return jsonOrExit(g, map[string]any{"ackedSeq": s.Acked(), "duplicates": s.Duplicates()})
	}
	fmt.Fprintf(g.stdout, "shipped up to entry %d (%d re-sent entries the server already had)\n", s.Acked(), s.Duplicates())
	return nil
}
