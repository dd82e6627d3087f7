package command

import (
	"fmt"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/logging"
)

// startOverJSON is init --start-over's -o json output.
type startOverJSON struct {
	Home      string `json:"home"`
	Abandoned string `json:"abandonedJournalId,omitempty"`
}

// startOver is init --start-over: it gives up the home's lost journal,
// logged in the home's Log/.
func (g *globals) startOver() error {
	if err := g.checkHome(); err != nil {
		return err
	}
	cfg, err := config.Load(layout.Home(g.home).Conf())
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	lg, err := logging.Open(logging.Options{Dir: layout.Home(g.home).Log(), Level: cfg.LogLevel, Expire: cfg.LogExpire})
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("open the log: %w", err))
	}
	defer lg.Close()
	id, err := wbpay.StartOver(g.home, lg, time.Now())
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	if g.json() {
		return jsonOrExit(g, startOverJSON{Home: g.home, Abandoned: id})
	}
	if id == "" {
		fmt.Fprintf(g.stdout, "%s remembers no journal: nothing to give up; the next start creates a journal\n", g.home)
		return nil
	}
	fmt.Fprintf(g.stdout, "gave up the lost journal %s of %s (logged in %s); the next start creates a new journal\n",
		id, g.home, layout.Home(g.home).Log())
	return nil
}
