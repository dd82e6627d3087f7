package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
	"github.com/wbpay/wbpay/transport"
)

// RecoveryResult is measurement 5: unfinished pays (journaled in sending)
// resumed by wbpay.Open + WaitRecovered against the simulator.
type RecoveryResult struct {
	N        int // unfinished pays resumed
	Seen     int // of them, pays the simulator had processed (confirm: PAID)
	Paid     int // ended paid
	Reversed int // ended reversed (the simulator never saw them: confirm E3001, then reverse)
	Other    int // ended otherwise (should be 0)

	Total time.Duration // wbpay.Open until WaitRecovered returns

	// Counted in the journal after recovery: every entry recovery appended
	// is one bbolt Update; every confirm or reverse entry is followed by one
	// exchange, which costs two RSA signs and two verifies (the engine signs
	// the request, the simulator verifies it, signs its answer, the engine
	// verifies that).
	Commits, Exchanges int
	Floor              time.Duration // what those commits and exchanges cost at the floor's in-loop medians
}

// PerTxn returns the measured time per resumed pay.
func (r RecoveryResult) PerTxn() time.Duration { return perOp(r.Total, r.N) }

// FloorPerTxn returns the floor's cost per resumed pay.
func (r RecoveryResult) FloorPerTxn() time.Duration { return perOp(r.Floor, r.N) }

// measureRecovery journals n pays in sending, half of which the simulator
// has processed, and times the engine's start-up recovery of them.
func measureRecovery(ctx context.Context, k Keys, dir string, n int, parts Parts, progress func(string, ...any)) (RecoveryResult, error) {
	res := RecoveryResult{N: n}
	gw, err := newGateway(k)
	if err != nil {
		return res, err
	}
	defer gw.close()
	home := filepath.Join(dir, "recovery-home")
	// RequestConfirmInterval 0: confirm at once (the default waits 1 s
	// before each confirm, which would measure the wait, not the work).
	if err := writeHome(home, k, gw.srv.URL, nil, map[string]string{"RequestConfirmInterval": "0"}); err != nil {
		return res, err
	}
	client, err := transport.New(transport.Options{BaseURL: gw.srv.URL, PrivateKey: k.Client, GatewayKey: &k.Gateway.PublicKey,
		RootCAs: gw.pool(), Timeout: engineHTTPTimeout})
	if err != nil {
		return res, err
	}
	defer client.Close()

	j, err := journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{})
	if err != nil {
		return res, err
	}
	f := newFiller(j, n)
	res.Seen = n / 2
	now := time.Now().In(paytree.JST)
	progress("recovery: journaling %d pays in sending (%d of them processed by the simulator)", n, res.Seen)
	for i := range n {
		s := f.pay(now.Add(time.Duration(i-n)*time.Millisecond), i)
		if err := f.send(s); err != nil {
			_ = j.Close()
			return res, err
		}
		if i < res.Seen {
			if err := simPay(ctx, client, s); err != nil {
				_ = j.Close()
				return res, err
			}
		}
	}
	before, err := j.Stats()
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}

	progress("recovery: wbpay.Open + WaitRecovered")
	start := time.Now()
	eng, err := openEngine(ctx, home, gw.pool())
	res.Total = time.Since(start)
	if err != nil {
		return res, err
	}
	defer eng.Close()
	reps := eng.Recovered()
	if len(reps) != n {
		return res, fmt.Errorf("recovery resumed %d pays, want %d", len(reps), n)
	}
	for _, r := range reps {
		switch {
		case r.Result != nil && r.Result.State == fsm.StatePaid:
			res.Paid++
		case r.Result != nil && r.Result.State == fsm.StateReversed:
			res.Reversed++
		default:
			res.Other++
		}
	}
	err = eng.Audit().ForEachEntry(func(e journal.Entry) error {
		if e.Seq <= before.LastSeq {
			return nil
		}
		res.Commits++
		if e.Event == fsm.EvConfirm || e.Event == fsm.EvReverse {
			res.Exchanges++
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Floor = time.Duration(res.Commits)*parts.LoopCommit + time.Duration(res.Exchanges)*parts.LoopExchange
	progress("recovery: %d pays in %s (%d paid, %d reversed, %d other)", n, res.Total, res.Paid, res.Reversed, res.Other)
	return res, nil
}

// simPay sends pay s to the simulator directly, so that it has processed it
// (as if the engine had crashed after sending it).
func simPay(ctx context.Context, c *transport.Client, s *journal.Txn) error {
	f := floorRequest(0)
	delete(f, paytree.FSignType)
	f[paytree.FRequestID] = s.ID
	f[paytree.FAmount] = strconv.FormatInt(s.Amount, 10)
	f[paytree.FReceiptNo] = s.ReceiptNo
	paths := sim.DefaultPaths()
	r := c.Send(ctx, paths.Pay, f)
	if r.Outcome != transport.Answered || r.Fields[paytree.FResultCode] != paytree.CodeOK {
		return fmt.Errorf("pay %s to the simulator: %s %s %v", s.ID, r.Outcome, r.Fields[paytree.FResultCode], r.Err)
	}
	return nil
}
