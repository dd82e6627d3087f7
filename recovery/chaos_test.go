//go:build crashmatrix

package recovery_test

import (
	"flag"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// The soak's length and seed, by flag (go test -tags crashmatrix -run
// TestChaosSoak ./recovery/ -chaos.duration 30m -chaos.seed N) or by
// environment (WBPAY_CHAOS_DURATION, WBPAY_CHAOS_SEED); a flag wins.
var (
	chaosDuration = flag.Duration("chaos.duration", 0, "length of TestChaosSoak (default $WBPAY_CHAOS_DURATION, else 45s)")
	chaosSeed     = flag.Int64("chaos.seed", 0, "seed of TestChaosSoak, to replay a run (default $WBPAY_CHAOS_SEED, else the clock)")
)

// TestChaosSoak runs random operations with random gateway faults against
// one home, kills the engine at random moments, recovers after every step
// and checks the invariants each time. It runs for -chaos.duration (45 s by
// default, the CI run); -chaos.seed replays a run.
func TestChaosSoak(t *testing.T) {
	seed := *chaosSeed
	if s := os.Getenv("WBPAY_CHAOS_SEED"); seed == 0 && s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("WBPAY_CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	duration := *chaosDuration
	if s := os.Getenv("WBPAY_CHAOS_DURATION"); duration == 0 && s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("WBPAY_CHAOS_DURATION=%q: %v", s, err)
		}
		duration = d
	}
	if duration <= 0 {
		duration = 45 * time.Second
	}
	fmt.Fprintf(os.Stdout, "chaos soak: seed %d (replay with -chaos.seed %d)\n", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	engineBinary(t)
	dir := t.TempDir()
	g := newGateway(t, dir, nil, seed)
	defer g.Close()
	// The engine reaches the gateway through a relay the soak cuts at times.
	u, err := url.Parse(g.URL())
	if err != nil {
		t.Fatal(err)
	}
	network, err := testgw.NewRelay(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer network.Down()
	home := newHomeAt(t, dir, "https://"+network.Addr)

	var orders []string
	steps, kills, violations, escalated, cuts, waited := 0, 0, 0, 0, 0, 0
	outages, retries, busyResends := 0, 0, 0
	deadline := time.Now().Add(duration)
	for time.Now().Before(deadline) {
		steps++
		faults := randomFaults(rng)
		// Every request is tagged with its step (receipt number, refund
		// remark), so the invariant check can tell one intent sent twice.
		intent := "S" + strconv.Itoa(steps)
		var args []string
		switch n := rng.Intn(10); {
		case n < 5 || len(orders) == 0:
			classes := []int{0, 0, 0, 1, 3, 4, 6}
			args = []string{"pay", "--amount", strconv.Itoa(100 + rng.Intn(5000)), "--user-code", classCode(classes[rng.Intn(len(classes))]), "--pay-type", "PAYPAY", "--receipt-no", intent}
		case n < 7:
			args = []string{"refund", "--order-id", orders[rng.Intn(len(orders))], "--amount", strconv.Itoa(1 + rng.Intn(2000)), "--remark", intent}
		case n < 8:
			args = []string{"reverse", "--order-id", orders[rng.Intn(len(orders))]}
		default:
			args = []string{"deposit", "--amount", strconv.Itoa(100 + rng.Intn(3000)), "--user-code", "36" + strconv.Itoa(rng.Intn(1e8)), "--pay-type", "LINE", "--receipt-no", intent}
		}
		// As the README asks of POS integrators: every request carries an
		// idempotency key, so that the cashier's retry below is safe even
		// when the first one had finished before the crash.
		args = append(args, "--idempotency-key", intent)
		if (args[0] == "refund" || args[0] == "reverse") && rng.Intn(4) == 0 {
			// Busy on the resend: the first send processed and its answer
			// lost, the confirm lost, the resend (maybe) answered E9002.
			op := paytree.OpRefund
			if args[0] == "reverse" {
				op = paytree.OpReverse
			}
			busyResends++
			faults = []sim.Fault{{Kind: sim.FaultLost, Op: op, Count: 1}, {Kind: sim.FaultLost, Op: paytree.OpConfirm, Probability: 0.7},
				{Kind: sim.FaultE9002, Op: op, Probability: 0.5}}
		}
		g.Sim.SetFaults(faults)
		killAfter := time.Duration(0)
		if rng.Intn(5) < 3 { // most steps die somewhere between start-up and the answer
			killAfter = time.Duration(1+rng.Intn(60)) * time.Millisecond
		}
		cut := rng.Intn(8) == 0 // the network is down when the engine restarts
		var outage chan struct{}
		if !cut && rng.Intn(8) == 0 {
			// The network goes down in the middle of the live sequence and
			// comes back a moment later.
			outages++
			outage = make(chan struct{})
			down, up := time.Duration(rng.Intn(80))*time.Millisecond, time.Duration(300+rng.Intn(1200))*time.Millisecond
			go func() {
				defer close(outage)
				time.Sleep(down)
				network.Down()
				time.Sleep(up)
				if err := network.Up(); err != nil {
					t.Errorf("restore the network: %v", err)
				}
			}()
		}
		res := runChild(t, home, g, "", "", killAfter, args...)
		if outage != nil {
			<-outage
		}
		if res.killed {
			kills++
			if rng.Intn(2) == 0 {
				// The cashier repeats the command after the crash: its own
				// recovery finishes the first one, and nothing is sent twice.
				retries++
				runChild(t, home, g, "", "", 0, args...)
			}
		}
		if cut {
			cuts++
			v, w := recoverOffline(t, home, g, network)
			waited += w
			for _, msg := range v {
				violations++
				fmt.Fprintf(os.Stdout, "chaos soak: violation at seed %d step %d (%v, network down, killed %v): %s\n", seed, steps, args, res.killed, msg)
				t.Errorf("seed %d step %d (%v, network down): %s", seed, steps, args, msg)
			}
		}
		// Recovery faces the same faults, at a lower rate.
		for i := range faults {
			faults[i].Probability /= 3
		}
		g.Sim.SetFaults(faults)
		recoverHome(t, home, g)
		g.Sim.SetFaults(nil)
		l := g.Sim.Ledger()
		v, esc := checkInvariants(home, l)
		v = append(v, doubledIntents(t, home, l)...)
		escalated = esc
		for _, msg := range v {
			violations++
			// On stdout with the summary's prefix too, so CI's filtered log shows it.
			fmt.Fprintf(os.Stdout, "chaos soak: violation at seed %d step %d (%v, faults %v, killed %v): %s\n", seed, steps, args, faults, res.killed, msg)
			t.Errorf("seed %d step %d (%v, faults %v, killed %v): %s", seed, steps, args, faults, res.killed, msg)
		}
		if len(v) > 0 {
			keepHome(t, home, seed)
			break
		}
		orders = ordersOf(g.Sim.Ledger())
	}
	fmt.Fprintf(os.Stdout, "chaos soak: seed %d, %d steps, %d kills (%d repeated by the cashier), %d network cuts (%d transactions waited for the gateway), %d outages during a request, %d busy resends, %d escalated, %d invariant violations\n",
		seed, steps, kills, retries, cuts, waited, outages, busyResends, escalated, violations)
	assert.Zero(t, violations)
}

// randomFaults draws a step's faults: up to two, of every kind of contract
// section 10 on any operation, each short enough that a step takes seconds
// at most. The draws are in a fixed order, so a seed replays.
func randomFaults(rng *rand.Rand) []sim.Fault {
	kinds := []sim.FaultKind{sim.FaultLost, sim.FaultHold, sim.FaultDelayBefore, sim.FaultDelayAfter,
		sim.Fault500Before, sim.Fault500After, sim.FaultBadSign, sim.FaultE9001, sim.FaultE9002,
		sim.FaultExtraField, sim.FaultProcessing}
	ops := []paytree.Operation{paytree.OpPay, paytree.OpRefund, paytree.OpReverse, paytree.OpDeposit, paytree.OpConfirm, 0}
	var faults []sim.Fault
	for i := rng.Intn(3); i > 0; i-- {
		f := sim.Fault{Kind: kinds[rng.Intn(len(kinds))], Op: ops[rng.Intn(len(ops))], Probability: 0.2 + 0.5*rng.Float64()}
		switch f.Kind {
		case sim.FaultProcessing:
			f.Settle = time.Duration(rng.Intn(1500)) * time.Millisecond
			f.SettleFail = rng.Intn(3) == 0
		case sim.FaultHold, sim.FaultDelayBefore, sim.FaultDelayAfter:
			// Up to 3 s: past recovery's 2 s HTTP timeout at times, so the
			// recovering engine gives up on some answers too.
			f.Delay = time.Duration(100+rng.Intn(2900)) * time.Millisecond
		}
		faults = append(faults, f)
	}
	return faults
}

// doubledIntents returns a violation for every intent (a soak step's tag:
// a pay's or deposit's receipt number, a refund's remark) that moved money
// more than once at the gateway: two charges or two refunds for one sale.
func doubledIntents(t *testing.T, home string, l sim.Ledger) []string {
	j, err := journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open the journal: %v", err)
	}
	defer j.Close()
	txns, err := j.List(journal.Query{})
	if err != nil {
		t.Fatalf("list the journal: %v", err)
	}
	moved := map[string][]string{}
	for _, tx := range txns {
		switch tx.Op {
		case paytree.OpPay, paytree.OpDeposit:
			o, ok := l.OrderByRequestID(tx.ID)
			switch {
			case !ok || tx.ReceiptNo == "":
			case o.TransStatus == int(paytree.StatusPaid), o.TransStatus == int(paytree.StatusPartiallyRefunded),
				o.TransStatus == int(paytree.StatusRefunded), o.TransStatus == int(paytree.StatusDeposited):
				moved[tx.Op.String()+" "+tx.ReceiptNo] = append(moved[tx.Op.String()+" "+tx.ReceiptNo], tx.ID)
			}
		case paytree.OpRefund:
			r, ok := l.RequestByID(tx.ID)
			if tag := tx.Request[paytree.FRemark]; ok && tag != "" && r.ResultCode == paytree.CodeOK {
				moved["refund "+tag] = append(moved["refund "+tag], tx.ID)
			}
		}
	}
	var out []string
	for intent, ids := range moved {
		if len(ids) > 1 {
			out = append(out, fmt.Sprintf("one intent moved money %d times (%s): transactions %v", len(ids), intent, ids))
		}
	}
	return out
}

// keepHome copies a home whose invariants broke out of the test's temporary
// directory, so its journal can be audited (wbpay-engine history/show).
func keepHome(t *testing.T, home string, seed int64) {
	dst, err := os.MkdirTemp("", fmt.Sprintf("wbpay-chaos-%d-", seed))
	if err == nil {
		err = os.CopyFS(dst, os.DirFS(home))
	}
	if err != nil {
		t.Logf("keep the home for audit: %v", err)
		return
	}
	fmt.Fprintf(os.Stdout, "chaos soak: the home is kept for audit in %s\n", dst)
}

// recoverOffline runs recovery with the network cut, for a second at most,
// and returns what it did wrong: with no gateway to ask, every unfinished
// transaction must stay unfinished and be reported as waiting for the
// gateway, and none may be escalated.
func recoverOffline(t *testing.T, home string, g *gateway, network *testgw.Relay) (violations []string, waited int) {
	network.Down()
	defer func() {
		if err := network.Up(); err != nil {
			t.Fatalf("restore the network: %v", err)
		}
	}()
	before := escalatedIn(t, home)
	for _, r := range recoverHomeWithin(t, home, g, time.Second) {
		if r.GatewayUnreachable {
			waited++
		}
		switch {
		case !r.GatewayUnreachable:
			violations = append(violations, fmt.Sprintf("%s %s was resumed without a gateway and not reported as waiting for it (%+v)", r.Operation, r.TransactionID, r.Result))
		case r.Result == nil || r.Result.State.Terminal():
			violations = append(violations, fmt.Sprintf("%s %s ended without a gateway: %+v", r.Operation, r.TransactionID, r.Result))
		case r.Err == nil || r.Err.Code != paytree.N0001:
			violations = append(violations, fmt.Sprintf("%s %s waits for the gateway but reports %v", r.Operation, r.TransactionID, r.Err))
		}
	}
	if after := escalatedIn(t, home); after != before {
		violations = append(violations, fmt.Sprintf("%d transactions escalated while the gateway was unreachable", after-before))
	}
	return violations, waited
}

// escalatedIn counts the escalated transactions of home's journal.
func escalatedIn(t *testing.T, home string) int {
	j, err := journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open the journal: %v", err)
	}
	defer j.Close()
	txns, err := j.List(journal.Query{State: fsm.StateEscalated})
	if err != nil {
		t.Fatalf("list escalated: %v", err)
	}
	return len(txns)
}

// ordersOf lists the pay orders the gateway holds money for.
func ordersOf(l sim.Ledger) []string {
	var out []string
	for _, o := range l.Orders {
		if o.Operation == "pay" && o.MoneyHeld() > 0 {
			out = append(out, o.OrderID)
		}
	}
	return out
}
