//go:build crashmatrix

package recovery_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/internal/crashpoint"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

func classCode(n int) string { return "99" + strings.Repeat("0", 15) + fmt.Sprint(n) }

// scenario is one request run by the child, after an optional set-up pay
// and an optional preparing run.
type scenario struct {
	name   string
	faults []sim.Fault // armed on the gateway for the crashed run only
	setup  bool        // pay 1000 first (refund and reverse need an order)
	// prepare runs a child before the crashed one (after the set-up pay),
	// with its own faults; args then gets its transaction id instead of
	// the order id (resolve needs an escalated transaction).
	prepare *scenario
	// cutOn puts the network (a relay) between engine and gateway and cuts
	// it once the gateway has received a request of this operation (hold it
	// with a FaultHold): the engine then finds the gateway unreachable.
	cutOn paytree.Operation
	args  func(orderID string) []string
}

func payArgs(class int) func(string) []string {
	return func(string) []string {
		return []string{"pay", "--amount", "1000", "--user-code", classCode(class), "--pay-type", "PAYPAY"}
	}
}

var scenarios = []scenario{
	{name: "pay class 0", args: payArgs(0)},
	{name: "pay class 1", args: payArgs(1)},
	{name: "pay class 2", args: payArgs(2)},
	{name: "pay class 6", args: payArgs(6)},
	{name: "refund class 0", setup: true, args: func(o string) []string { return []string{"refund", "--order-id", o, "--amount", "300"} }},
	{name: "refund class 1", setup: true, faults: []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpRefund, Count: 1}},
		args: func(o string) []string { return []string{"refund", "--order-id", o, "--amount", "300"} }},
	{name: "reverse class 0", setup: true, args: func(o string) []string { return []string{"reverse", "--order-id", o} }},
	{name: "deposit class 0", args: depositArgs},
	{name: "pay answer lost", faults: []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpPay, Count: 1}}, args: payArgs(0)},
	{name: "pay 500 after processing", faults: []sim.Fault{{Kind: sim.Fault500After, Op: paytree.OpPay, Count: 1}}, args: payArgs(0)},
}

// moreScenarios reach the crash points that the scenarios above do not
// pass (escalation, refusals, resends, reverse confirms, park, resolve):
// the crash matrix runs both lists, the power-cut matrix the first.
var moreScenarios = []scenario{
	// Escalation: the pay's outcome stays unknown (every confirm lost),
	// so it is reversed, and no reverse answer ever arrives.
	{name: "pay escalated", faults: []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpPay, Count: 1},
		{Kind: sim.FaultLost, Op: paytree.OpConfirm}, {Kind: sim.FaultLost, Op: paytree.OpReverse}}, args: payArgs(0)},
	{name: "deposit reversed", faults: []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpDeposit, Count: 1},
		{Kind: sim.FaultLost, Op: paytree.OpConfirm}}, args: depositArgs},
	{name: "deposit escalated", faults: []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpDeposit, Count: 1},
		{Kind: sim.FaultLost, Op: paytree.OpConfirm}, {Kind: sim.FaultLost, Op: paytree.OpReverse}}, args: depositArgs},
	{name: "deposit settles as failed", faults: []sim.Fault{{Kind: sim.FaultProcessing, Op: paytree.OpDeposit, SettleFail: true}}, args: depositArgs},
	// Refund and reverse: refused; a request that never arrived (500
	// before processing) is confirmed, found missing and resent with the
	// same requestId; one that never gets through is escalated.
	{name: "refund refused", setup: true, args: func(o string) []string { return []string{"refund", "--order-id", o, "--amount", "5000"} }},
	{name: "refund resent", setup: true, faults: []sim.Fault{{Kind: sim.Fault500Before, Op: paytree.OpRefund, Count: 1}},
		args: func(o string) []string { return []string{"refund", "--order-id", o, "--amount", "300"} }},
	{name: "refund escalated", setup: true, faults: []sim.Fault{{Kind: sim.Fault500Before, Op: paytree.OpRefund}},
		args: func(o string) []string { return []string{"refund", "--order-id", o, "--amount", "300"} }},
	{name: "reverse refused", args: func(string) []string { return []string{"reverse", "--order-id", "ORD00000000000000000000000000000"} }},
	{name: "reverse resent", setup: true, faults: []sim.Fault{{Kind: sim.Fault500Before, Op: paytree.OpReverse, Count: 1}},
		args: func(o string) []string { return []string{"reverse", "--order-id", o} }},
	{name: "reverse escalated", setup: true, faults: []sim.Fault{{Kind: sim.Fault500Before, Op: paytree.OpReverse}},
		args: func(o string) []string { return []string{"reverse", "--order-id", o} }},
	// A person records what CPS said about an escalated transaction.
	{name: "pay resolved", prepare: &escalatedPay, args: resolveArgs("reversed")},
	{name: "deposit resolved", prepare: &escalatedDeposit, args: resolveArgs("reversed")},
	{name: "refund resolved", setup: true, prepare: &escalatedRefund, args: resolveArgs("failed")},
	{name: "reverse resolved", setup: true, prepare: &escalatedReverse, args: resolveArgs("failed")},
	// The network goes down while the request's answer is awaited: the
	// confirm (or resend) finds the gateway unreachable and the step parks.
	{name: "pay parked", cutOn: paytree.OpPay, faults: []sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpPay, Count: 1}}, args: payArgs(0)},
	{name: "deposit parked", cutOn: paytree.OpDeposit, faults: []sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpDeposit, Count: 1}}, args: depositArgs},
	{name: "refund parked", setup: true, cutOn: paytree.OpRefund, faults: []sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpRefund, Count: 1}},
		args: func(o string) []string { return []string{"refund", "--order-id", o, "--amount", "300"} }},
	{name: "reverse parked", setup: true, cutOn: paytree.OpReverse, faults: []sim.Fault{{Kind: sim.FaultHold, Op: paytree.OpReverse, Count: 1}},
		args: func(o string) []string { return []string{"reverse", "--order-id", o} }},
}

// The preparing runs of the resolve scenarios: each leaves its
// transaction escalated.
var (
	escalatedPay = scenario{faults: []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpPay, Count: 1},
		{Kind: sim.FaultLost, Op: paytree.OpConfirm}, {Kind: sim.FaultLost, Op: paytree.OpReverse}}, args: payArgs(0)}
	escalatedDeposit = scenario{faults: []sim.Fault{{Kind: sim.FaultLost, Op: paytree.OpDeposit, Count: 1},
		{Kind: sim.FaultLost, Op: paytree.OpConfirm}, {Kind: sim.FaultLost, Op: paytree.OpReverse}}, args: depositArgs}
	escalatedRefund = scenario{faults: []sim.Fault{{Kind: sim.Fault500Before, Op: paytree.OpRefund}},
		args: func(o string) []string { return []string{"refund", "--order-id", o, "--amount", "300"} }}
	escalatedReverse = scenario{faults: []sim.Fault{{Kind: sim.Fault500Before, Op: paytree.OpReverse}},
		args: func(o string) []string { return []string{"reverse", "--order-id", o} }}
)

func resolveArgs(outcome string) func(string) []string {
	return func(id string) []string {
		return []string{"resolve", id, "--outcome", outcome, "--note", "crash matrix: CPS says " + outcome, "--operator", "matrix"}
	}
}

func depositArgs(string) []string {
	return []string{"deposit", "--amount", "500", "--user-code", "3612345678", "--pay-type", "LINE"}
}

// runScenario sets up a fresh home and gateway, runs the scenario's child
// with crashAt armed (or traced when trace is set), recovers the home and
// returns the invariant violations.
func runScenario(t *testing.T, sc scenario, crashAt, trace string) (killed bool, violations []string) {
	t.Helper()
	dir := t.TempDir()
	g := newGateway(t, dir, nil, 1)
	defer g.Close()
	var relay *testgw.Relay
	home := ""
	if sc.cutOn != 0 {
		u, err := url.Parse(g.URL())
		require.NoError(t, err)
		relay, err = testgw.NewRelay(u.Host)
		require.NoError(t, err)
		defer relay.Down()
		home = newHomeAt(t, dir, "https://"+relay.Addr)
	} else {
		home = newHome(t, dir, g)
	}
	arg := ""
	if sc.setup {
		res := runChild(t, home, g, "", "", 0, payArgs(0)("")...)
		require.Equal(t, 0, res.exit, "set-up pay: %s", res.stdout)
		arg = orderOf(t, res.stdout)
	}
	if p := sc.prepare; p != nil {
		g.Sim.SetFaults(p.faults)
		res := runChild(t, home, g, "", "", 0, p.args(arg)...)
		g.Sim.SetFaults(nil)
		require.False(t, res.killed, "preparing run")
		arg = txnOf(t, res.stdout)
	}
	g.Sim.SetFaults(sc.faults)
	stop := func() {}
	if sc.cutOn != 0 {
		stop = cutWhenReceived(t, g, relay, sc.cutOn)
	}
	res := runChild(t, home, g, crashAt, trace, 0, sc.args(arg)...)
	stop()
	g.Sim.SetFaults(nil)
	if relay != nil {
		require.NoError(t, relay.Up())
	}
	recoverHome(t, home, g)
	v, _ := checkInvariants(home, g.Sim.Ledger())
	return res.killed, v
}

// cutWhenReceived cuts relay as soon as the gateway has recorded a request
// of op; the returned function stops watching.
func cutWhenReceived(t *testing.T, g *gateway, relay *testgw.Relay, op paytree.Operation) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for _, r := range g.Sim.Ledger().Requests {
				if r.Operation == op.String() {
					relay.Down()
					return
				}
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond): // polling the ledger
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// txnOf reads the transactionId from a child's -o json output.
func txnOf(t testing.TB, out []byte) string {
	t.Helper()
	var v struct {
		TransactionID string `json:"transactionId"`
		State         string `json:"state"`
	}
	require.NoError(t, json.Unmarshal(out, &v), "child output: %s", out)
	require.NotEmpty(t, v.TransactionID, "child output: %s", out)
	return v.TransactionID
}

// TestCrashMatrix kills the engine at every crash point each scenario
// passes and checks, after recovery, that no invariant is broken. It fails
// when a scenario passes a point that internal/crashpoint does not
// declare, and when a declared point is passed by no scenario.
func TestCrashMatrix(t *testing.T) {
	engineBinary(t)
	reached := map[string][]string{} // point → the scenarios that pass it
	runs, violations, unreached := 0, 0, 0
	for _, sc := range append(append([]scenario(nil), scenarios...), moreScenarios...) {
		t.Run(sc.name, func(t *testing.T) {
			tracePath := filepath.Join(t.TempDir(), "trace")
			_, v := runScenario(t, sc, "", tracePath)
			require.Empty(t, v, "the uncrashed run must already hold the invariants")
			points := readTrace(t, tracePath)
			require.NotEmpty(t, points, "the traced run passed no crash point: is the binary built with -tags crashpoints?")
			for _, p := range points {
				name := p[:strings.LastIndexByte(p, '#')]
				if !crashpoint.IsDeclared(name) {
					t.Errorf("%s: passes crash point %s, which internal/crashpoint does not declare", sc.name, name)
				}
				if !slices.Contains(reached[name], sc.name) {
					reached[name] = append(reached[name], sc.name)
				}
				killed, v := runScenario(t, sc, p, "")
				runs++
				if !killed {
					unreached++
					t.Logf("%s: point %s not reached in this run", sc.name, p)
				}
				for _, msg := range v {
					violations++
					t.Errorf("%s, killed at %s: %s", sc.name, p, msg)
				}
			}
		})
	}
	declared := crashpoint.Declared()
	var missing []string
	for _, p := range declared {
		if len(reached[p]) == 0 {
			missing = append(missing, p)
		}
	}
	n := 0
	for _, p := range declared {
		if len(reached[p]) > 0 {
			n++
		}
	}
	t.Logf("crash points reached: %d of %d declared", n, len(declared))
	fmt.Fprintf(os.Stdout, "crash matrix: %d declared, %d reached, %d runs, %d violations\n", len(declared), n, runs, violations)
	assert.Empty(t, missing, "declared crash points that no scenario reaches (add a scenario)")
	assert.Zero(t, violations)
	if unreached > 0 {
		t.Logf("%d armed points were not passed again in their kill run (timing-dependent paths)", unreached)
	}
}
