package command

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/sim"
)

func init() { verbs = append(verbs, newSimCommand) }

// simOptions are the flags of `wbpay-engine sim`.
type simOptions struct {
	addr            string
	key             string
	clientPublic    string
	approveAfter    time.Duration
	approvalTimeout time.Duration
	reverseWindow   time.Duration
	delay           time.Duration
	faults          string
	seed            int64
	classes         sim.Classes
	merchants       []string
	terminals       []string
	store           string
	quiet           bool
}

func newSimCommand(g *globals) *cobra.Command {
	o := &simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the PAYTREE gateway simulator on a loopback address",
		Long: `sim runs the PAYTREE simulator: a stand-in for the gateway that implements
the whole wire contract (pay, V1 auto-detect pay, refund, reverse, confirm,
deposit; test classes; idempotency; tombstones) over plain HTTP on a
loopback address only. It signs every answer with --key (the gateway's
private key) and checks every request's signature with --client-public (the
engine's public key).

The first line on stdout is exactly

  listening http://127.0.0.1:PORT

(with the real port when --addr ends in :0); request logs go to stderr.
GET /_sim/ledger returns the orders and recorded requests as JSON. It stops
on SIGINT or SIGTERM.

History (contract section 9): without --store it lives only as long as the
process; a restarted simulator knows none of the orders and requests sent
before, so a confirm or refund of them answers E3001. With --store FILE it
is kept in FILE, a versioned JSON file: every order (status,
refundedTotal, a pending approval or PROCESSING settle, which still
happens after a restart), every recorded request with its first answer (a
resend with the same requestId gets it again and other content E3005, even
after a restart) and every tombstone. FILE is loaded at start (created when
missing) and rewritten atomically after every request that changed the
history, before the answer is sent. A FILE that is not a store of this
version is refused (exit 1) and never overwritten. Faults and their counts
are not kept. One simulator per FILE. The whole file is rewritten each
time, so it suits test histories (thousands of requests), not millions.

Test classes (contract section 9): --class-pay 0 PAID, 1 WAITING then PAID
after --approve-after, 2 PAID with every answer lost (only a reverse is
answered), 3 E2001, 4 E2002, 5 E2003, 6 WAITING then CANCELLED, 7 WAITING
then EXPIRED after --approval-timeout. A V3 pay whose userCode is "99",
fifteen zeros and a digit N uses pay class N. --class-refund 1 loses a
refund's first answer.

Registration: with --merchant or --terminal given, other merchantIds or
terminalUniqueIds are refused with E1003; without them everything is
registered.

Faults (--faults, contract section 10), drawn from a generator seeded with
--seed so a run replays:

` + simIndent(sim.FaultSyntax, "  "),
		Example: `  wbpay-engine keys gen --private sim.pem --public sim.pub.pem
  wbpay-engine sim --addr 127.0.0.1:8790 --key sim.pem --client-public pos1/keys/public.pem
  wbpay-engine sim --addr 127.0.0.1:0 --key sim.pem --client-public client.pub.pem \
      --class-pay 1 --approve-after 5s
  wbpay-engine sim --addr 127.0.0.1:8790 --key sim.pem --client-public client.pub.pem \
      --store sim-history.json
  wbpay-engine sim --addr 127.0.0.1:8790 --key sim.pem --client-public client.pub.pem \
      --faults 'lost:pay:count=1,500-after:refund:p=0.3,processing:pay:settle=5s:fail' --seed 7
  curl -s http://127.0.0.1:8790/_sim/ledger`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runSim(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8790", "loopback address to listen on (host:port; port 0 picks a free one)")
	f.StringVar(&o.key, "key", "", "PEM file of the simulator's (gateway's) RSA private key, which signs every answer (required)")
	f.StringVar(&o.clientPublic, "client-public", "", "PEM file of the client's (engine's) RSA public key, which verifies every request (required)")
	f.DurationVar(&o.approveAfter, "approve-after", sim.DefaultApproveAfter, "pay class 1/6: the customer approves/cancels this long after the pay")
	f.DurationVar(&o.approvalTimeout, "approval-timeout", sim.DefaultApprovalTimeout, "pay class 7: the pay expires this long after it was made")
	f.DurationVar(&o.reverseWindow, "reverse-window", sim.DefaultReverseWindow, "a PAID or DEPOSITED order can be reversed this long after the pay (then E3003)")
	f.DurationVar(&o.delay, "delay", 0, "wait this long before every answer (TestSequenceDelay)")
	f.StringVar(&o.faults, "faults", "", "faults to inject, e.g. 'lost:pay:count=1,e9001:refund:p=0.2' (syntax above)")
	f.Int64Var(&o.seed, "seed", 0, "seed of the fault generator (the same seed replays the same faults)")
	f.IntVar(&o.classes.Pay, "class-pay", 0, "pay test class 0-7")
	f.IntVar(&o.classes.Refund, "class-refund", 0, "refund test class 0-1")
	f.IntVar(&o.classes.Reverse, "class-reverse", 0, "reverse test class (0 only)")
	f.IntVar(&o.classes.Deposit, "class-deposit", 0, "deposit test class (0 only)")
	f.StringSliceVar(&o.merchants, "merchant", nil, "registered merchantId (repeatable; default: every merchantId)")
	f.StringSliceVar(&o.terminals, "terminal", nil, "registered terminalUniqueId (repeatable; default: every terminal)")
	f.StringVar(&o.store, "store", "", "keep the history (orders, requests and their answers, tombstones) in this JSON file across restarts (default: memory only)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not log requests to stderr")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("client-public")
	return cmd
}

// indent prefixes every line of s with p.
func simIndent(s, p string) string {
	return p + strings.ReplaceAll(s, "\n", "\n"+p)
}

// simCheckLoopback refuses an address whose host is not a loopback IP or
// "localhost": the simulator speaks plain HTTP (contract section 1).
func simCheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: want host:port (%v)", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q: the simulator serves plain HTTP and listens on loopback only (127.0.0.1, [::1] or localhost)", addr)
}

// simLogger logs requests to stderr unless quiet.
func (g *globals) simLogger(quiet bool) *zap.Logger {
	if quiet {
		return zap.NewNop()
	}
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(g.stderr), zapcore.InfoLevel)
	return zap.New(core)
}

// runSim serves the simulator until ctx ends or a signal arrives.
func (g *globals) runSim(ctx context.Context, o *simOptions) error {
	if err := simCheckLoopback(o.addr); err != nil {
		return withExit(ExitUsage, err)
	}
	faults, err := sim.ParseFaults(o.faults)
	if err != nil {
		return withExit(ExitUsage, fmt.Errorf("--faults: %w", err))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--approve-after", o.approveAfter}, {"--approval-timeout", o.approvalTimeout}, {"--reverse-window", o.reverseWindow}, {"--delay", o.delay}} {
		if d.v < 0 {
			return withExit(ExitUsage, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	priv, err := keys.LoadPrivate(o.key)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("--key: %w", err))
	}
	clientPub, err := keys.LoadPublic(o.clientPublic)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("--client-public: %w", err))
	}
	log := g.simLogger(o.quiet)
	defer func() { _ = log.Sync() }()
	s, err := sim.New(sim.Config{
		PrivateKey: priv, ClientPublicKey: clientPub, Logger: log,
		ApproveAfter: o.approveAfter, ApprovalTimeout: o.approvalTimeout, ReverseWindow: o.reverseWindow,
		Delay: o.delay, Classes: o.classes, Faults: faults, Seed: o.seed,
		Merchants: o.merchants, Terminals: o.terminals, Store: o.store,
	})
	if errors.Is(err, sim.ErrStore) {
		return withExit(ExitLibrary, fmt.Errorf("--store: %w", err))
	}
	if err != nil {
		// Every other Config field comes from a flag: a bad one is a usage error.
		return withExit(ExitUsage, err)
	}

	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// What the store held at start, read before anything is served (a
	// client that saw "listening" may send its first request at once).
	kept := s.Ledger()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("listen on %s: %w", o.addr, err))
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	url := "http://" + ln.Addr().String()
	if _, err := fmt.Fprintf(g.stdout, "listening %s\n", url); err != nil {
		_ = srv.Close()
		return withExit(ExitLibrary, fmt.Errorf("write to stdout: %w", err))
	}
	fmt.Fprintf(g.stderr, "sim: gateway key %s, client key %s\n", keys.Fingerprint(&priv.PublicKey), keys.Fingerprint(clientPub))
	fmt.Fprintf(g.stderr, "sim: classes pay=%d refund=%d reverse=%d deposit=%d; faults %q seed %d; ledger %s%s\n",
		o.classes.Pay, o.classes.Refund, o.classes.Reverse, o.classes.Deposit, o.faults, o.seed, url, sim.LedgerPath)
	if o.store != "" {
		fmt.Fprintf(g.stderr, "sim: store %s: %d orders, %d requests kept\n", o.store, len(kept.Orders), len(kept.Requests))
	} else {
		fmt.Fprintln(g.stderr, "sim: no --store: the history lives only as long as this process")
	}

	select {
	case err := <-served:
		return withExit(ExitLibrary, fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}
	// Held answers wait for their client; give them a moment, then close.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return withExit(ExitLibrary, fmt.Errorf("serve: %w", err))
	}
	fmt.Fprintln(g.stderr, "sim: stopped")
	return nil
}
