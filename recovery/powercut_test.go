//go:build crashmatrix && linux

package recovery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/internal/lazyfs"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/keys"
)

// The power-cut tests run the crash matrix and a soak with the home on a
// lazyfs mount: the child is SIGKILLed (at its crash point, or at a random
// moment) and the power is cut at the same instant, before anything else
// touches the disk, so everything no fsync made durable is gone (and the
// last unsynced write may be torn). The disk is mounted again, recovery
// runs, and the invariants are checked against the simulator's ledger; the
// simulator, its CA file and the traces live outside the lossy disk.

var (
	powerCut     = flag.Bool("chaos.powercut", false, "run TestPowerCutSoak: the chaos soak with power cuts on a lazyfs home (-chaos.duration, -chaos.seed)")
	powerCutSeed = flag.Int64("powercut.seed", 0, "base seed of the power-cut matrix's cuts (each run's seed is derived from it, the scenario and the point)")
)

var lazyd lazyfs.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	lazyd.Remove()
	os.Exit(code)
}

// lazyfsServer skips the test when FUSE cannot be used here (naming what
// is missing) and builds the lazyfs server once.
func lazyfsServer(t testing.TB) string {
	t.Helper()
	if err := lazyfs.Check(); err != nil {
		t.Skip(err.Error())
	}
	bin, err := lazyd.Path()
	require.NoError(t, err)
	return bin
}

// lossyDisk is a lazyfs mount that outlives its power cuts: Cut cuts the
// power and mounts the disk again.
type lossyDisk struct {
	t                     testing.TB
	bin                   string
	backing, mnt, scratch string
	m                     *lazyfs.Mount
}

// newLossyDisk mounts an empty lossy disk under dir; the test's end unmounts it.
func newLossyDisk(t testing.TB, dir string) *lossyDisk {
	t.Helper()
	d := &lossyDisk{t: t, bin: lazyfsServer(t), backing: filepath.Join(dir, "disk"), mnt: filepath.Join(dir, "mnt"), scratch: filepath.Join(dir, "scratch")}
	d.mount()
	t.Cleanup(func() { d.m.Close() })
	return d
}

func (d *lossyDisk) mount() {
	d.t.Helper()
	m, err := lazyfs.Start(d.bin, lazyfs.Config{Backing: d.backing, Mountpoint: d.mnt, Scratch: d.scratch})
	require.NoError(d.t, err, "mount the lossy disk")
	d.m = m
}

// Sync makes everything on the disk durable (a home installed long ago).
func (d *lossyDisk) Sync() { d.t.Helper(); require.NoError(d.t, d.m.Sync()) }

// Cut cuts the power (tearing the last unsynced write) and mounts the disk
// again; it returns what the cut discarded.
func (d *lossyDisk) Cut(seed int64) lazyfs.Report {
	d.t.Helper()
	rep, err := d.m.Cut(seed, true)
	require.NoError(d.t, err, "power cut")
	d.mount()
	return rep
}

// cutSeed derives a run's cut seed from the base seed, the scenario and the point.
func cutSeed(base int64, parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base ^ int64(h.Sum64()>>1)
}

// summary is a short form of a cut's report for a violation message.
func summary(rep lazyfs.Report) string {
	s := fmt.Sprintf("cut seed %d: %d of %d unsynced namespace operations kept %v, lost %v, %d files with unsynced data",
		rep.Seed, len(rep.KeptOps), rep.UnsyncedOps, rep.KeptOps, rep.LostOps, rep.DirtyFiles)
	if rep.Torn != nil {
		s += fmt.Sprintf(", torn write %s at %d: %d of %d bytes kept", rep.Torn.Path, rep.Torn.Off, rep.Torn.Kept, rep.Torn.Len)
	}
	return s
}

// reported is what a child's -o json output says of the transaction it ran.
type reported struct {
	TransactionID string `json:"transactionId"`
	State         string `json:"state"`
}

// resultSurvived checks that a transaction the child reported (on exit 0)
// is in the journal after the cut, in the state it reported: the engine
// answers only after the transition is durable, so a cut cannot undo it.
func resultSurvived(home string, res childResult) []string {
	if res.killed || res.exit != 0 {
		return nil
	}
	var r reported
	if err := json.Unmarshal(res.stdout, &r); err != nil || r.TransactionID == "" {
		return nil
	}
	j, err := journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return []string{fmt.Sprintf("transaction %s was reported %s, but after the cut the journal does not open: %v", r.TransactionID, r.State, err)}
	}
	defer j.Close()
	txn, err := j.Get(r.TransactionID)
	switch {
	case err != nil:
		return []string{fmt.Sprintf("transaction %s was reported %s, but after the cut the journal does not have it: %v", r.TransactionID, r.State, err)}
	case txn.State.String() != r.State:
		return []string{fmt.Sprintf("transaction %s was reported %s, but after the cut the journal has it %s", r.TransactionID, r.State, txn.State)}
	}
	return nil
}

// homeIntact checks that the files a home was set up with still load after
// a cut: the configuration and the key files it names.
func homeIntact(home string) []string {
	cfg, err := config.Load(filepath.Join(home, config.FileName))
	if err != nil {
		return []string{"after the cut: " + err.Error()}
	}
	var bad []string
	if cfg.PrivateKeyFile != "" {
		if _, err := keys.LoadPrivate(filepath.Join(home, cfg.PrivateKeyFile)); err != nil {
			bad = append(bad, "after the cut: "+err.Error())
		}
	}
	return bad
}

// powerCutScenario runs sc on a fresh home on a lossy disk with crashAt
// armed (or traced), cuts the power when the child has died, remounts,
// recovers and returns the violations.
func powerCutScenario(t *testing.T, sc scenario, crashAt, trace string, seed int64) (killed bool, violations []string, rep lazyfs.Report) {
	t.Helper()
	dir := t.TempDir()
	g := newGateway(t, dir, nil, 1)
	defer g.Close()
	disk := newLossyDisk(t, dir)
	home := newHomeAt(t, disk.mnt, g.URL())
	disk.Sync()
	order := ""
	if sc.setup {
		res := runChild(t, home, g, "", "", 0, payArgs(0)("")...)
		require.Equal(t, 0, res.exit, "set-up pay: %s", res.stdout)
		order = orderOf(t, res.stdout)
	}
	g.Sim.SetFaults(sc.faults)
	res := runChild(t, home, g, crashAt, trace, 0, sc.args(order)...)
	g.Sim.SetFaults(nil)
	rep = disk.Cut(seed)
	violations = append(violations, homeIntact(home)...)
	violations = append(violations, resultSurvived(home, res)...)
	recoverHome(t, home, g)
	v, _ := checkInvariants(home, g.Sim.Ledger())
	return res.killed, append(violations, v...), rep
}

// TestPowerCutMatrix is the crash matrix with a power cut at each crash
// point: every point each scenario passes, plus the end of the run (a cut
// right after the child answered).
func TestPowerCutMatrix(t *testing.T) {
	lazyfsServer(t)
	engineBinary(t)
	names := map[string]bool{}
	runs, ran, violations, unreached, lostOps, torn := 0, 0, 0, 0, 0, 0
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ran++
			tracePath := filepath.Join(t.TempDir(), "trace")
			_, v, rep := powerCutScenario(t, sc, "", tracePath, cutSeed(*powerCutSeed, sc.name, "end"))
			runs++
			for _, msg := range v {
				violations++
				t.Errorf("%s, power cut after the run ended: %s (%s)", sc.name, msg, summary(rep))
			}
			points := readTrace(t, tracePath)
			require.NotEmpty(t, points, "the traced run passed no crash point: is the binary built with -tags crashpoints?")
			for _, p := range points {
				names[p[:strings.LastIndexByte(p, '#')]] = true
				seed := cutSeed(*powerCutSeed, sc.name, p)
				killed, v, rep := powerCutScenario(t, sc, p, "", seed)
				runs++
				lostOps += len(rep.LostOps)
				if rep.Torn != nil && rep.Torn.Kept != rep.Torn.Len {
					torn++
				}
				if !killed {
					unreached++
					t.Logf("%s: point %s not reached in this run", sc.name, p)
				}
				for _, msg := range v {
					violations++
					fmt.Fprintf(os.Stdout, "power-cut matrix: violation in %q at %s: %s (%s)\n", sc.name, p, msg, summary(rep))
					t.Errorf("%s, killed and cut at %s: %s (%s)", sc.name, p, msg, summary(rep))
				}
			}
		})
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("crash points: %s", strings.Join(list, ", "))
	fmt.Fprintf(os.Stdout, "power-cut matrix: %d points x %d scenarios = %d runs (each cut, %d unsynced namespace operations lost, %d writes torn), %d violations (%d points not reached)\n",
		len(names), ran, runs, lostOps, torn, violations, unreached)
	assert.Zero(t, violations)
}

// runInit runs wbpay-engine init on home (outside any gateway).
func runInit(t *testing.T, home string, args ...string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, engineBinary(t), append([]string{"--home", home, "-o", "json"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), append(out.Bytes(), errb.Bytes()...)
	}
	require.NoError(t, err)
	return 0, out.Bytes()
}

// TestPowerCutAfterInit: once `init` has answered, a power cut loses none of
// the home it made (configuration, key pair), and once a test-mode pay has
// answered, a cut loses neither the journal nor its entry.
func TestPowerCutAfterInit(t *testing.T) {
	lazyfsServer(t)
	engineBinary(t)
	violations := 0
	for seed := int64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			disk := newLossyDisk(t, t.TempDir())
			home := filepath.Join(disk.mnt, "pos1")
			code, out := runInit(t, home, "init", "--test-mode")
			require.Equal(t, 0, code, "init: %s", out)
			rep := disk.Cut(seed)
			bad := homeIntact(home)
			if len(bad) == 0 {
				priv, err := keys.LoadPrivate(filepath.Join(home, "client.pem"))
				require.NoError(t, err)
				pub, err := keys.LoadPublic(filepath.Join(home, "client.pub"))
				if err != nil {
					bad = append(bad, "after the cut: "+err.Error())
				} else if !priv.PublicKey.Equal(pub) {
					bad = append(bad, "after the cut: client.pub is not the public half of client.pem")
				}
			}
			for _, msg := range bad {
				violations++
				t.Errorf("init, then a power cut: %s (%s)", msg, summary(rep))
			}
			if len(bad) > 0 {
				return
			}
			code, out = runInit(t, home, "pay", "--amount", "1000", "--user-code", "281234567890123456")
			require.Equal(t, 0, code, "test-mode pay: %s", out)
			rep = disk.Cut(seed + 100)
			for _, msg := range resultSurvived(home, childResult{stdout: out}) {
				violations++
				t.Errorf("a test-mode pay, then a power cut: %s (%s)", msg, summary(rep))
			}
		})
	}
	fmt.Fprintf(os.Stdout, "power-cut init: 6 seeds, %d violations\n", violations)
}

// TestPowerCutSoak is TestChaosSoak with power cuts: random operations
// against random gateway faults on one home on a lossy disk, the child
// killed at a random moment (or not), the power cut as soon as it is gone,
// at times a second cut while `wbpay-engine recover` runs, then recovery
// after every step and the invariants checked each time. It runs
// only with -chaos.powercut, for -chaos.duration (default 45 s);
// -chaos.seed replays a run.
func TestPowerCutSoak(t *testing.T) {
	if !*powerCut {
		t.Skip("the power-cut soak runs with -chaos.powercut")
	}
	lazyfsServer(t)
	seed := *chaosSeed
	if s := os.Getenv("WBPAY_CHAOS_SEED"); seed == 0 && s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err, "WBPAY_CHAOS_SEED")
		seed = v
	}
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	duration := *chaosDuration
	if duration <= 0 {
		duration = 45 * time.Second
	}
	fmt.Fprintf(os.Stdout, "power-cut soak: seed %d (replay with -chaos.powercut -chaos.seed %d)\n", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	engineBinary(t)
	dir := t.TempDir()
	g := newGateway(t, dir, nil, seed)
	defer g.Close()
	disk := newLossyDisk(t, dir)
	home := newHomeAt(t, disk.mnt, g.URL())
	disk.Sync()

	var orders []string
	steps, kills, violations, escalated, lostOps, torn, recoveryCuts := 0, 0, 0, 0, 0, 0, 0
	deadline := time.Now().Add(duration)
	for time.Now().Before(deadline) {
		steps++
		faults := randomFaults(rng)
		g.Sim.SetFaults(faults)
		var args []string
		switch n := rng.Intn(10); {
		case n < 5 || len(orders) == 0:
			classes := []int{0, 0, 0, 1, 3, 4, 6}
			args = []string{"pay", "--amount", strconv.Itoa(100 + rng.Intn(5000)), "--user-code", classCode(classes[rng.Intn(len(classes))]), "--pay-type", "PAYPAY"}
		case n < 7:
			args = []string{"refund", "--order-id", orders[rng.Intn(len(orders))], "--amount", strconv.Itoa(1 + rng.Intn(2000))}
		case n < 8:
			args = []string{"reverse", "--order-id", orders[rng.Intn(len(orders))]}
		default:
			args = []string{"deposit", "--amount", strconv.Itoa(100 + rng.Intn(3000)), "--user-code", "36" + strconv.Itoa(rng.Intn(1e8)), "--pay-type", "LINE"}
		}
		killAfter := time.Duration(0)
		if rng.Intn(5) < 3 {
			killAfter = time.Duration(1+rng.Intn(60)) * time.Millisecond
		}
		res := runChild(t, home, g, "", "", killAfter, args...)
		if res.killed {
			kills++
		}
		rep := disk.Cut(rng.Int63())
		lostOps += len(rep.LostOps)
		if rep.Torn != nil && rep.Torn.Kept != rep.Torn.Len {
			torn++
		}
		v := append(homeIntact(home), resultSurvived(home, res)...)
		if rng.Intn(4) == 0 {
			// The power fails again while the recovery at boot runs.
			rec := runChild(t, home, g, "", "", time.Duration(1+rng.Intn(300))*time.Millisecond, "recover")
			if rec.killed {
				kills++
			}
			rep = disk.Cut(rng.Int63())
			recoveryCuts++
			lostOps += len(rep.LostOps)
			v = append(v, homeIntact(home)...)
		}
		for i := range faults {
			faults[i].Probability /= 3
		}
		g.Sim.SetFaults(faults)
		recoverHome(t, home, g)
		g.Sim.SetFaults(nil)
		iv, esc := checkInvariants(home, g.Sim.Ledger())
		escalated = esc
		v = append(v, iv...)
		for _, msg := range v {
			violations++
			fmt.Fprintf(os.Stdout, "power-cut soak: violation at seed %d step %d (%v, killed %v): %s (%s)\n", seed, steps, args, res.killed, msg, summary(rep))
			t.Errorf("seed %d step %d (%v, faults %v, killed %v): %s (%s)", seed, steps, args, faults, res.killed, msg, summary(rep))
		}
		if len(v) > 0 {
			keepHome(t, home, seed)
			break
		}
		orders = ordersOf(g.Sim.Ledger())
	}
	fmt.Fprintf(os.Stdout, "power-cut soak: seed %d, %d steps, %d kills, %d power cuts (%d of them during a recovery; %d unsynced namespace operations lost, %d writes torn), %d escalated, %d invariant violations\n",
		seed, steps, kills, steps+recoveryCuts, recoveryCuts, lostOps, torn, escalated, violations)
	assert.Zero(t, violations)
}
