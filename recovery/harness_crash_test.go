//go:build crashmatrix

package recovery_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// The crash tests run the real wbpay-engine binary, built with the
// "crashpoints" tag, as a child process that SIGKILLs itself at a named
// crash point; then they resume its home in process and check the
// invariants of architecture.md against the simulator's ledger.

func engineBinary(t testing.TB) string {
	t.Helper()
	bin, err := testgw.EngineBinary()
	require.NoError(t, err, "build the crashpoints binary")
	return bin
}

// gateway is the simulator the children talk to, over loopback TLS.
type gateway = testgw.Gateway

func newGateway(t testing.TB, dir string, faults []sim.Fault, seed int64) *gateway {
	t.Helper()
	g, err := testgw.StartGateway(sim.Config{ApproveAfter: 300 * time.Millisecond, ApprovalTimeout: 5 * time.Second,
		Faults: faults, Seed: seed}, dir)
	require.NoError(t, err)
	return g
}

// newHome writes keys and a WbCPSPay.conf pointing at g: no wait between
// confirms, and quick polling, so a crash run takes a fraction of a second.
func newHome(t testing.TB, dir string, g *gateway) string {
	t.Helper()
	return newHomeAt(t, dir, g.URL())
}

// newHomeAt is newHome with the gateway at serverURL (a relay to it).
func newHomeAt(t testing.TB, dir, serverURL string) string {
	t.Helper()
	home := filepath.Join(dir, "home")
	require.NoError(t, os.MkdirAll(home, 0o755))
	require.NoError(t, testgw.WriteKeys(home))
	require.NoError(t, testgw.WriteConf(home, testgw.Merge(testgw.LiveConf(serverURL), map[string]string{
		"HttpTimeout":               "15",
		"RequestConfirmInterval":    "0",
		"PayConfirmPollingMode":     "yes",
		"PayConfirmPollingWait":     "1",
		"PayConfirmPollingInterval": "1",
		"PayConfirmPollingTimeout":  "30",
		"LogLevel":                  "Sequence",
	})))
	return home
}

// childResult is how a child run ended.
type childResult struct {
	killed bool   // died of SIGKILL (at its crash point, or by the soak)
	exit   int    // exit code when it was not killed
	stdout []byte // its stdout
}

// runChild runs the binary with args against home. crashAt arms a crash
// point ("" = none), trace records the points passed, killAfter > 0 sends
// SIGKILL after that long.
func runChild(t testing.TB, home string, g *gateway, crashAt, trace string, killAfter time.Duration, args ...string) childResult {
	t.Helper()
	full := append([]string{"--home", home, "--gateway-ca", g.CAFile, "-o", "json"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, engineBinary(t), full...)
	cmd.Env = append(os.Environ(), "WBPAY_CRASH_AT="+crashAt, "WBPAY_CRASH_TRACE="+trace)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		defer timer.Stop()
	}
	err := cmd.Wait()
	res := childResult{stdout: out.Bytes()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			res.killed = true
		} else {
			res.exit = ee.ExitCode()
		}
	default:
		t.Fatalf("run %v: %v\nstderr: %s", args, err, errb.String())
	}
	return res
}

// orderOf reads the orderId from a child's -o json output.
func orderOf(t testing.TB, out []byte) string {
	t.Helper()
	var v struct {
		OrderID string `json:"orderId"`
		State   string `json:"state"`
	}
	require.NoError(t, json.Unmarshal(out, &v), "child output: %s", out)
	require.NotEmpty(t, v.OrderID, "child output: %s", out)
	return v.OrderID
}

// recoverHome opens the engine on home (which resumes every unfinished
// transaction), waits for the recovery, and closes it.
func recoverHome(t testing.TB, home string, g *gateway) []wbpay.Recovery {
	t.Helper()
	return recoverHomeWithin(t, home, g, 0)
}

// recoverHomeWithin is recoverHome with a recovery patience for an
// unreachable gateway (0: none, wait until it answers).
func recoverHomeWithin(t testing.TB, home string, g *gateway, patience time.Duration) []wbpay.Recovery {
	t.Helper()
	var eng *wbpay.Engine
	var err error
	// The killed child's lock is released by the kernel; retry briefly.
	for i := 0; i < 100; i++ {
		eng, err = wbpay.Open(context.Background(), wbpay.WithHome(home), wbpay.WithRootCAs(g.Pool), wbpay.WithHTTPTimeout(2*time.Second),
			wbpay.WithRecoveryPatience(patience))
		if err == nil || !strings.Contains(err.Error(), "L0006") {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, err, "open after the crash")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, eng.WaitRecovered(ctx), "recovery did not finish")
	reps := eng.Recovered()
	require.NoError(t, eng.Close())
	return reps
}

// checkInvariants compares the home's journal with the gateway's ledger and
// returns every violation of architecture.md's invariants 1–4.
func checkInvariants(home string, l sim.Ledger) (violations []string, escalated int) {
	bad := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
	j, err := journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return []string{"open journal: " + err.Error()}, 0
	}
	defer j.Close()
	if _, err := j.Verify(); err != nil {
		bad("hash chain: %v", err)
	}
	txns, err := j.List(journal.Query{})
	if err != nil {
		return append(violations, "list: "+err.Error()), 0
	}
	processed := map[string]bool{} // requestIds the gateway carried out
	for _, r := range l.Requests {
		if r.ResultCode == paytree.CodeOK {
			processed[r.RequestID] = true
		}
	}
	known := map[string]*journal.Txn{}
	refundsDone := map[string]int{}
	reversedByUs := map[string]bool{}  // orders a journaled reverse undid
	maybeReversed := map[string]bool{} // orders an escalated reverse may have undone
	for _, t := range txns {
		if t.Op == paytree.OpReverse && t.State == fsm.StateReversed {
			reversedByUs[t.OrderID] = true
		}
		if t.Op == paytree.OpReverse && t.State == fsm.StateEscalated {
			maybeReversed[t.OrderID] = true
		}
	}
	for _, t := range txns {
		known[t.ID] = t
		if !t.State.Terminal() {
			bad("%s %s left in state %s", t.Op, t.ID, t.State)
			continue
		}
		if t.State == fsm.StateEscalated {
			escalated++
			continue
		}
		switch t.Op {
		case paytree.OpPay, paytree.OpDeposit:
			o, ok := l.OrderByRequestID(t.ID)
			// The order took the money if it holds it, was refunded, or was
			// undone later by a reverse this journal records.
			took := ok && (o.TransStatus == int(paytree.StatusPaid) || o.TransStatus == int(paytree.StatusDeposited) ||
				o.TransStatus == int(paytree.StatusPartiallyRefunded) || o.TransStatus == int(paytree.StatusRefunded) ||
				(o.TransStatus == int(paytree.StatusReversed) && reversedByUs[o.OrderID]))
			success := t.State == fsm.StatePaid || t.State == fsm.StateDeposited
			// An escalated reverse of the order is an admitted unknown (a
			// person settles it with CPS): the order may be reversed.
			if success && ok && o.TransStatus == int(paytree.StatusReversed) && maybeReversed[o.OrderID] {
				continue
			}
			if success != took {
				bad("%s %s is %s in the journal but the gateway's order is %+v (found %v)", t.Op, t.ID, t.State, o, ok)
			}
		case paytree.OpRefund:
			if t.State == fsm.StateRefunded {
				refundsDone[t.OrderID]++
			}
		case paytree.OpReverse:
			// This reverse is reversed in the journal exactly when the
			// gateway carried it out; the order may also have been reversed
			// by another one (an earlier reverse of it may have failed).
			st := 0
			for _, o := range l.Orders {
				if o.OrderID == t.OrderID {
					st = o.TransStatus
				}
			}
			done := processed[t.ID]
			switch {
			case t.State == fsm.StateReversed && (!done || st != int(paytree.StatusReversed)):
				bad("reverse %s is reversed in the journal but the gateway processed it: %v, order %s has transStatus %d", t.ID, done, t.OrderID, st)
			case t.State != fsm.StateReversed && done:
				bad("reverse %s is %s in the journal but the gateway carried it out (order %s has transStatus %d)", t.ID, t.State, t.OrderID, st)
			}
		}
	}
	// Every request the gateway processed belongs to a journaled transaction
	// (no pay, deposit or refund was sent under a requestId the journal does
	// not know), and refunds match.
	processedRefunds := map[string]int{}
	for _, r := range l.Requests {
		switch r.Operation {
		case "pay", "deposit", "refund":
		default:
			continue
		}
		if r.ResultCode != paytree.CodeOK {
			continue
		}
		t, ok := known[r.RequestID]
		if !ok {
			bad("the gateway processed %s %s, which the journal does not know", r.Operation, r.RequestID)
			continue
		}
		if r.Operation == "refund" {
			switch t.State {
			case fsm.StateRefunded:
				processedRefunds[t.OrderID]++
			case fsm.StateEscalated: // an admitted unknown: either is right
			default:
				bad("refund %s was processed by the gateway but is %s in the journal", t.ID, t.State)
			}
		}
	}
	for order, n := range refundsDone {
		if processedRefunds[order] != n {
			bad("order %s: %d refunds done in the journal, %d processed by the gateway", order, n, processedRefunds[order])
		}
	}
	return violations, escalated
}

// readTrace returns the crash points a traced run passed, as NAME#N.
func readTrace(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	seen := map[string]int{}
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name := sc.Text()
		seen[name]++
		points = append(points, fmt.Sprintf("%s#%d", name, seen[name]))
	}
	require.NoError(t, sc.Err())
	return points
}
