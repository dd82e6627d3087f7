package command

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wbpay/wbpay/api/client"
	"github.com/wbpay/wbpay/paytree"
)

// The store-day verbs (report, receipt, resolve) beside a running daemon:
// they go through its API, as the request and audit verbs do.

// retryRecovering calls f until it is not refused because the daemon's
// start-up recovery is still running (503 L0004), as the verbs without a
// daemon first await recovery; ctx (Ctrl-C) ends the wait.
func (g *globals) retryRecovering(ctx context.Context, c *client.Client, f func() error) error {
	said := false
	for {
		err := f()
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusServiceUnavailable || ce.Code != paytree.L0004 {
			return err
		}
		if !said {
			said = true
			fmt.Fprintln(g.stderr, "the daemon is still recovering unfinished transactions: waiting for it to finish")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// daemonFailed reports an error answer of a store-day route with exit code
// 1, as the verb reports the engine's error without a daemon.
func (g *globals) daemonFailed(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return withExit(ExitLibrary, errorOf(&ce.ErrorObject))
	}
	return withExit(ExitLibrary, fmt.Errorf("the daemon: %w", err))
}
