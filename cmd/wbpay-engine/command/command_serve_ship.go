package command

import (
	"context"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/ship"
)

// startShipping ships the engine's journal to HQ in a goroutine of its own
// when the configuration sets ShipURL (nothing in the payment path waits
// for it). The returned stop ends shipping, records the last acknowledged
// Seq and waits; call it before closing the engine. It may be called twice.
func (g *globals) startShipping(eng *wbpay.Engine) (stop func()) {
	cfg := eng.Config()
	if cfg == nil || cfg.ShipURL == "" {
		return func() {}
	}
	lg := infoLogger(g, "ship")
	s, err := ship.New(ship.Options{Journal: eng.Shipping(), Config: cfg, Home: g.home, Logger: lg})
	if err != nil {
		fmt.Fprintln(g.stderr, "wbpay-engine: not shipping the journal:", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			lg.Error("shipping stopped", zap.Error(err))
		}
	}()
	fmt.Fprintf(g.stderr, "shipping the journal to %s\n", cfg.ShipURL)
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}
