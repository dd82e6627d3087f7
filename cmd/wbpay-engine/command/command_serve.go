package command

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
)

func init() { verbs = append(verbs, newServeCommand) }

// serveFlags are serve's own flags.
type serveFlags struct {
	listen    string
	service   bool          // run as a Windows service
	keepAlive time.Duration // hidden: SSE keep-alive interval (tests)
	sseBuffer int           // hidden: events an SSE client may lag behind (tests)
	sseWrite  time.Duration // hidden: bound of one write to a client (tests)
}

func newServeCommand(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:PORT]",
		Short: "Run the daemon: recover, then serve the local API (HTTP on loopback)",
		Long: `serve opens the engine on the home (taking its lock: no other engine or
daemon can use it meanwhile), resumes every unfinished transaction as
recover does, and serves the local API of docs/api/openapi.yaml on a
loopback address until SIGTERM or SIGINT (on Windows: until the service is
stopped). A POS in any language pays, refunds, reverses and deposits through
it, follows the outcome as Server-Sent Events, and audits the journal.

It listens at once, before recovery has finished (/v1/health says
"recovering" and request methods answer 503 L0004 until then), and writes
serve.json (url, pid, startedAt) in the home; clients read it to find the
daemon. Every request carries "Authorization: Bearer TOKEN", TOKEN being
the content of serve.token in the home (created at the first start, mode
0600). The address is --listen, else the ServeListen key, else
127.0.0.1:8791; a non-loopback address is refused (L0001, exit 1).

On SIGTERM it refuses new requests (503 L0005), lets a running sequence
reach its next journaled step, removes serve.json and exits 0. Whatever it
leaves unfinished, the next start recovers. Run it at boot instead of
recover (docs/recovery.md has a systemd unit; on Windows see
"wbpay-engine service install").

While it runs, the request and audit verbs of this CLI go through it.`,
		Example: `  wbpay-engine serve --home /var/lib/wbpay
  wbpay-engine serve --home ./pos1 --listen 127.0.0.1:8800
  curl -H "Authorization: Bearer $(cat ./pos1/serve.token)" http://127.0.0.1:8800/v1/health`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.service {
				return g.runService(f)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return g.serve(ctx, f, nil)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "", "loopback host:port to listen on (default: the ServeListen key, else "+api.DefaultListen+"; port 0 picks a free one)")
	fl.BoolVar(&f.service, "service", false, "run as a Windows service (started by the service manager; see `wbpay-engine service install`)")
	fl.DurationVar(&f.keepAlive, "keep-alive", 0, "interval of SSE keep-alive comments (default 15s)")
	fl.IntVar(&f.sseBuffer, "sse-buffer", 0, "events an SSE client may lag behind before it is dropped (default 1024)")
	fl.DurationVar(&f.sseWrite, "sse-write-timeout", 0, "bound of one write to a client (default 30s)")
	for _, n := range []string{"keep-alive", "sse-buffer", "sse-write-timeout"} {
		_ = fl.MarkHidden(n)
	}
	return cmd
}

// listenAddr is --listen, else the home's ServeListen, else the default.
func (g *globals) listenAddr(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cfg, err := config.Load(layout.Home(g.home).Conf())
	if err != nil {
		return "", withExit(ExitLibrary, fmt.Errorf("%s: %w", paytree.L0001, err))
	}
	if cfg.ServeListen != "" {
		return cfg.ServeListen, nil
	}
	return api.DefaultListen, nil
}

// version is the module version of this binary, for /v1/health.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// serveVerifyEvery is how often the daemon verifies its whole journal
// (once right after start, then at this interval).
const serveVerifyEvery = time.Hour

// serveStopBudget bounds the stop: the engine's close, then the HTTP
// server's (local-api.md: exit within 10 s).
const serveStopBudget = 8 * time.Second

// serve runs the daemon until ctx is done; ready (may be nil) is called
// with the URL once it listens.
func (g *globals) serve(ctx context.Context, f serveFlags, ready func(url string)) error {
	if err := g.checkHome(); err != nil {
		return err
	}
	addr, err := g.listenAddr(f.listen)
	if err != nil {
		return err
	}
	if err := api.CheckListen(addr); err != nil {
		def, _ := paytree.LookupError(paytree.L0001)
		return withExit(ExitLibrary, fmt.Errorf("%s: %s: --listen/ServeListen: %w", paytree.L0001, def.Message, err))
	}
	token, err := api.LoadOrCreateToken(g.home)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("%s: %w", paytree.L0001, err))
	}
	g.gatewayWait = -1 // the daemon waits for the gateway as long as it takes
	// A long-running engine verifies its whole journal in the background,
	// so damage outside what Open checks is found before a later send.
	g.engineOpts = append(g.engineOpts, wbpay.WithBackgroundVerify(serveVerifyEvery))
	eng, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	engClosed := false
	defer func() {
		if !engClosed {
			_ = eng.Close()
		}
	}()
	stopShip := g.startShipping(eng) // ShipURL: the journal to HQ (docs/hq.md)
	defer stopShip()
	ln, err := api.Listen(addr)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("listen on %s: %w", addr, err))
	}
	log := zap.NewNop()
	if g.verbose {
		log = zap.New(stderrCore(g))
	}
	srvAPI, err := api.New(api.Options{Engine: eng, Token: token, Logger: log, Version: version(), KeepAlive: f.keepAlive,
		ClientBuffer: f.sseBuffer, WriteTimeout: f.sseWrite, Damaged: damagedHook(eng)})
	if err != nil {
		_ = ln.Close()
		return withExit(ExitLibrary, err)
	}
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := &http.Server{Handler: srvAPI.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	pid := os.Getpid()
	if err := api.WriteServeFile(g.home, url, pid, time.Now()); err != nil {
		srvAPI.BeginClose()
		_ = hs.Close()
		return withExit(ExitLibrary, fmt.Errorf("write %s: %w", api.ServeFile, err))
	}
	fmt.Fprintf(g.stderr, "serving the local API on %s (home %s; clients authenticate with the token in %s)\n", url, g.home, layout.Home(g.home).Token())
	if ready != nil {
		ready(url)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	fmt.Fprintln(g.stderr, "stopping: new requests are refused; the running sequence reaches its next journaled step")
	srvAPI.BeginClose()
	_ = api.RemoveServeFile(g.home, pid)
	stopShip()
	closed := make(chan error, 1)
	go func() { closed <- eng.Close() }()
	select {
	case err := <-closed:
		engClosed = true
		if err != nil {
			fmt.Fprintln(g.stderr, "wbpay-engine: closing the engine:", err)
		}
	case <-time.After(serveStopBudget):
		engClosed = true // left to the process exit; the next start recovers
		fmt.Fprintln(g.stderr, "wbpay-engine: the engine did not close in time; the next start recovers what is unfinished")
	}
	cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return withExit(ExitLibrary, fmt.Errorf("serve: %w", serveErr))
	}
	fmt.Fprintln(g.stderr, "stopped")
	return nil
}

// damagedHook reports a damaged journal for /v1/health ("damaged").
func damagedHook(eng *wbpay.Engine) func() error { return eng.Damaged }
