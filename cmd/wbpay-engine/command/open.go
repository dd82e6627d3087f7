package command

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
)

// checkHome returns an exit-1 error when the home directory or its
// configuration file is missing, naming the path and the fix.
func (g *globals) checkHome() error {
	fi, err := os.Stat(g.home)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return withExit(ExitLibrary, fmt.Errorf("home %s does not exist: create it with `wbpay-engine init --home %s` (or pass --home / set WBPAY_HOME)", g.home, g.home))
	case err != nil:
		return withExit(ExitLibrary, fmt.Errorf("home %s: %w", g.home, err))
	case !fi.IsDir():
		return withExit(ExitLibrary, fmt.Errorf("home %s is not a directory", g.home))
	}
	conf := layout.Home(g.home).Conf()
	if _, err := os.Stat(conf); errors.Is(err, fs.ErrNotExist) {
		return withExit(ExitLibrary, fmt.Errorf("%s: no configuration file in the home (L0001): run `wbpay-engine init --home %s` or copy one there", conf, g.home))
	}
	return nil
}

// loadCAs reads a PEM bundle of CA certificates.
func loadCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--gateway-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("--gateway-ca %s: no PEM certificate in the file", path)
	}
	return pool, nil
}

// stderrCore writes log records to w as console lines (--verbose).
func stderrCore(g *globals) zapcore.Core {
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zapcore.NewCore(enc, zapcore.AddSync(g.stderr), zapcore.DebugLevel)
}

// openEngine opens the engine on the home with the global flags. Its error
// carries exit code 1 (library or configuration error).
// defaultGatewayWait is how long a request verb lets start-up recovery wait
// for an unreachable gateway before it goes on (the transactions stay
// unfinished for the next start); recover has its own --gateway-wait.
const defaultGatewayWait = 30 * time.Second

func (g *globals) openEngine(ctx context.Context) (*wbpay.Engine, error) {
	if err := g.checkHome(); err != nil {
		return nil, err
	}
	opts := []wbpay.Option{wbpay.WithHome(g.home)}
	if g.gatewayCA != "" {
		pool, err := loadCAs(g.gatewayCA)
		if err != nil {
			return nil, withExit(ExitLibrary, err)
		}
		opts = append(opts, wbpay.WithRootCAs(pool))
	}
	if g.httpTimeout > 0 {
		opts = append(opts, wbpay.WithHTTPTimeout(g.httpTimeout))
	}
	if g.verbose {
		opts = append(opts, wbpay.WithLogTee(stderrCore(g)))
	}
	// gatewayWait < 0 (the daemon): wait for the gateway as long as it takes.
	if wait := g.gatewayWait; wait >= 0 {
		if wait == 0 {
			wait = defaultGatewayWait
		}
		opts = append(opts, wbpay.WithRecoveryPatience(wait))
	}
	opts = append(opts, g.engineOpts...)
	eng, err := wbpay.Open(ctx, opts...)
	if err != nil {
		return nil, withExit(ExitLibrary, explainOpen(err))
	}
	cfg := eng.Config()
	if w := keys.ModeWarning(cfg.ResolvePath(g.home, cfg.PrivateKeyFile)); w != "" {
		fmt.Fprintf(g.stderr, "warning: %s\n", w)
	}
	return eng, nil
}

// explainOpen adds the operator's next step to an Open error.
func explainOpen(err error) error {
	var we *wbpay.Error
	if errors.As(err, &we) {
		switch we.Code {
		case paytree.L0006:
			return fmt.Errorf("%w\nanother wbpay-engine (or the POS) is using this home; stop it or wait for it to finish", err)
		case paytree.L0001:
			return fmt.Errorf("%w\ncheck it with `wbpay-engine config check`", err)
		}
	}
	return err
}

// errNoJournal says that the home has no journal yet.
var errNoJournal = errors.New("no journal yet")

// openJournal opens the home's journal read-only for the audit verbs: it
// never resumes or writes anything. errNoJournal (wrapped) when the home has
// none yet; an exit-1 error naming L0006 when an engine holds the home.
func (g *globals) openJournal() (*journal.Journal, error) {
	fi, err := os.Stat(g.home)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, withExit(ExitLibrary, fmt.Errorf("home %s does not exist (pass --home or set WBPAY_HOME)", g.home))
	case err != nil:
		return nil, withExit(ExitLibrary, fmt.Errorf("home %s: %w", g.home, err))
	case !fi.IsDir():
		return nil, withExit(ExitLibrary, fmt.Errorf("home %s is not a directory", g.home))
	}
	if err := wbpay.CheckJournalPresent(g.home); err != nil {
		return nil, withExit(ExitLibrary, err)
	}
	path := layout.Home(g.home).Journal()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s (nothing has been paid with this home)", errNoJournal, path)
	}
	j, err := journal.Open(path, journal.Options{ReadOnly: true})
	switch {
	case err == nil:
		return j, nil
	case errors.Is(err, journal.ErrLocked):
		def, _ := paytree.LookupError(paytree.L0006)
		return nil, withExit(ExitLibrary, fmt.Errorf("%s: %s: %w\nan engine (a running wbpay-engine or the POS) holds the home; audit commands read the journal when it is free", paytree.L0006, def.Message, err))
	default:
		return nil, withExit(ExitLibrary, err)
	}
}

// exitForError maps an error returned by a request method (refused before
// anything was sent) to an exit code: L0003 is a usage error, the rest of
// the L-codes library errors.
func exitForError(err error) int {
	var we *wbpay.Error
	if errors.As(err, &we) && we.Code == paytree.L0003 {
		return ExitUsage
	}
	return ExitLibrary
}
