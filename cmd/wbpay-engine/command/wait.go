package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// approval helps a pay that answered WAITING when PayConfirmPollingMode is
// no (the application must call PayConfirm): on a terminal it prompts the
// cashier, otherwise it polls with PayConfirm(true) at the configured pace.
// With PayConfirmPollingMode yes the engine polls by itself and approval
// only tells a terminal what it waits for.
type approval struct {
	g    *globals
	eng  *wbpay.Engine
	wait chan wbpay.Completion
	quit chan struct{} // closed when the request (or recovery) has ended
	wg   sync.WaitGroup
}

func (g *globals) startApproval(ctx context.Context, eng *wbpay.Engine) *approval {
	a := &approval{g: g, eng: eng, wait: make(chan wbpay.Completion, 1), quit: make(chan struct{})}
	eng.OnComplete(func(c wbpay.Completion) {
		if c.TransStatus == paytree.StatusWaiting && c.Request == paytree.OpPay {
			select {
			case a.wait <- c:
			default:
			}
		}
	})
	eng.OnError(func(f wbpay.Failure) {
		if f.Err != nil && f.Err.Code == paytree.W0001 && g.isTTY(g.stderr) {
			fmt.Fprintln(g.stderr, "  not approved yet (W0001): the customer has not entered the passcode")
		}
	})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		select {
		case <-a.quit:
		case <-ctx.Done():
		case c := <-a.wait:
			a.help(ctx, c)
		}
	}()
	return a
}

// stop ends the helper once the request has ended.
func (a *approval) stop() {
	close(a.quit)
	a.wg.Wait()
}

// deadline returns when the engine gives up waiting for the customer.
func (a *approval) deadline(id string) time.Time {
	cfg := a.eng.Config()
	since := a.g.clk().Now()
	if t, err := a.eng.Audit().Get(id); err == nil && !t.WaitingSince.IsZero() {
		since = t.WaitingSince
	}
	return since.Add(cfg.PayConfirmPollingTimeout)
}

func (a *approval) help(ctx context.Context, c wbpay.Completion) {
	cfg := a.eng.Config()
	deadline := a.deadline(c.TransactionID)
	tty := a.g.isTTY(a.g.stderr)
	if cfg.PayConfirmPollingMode {
		if tty {
			fmt.Fprintf(a.g.stderr, "waiting for the customer to approve on their phone: the engine asks the gateway every %s and gives up in %s\n",
				cfg.PayConfirmPollingInterval, a.left(deadline))
		}
		return
	}
	if a.g.isTTY(a.g.stdin) {
		a.prompt(ctx, deadline)
		return
	}
	if tty {
		fmt.Fprintf(a.g.stderr, "waiting for the customer to approve on their phone: asking the gateway every %s, giving up in %s\n",
			cfg.PayConfirmPollingInterval, a.left(deadline))
	}
	a.poll(ctx, cfg.PayConfirmPollingWait, cfg.PayConfirmPollingInterval)
}

func (a *approval) left(deadline time.Time) time.Duration {
	d := deadline.Sub(a.g.clk().Now()).Round(time.Second)
	return max(d, 0)
}

// poll calls PayConfirm(true) after first, then every interval, until the
// request ends.
func (a *approval) poll(ctx context.Context, first, interval time.Duration) {
	clk := a.g.clk()
	next := first
	for {
		select {
		case <-a.quit:
			return
		case <-ctx.Done():
			return
		case <-clk.After(next):
		}
		next = interval
		if err := a.eng.PayConfirm(true); err != nil {
			var we *wbpay.Error
			if errors.As(err, &we) && (we.Code == paytree.L0004 || we.Code == paytree.L0008) {
				continue // still answering the previous one, or not waiting yet: until quit
			}
			return // L0005: closed
		}
	}
}

// prompt asks the cashier on the terminal: Enter asks the gateway now
// (PayConfirm(true)), c cancels (PayConfirm(false)). At the end of input it
// falls back to polling.
func (a *approval) prompt(ctx context.Context, deadline time.Time) {
	cfg := a.eng.Config()
	lines := make(chan string)
	go func() { // blocks on the terminal; the process ends it
		defer close(lines)
		for {
			s, err := a.g.reader().ReadString('\n')
			if s != "" || err == nil {
				select {
				case lines <- strings.TrimSpace(s):
				case <-a.quit:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	show := func() {
		fmt.Fprintf(a.g.stderr, "The customer must approve on their phone. Enter = ask the gateway now, c + Enter = cancel the payment (time left %s): ",
			a.left(deadline))
	}
	show()
	tick := a.g.clk().NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-a.quit:
			fmt.Fprintln(a.g.stderr)
			return
		case <-ctx.Done():
			return
		case <-tick.Chan():
			if a.g.isTTY(a.g.stderr) {
				fmt.Fprintf(a.g.stderr, "\r\033[K")
				show()
			}
		case s, ok := <-lines:
			if !ok {
				fmt.Fprintf(a.g.stderr, "\n(no more input) waiting for the customer to approve on their phone: asking the gateway every %s, giving up in %s\n",
					cfg.PayConfirmPollingInterval, a.left(deadline))
				a.poll(ctx, 0, cfg.PayConfirmPollingInterval)
				return
			}
			switch strings.ToLower(s) {
			case "":
				fmt.Fprintln(a.g.stderr, "asking the gateway…")
				a.confirm(true)
			case "c", "cancel":
				fmt.Fprintln(a.g.stderr, "cancelling: the payment will be reversed unless it was already approved…")
				a.confirm(false)
				return // the engine ends the wait: nothing more to ask
			default:
				fmt.Fprintln(a.g.stderr, "type Enter to ask the gateway, or c and Enter to cancel")
			}
			show()
		}
	}
}

// confirm calls PayConfirm(v). While the previous confirm is being answered
// (L0004), or the pay is not waiting on PayConfirm (L0008: the WAITING
// event may arrive before the engine waits, and a pay resumed by recovery
// waits only once recovery reaches it), it tries again until quit.
func (a *approval) confirm(v bool) {
	for {
		err := a.eng.PayConfirm(v)
		if err == nil {
			return
		}
		var we *wbpay.Error
		if !errors.As(err, &we) {
			fmt.Fprintln(a.g.stderr, "  ", err)
			return
		}
		switch we.Code {
		case paytree.L0004, paytree.L0008:
		default:
			fmt.Fprintln(a.g.stderr, "  ", err)
			return
		}
		select {
		case <-a.quit:
			return
		case <-a.g.clk().After(20 * time.Millisecond):
		}
	}
}

// progress tells a terminal (stderr) what the running transaction waits
// for and for how long, from the journal's view of it. It does nothing when
// stderr is not a terminal.
type progress struct {
	quit chan struct{}
	wg   sync.WaitGroup
}

func (g *globals) startProgress(ctx context.Context, eng *wbpay.Engine) *progress {
	p := &progress{quit: make(chan struct{})}
	if !g.isTTY(g.stderr) {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := g.clk().NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		seen := map[string]wbpay.State{}
		down := false // recovery waits for an unreachable gateway
		for {
			select {
			case <-p.quit:
				return
			case <-ctx.Done():
				return
			case <-tick.Chan():
			}
			if since, ok := eng.GatewayUnreachableSince(); ok != down {
				down = ok
				if down {
					fmt.Fprintf(g.stderr, "\r\033[Kthe gateway cannot be reached (no connection since %s): recovery keeps the transactions as they are and retries until it answers\n",
						since.In(paytree.JST).Format("15:04:05"))
				} else {
					fmt.Fprintf(g.stderr, "\r\033[Kthe gateway accepts connections again: resuming\n")
				}
			}
			txns, err := eng.Audit().Unfinished()
			if err != nil {
				continue
			}
			for _, t := range txns {
				if seen[t.ID] == t.State {
					continue
				}
				seen[t.ID] = t.State
				if s := waitingFor(eng, g, t); s != "" {
					// \r and erase-line: a prompt may be on the line.
					fmt.Fprintf(g.stderr, "\r\033[K%s %s: %s\n", t.Op, shortID(t.ID), s)
				}
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
}

// waitingFor says what a transaction in its state waits for, and how long.
func waitingFor(eng *wbpay.Engine, g *globals, t *journal.Txn) string {
	cfg := eng.Config()
	timeout := cfg.HttpTimeout
	if g.httpTimeout > 0 {
		timeout = g.httpTimeout
	}
	switch t.State {
	case wbpay.StateSending:
		return fmt.Sprintf("sent; waiting for the gateway's answer (at most %s)", timeout)
	case wbpay.StateUnknown:
		return fmt.Sprintf("the answer did not arrive; asking the gateway what happened in %s", cfg.RequestConfirmInterval)
	case wbpay.StateConfirming:
		if !t.WaitingSince.IsZero() && t.Op == paytree.OpPay {
			return "asking the gateway whether the customer has approved"
		}
		return fmt.Sprintf("asking the gateway what happened (confirm; at most %s per question, %d question(s))", timeout, cfg.RequestConfirmNum)
	case wbpay.StateWaiting:
		left := cfg.PayConfirmPollingTimeout
		if !t.WaitingSince.IsZero() {
			left = max(t.WaitingSince.Add(cfg.PayConfirmPollingTimeout).Sub(g.clk().Now()).Round(time.Second), 0)
		}
		return fmt.Sprintf("waiting for the customer to approve on their phone (gives up in %s)", left)
	case wbpay.StateResending:
		return fmt.Sprintf("resending it with the same request id (at most %s)", timeout)
	case wbpay.StateReversing:
		return fmt.Sprintf("undoing it (reverse) so that nothing stays charged (at most %s per attempt)", timeout)
	}
	return ""
}

// shortID abbreviates a transaction id for progress lines.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:8] + "…" + id[len(id)-4:]
	}
	return id
}
