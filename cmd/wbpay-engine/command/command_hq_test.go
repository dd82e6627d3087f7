package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/hq"
	"github.com/wbpay/wbpay/internal/journaltest"
	"github.com/wbpay/wbpay/internal/pgserver"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/internal/testnats"
	"github.com/wbpay/wbpay/journal"
)

// child is this test binary re-executed as wbpay-engine (see init in
// cli_helpers_test.go), killed with SIGKILL by the test.
type child struct {
	cmd  *exec.Cmd
	done chan error
}

func startChild(t *testing.T, logPath string, args ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), demoChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	setPdeathsig(cmd)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(c.kill)
	return c
}

// kill sends SIGKILL and waits for the exit (idempotent).
func (c *child) kill() {
	if c == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	if err := <-c.done; err != nil {
		c.done <- err
	} else {
		c.done <- nil
	}
}

// wait waits for a normal exit and returns its error.
func (c *child) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(d):
		t.Fatalf("%v did not exit within %v", c.cmd.Args, d)
		return nil
	}
}

// chainHome is a terminal's home for the chain test.
type chainHome struct {
	dir, term string
	pays      int
	prefix    string
}

func (h *chainHome) journalPath() string { return filepath.Join(h.dir, wbpay.JournalFile) }

// addPays appends n pays while no process holds the journal.
func (h *chainHome) addPays(t *testing.T, n int) uint64 {
	t.Helper()
	j, err := journal.Open(h.journalPath(), journal.Options{})
	require.NoError(t, err)
	defer j.Close()
	require.NoError(t, journaltest.Pays(j, h.prefix, h.pays, n, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)))
	h.pays += n
	last, err := j.LastSeq()
	require.NoError(t, err)
	return last
}

func (h *chainHome) lastSeq(t *testing.T) uint64 {
	t.Helper()
	j, err := journal.Open(h.journalPath(), journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer j.Close()
	last, err := j.LastSeq()
	require.NoError(t, err)
	return last
}

// TestChainShippingSurvivesKills ships five terminals' journals through a
// NATS server into PostgreSQL with the ship and hq collect verbs as
// subprocesses, SIGKILLs shippers and the collector at random moments,
// restarts the NATS server, alters one journal's entry on disk and rebuilds
// another journal from scratch. At the end HQ holds every entry of every
// terminal exactly once, the intact chains verify and each damage is a
// finding at its Seq.
func TestChainShippingSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, NATS and subprocesses")
	}
	if _, err := pgserver.BinDir(); err != nil {
		t.Skip(err.Error())
	}
	ctx := context.Background()
	pg, err := pgserver.Start(ctx, pgserver.Options{})
	require.NoError(t, err)
	t.Cleanup(pg.Stop)
	pool, err := pgxpool.New(ctx, pg.DSN)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ns := testnats.Start(t)
	logs := t.TempDir()
	seed := time.Now().UnixNano()
	t.Logf("seed %d, logs in %s", seed, logs)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	defer func() {
		if t.Failed() {
			ents, _ := os.ReadDir(logs)
			for _, e := range ents {
				b, _ := os.ReadFile(filepath.Join(logs, e.Name()))
				t.Logf("--- %s\n%s", e.Name(), lastLines(string(b), 30))
			}
		}
	}()

	homes := make([]*chainHome, 5)
	for i := range homes {
		h := &chainHome{dir: t.TempDir(), term: fmt.Sprintf("123450000%03d%d", 17+i/2, i)}
		h.prefix = h.term
		conf := testgw.Merge(testgw.TestModeConf(), map[string]string{"TerminalUniquId": h.term, "BranchCode": fmt.Sprintf("S%d", 17+i/2),
			"ShipURL": ns.URL()})
		require.NoError(t, testgw.WriteConf(h.dir, conf))
		homes[i] = h
	}
	altered, rebuilt := homes[3], homes[4]

	collect := func() *child {
		return startChild(t, filepath.Join(logs, "collector.log"), "hq", "collect", "--nats", ns.URL(), "--db", pg.DSN, "--batch", "25")
	}
	shipper := func(h *chainHome, extra ...string) *child {
		return startChild(t, filepath.Join(logs, "ship-"+h.term+".log"), append([]string{"ship", "--home", h.dir, "--record-every", "30ms"}, extra...)...)
	}
	randomly := func(maxMS int) { time.Sleep(time.Duration(rng.IntN(maxMS)) * time.Millisecond) } // fault timing, not synchronisation

	col := collect()
	for round := range 4 {
		for _, h := range homes {
			h.addPays(t, 8+rng.IntN(8))
		}
		if round == 0 {
			// Entry 2 (paid, HTTP 200) is made to say 500 on disk; Open
			// does not notice (it checks the last entry only).
			alterEntry(t, altered.journalPath(), 2)
		}
		var ships []*child
		for _, h := range homes {
			ships = append(ships, shipper(h))
		}
		switch round {
		case 1:
			randomly(300)
			col.kill()
			randomly(200)
			col = collect()
		case 2:
			randomly(300)
			ns.Shutdown()
			randomly(300)
			ns.Restart()
		case 3:
			randomly(200)
			col.kill()
			col = collect()
		}
		randomly(400)
		for _, c := range ships {
			c.kill() // SIGKILL: the last acknowledgements may not be recorded
		}
		if round == 1 {
			// The rebuilt terminal: everything shipped, then its journal
			// is replaced by a new one that starts again at Seq 1.
			require.NoError(t, shipper(rebuilt, "--catch-up").wait(t, 60*time.Second))
			old := rebuilt.lastSeq(t)
			require.NoError(t, os.Remove(rebuilt.journalPath()))
			rebuilt.prefix, rebuilt.pays = "rebuilt", 0
			last := rebuilt.addPays(t, int(old)) // twice as many entries: beyond the old journal
			require.Greater(t, last, old)
			t.Logf("rebuilt terminal: old journal ended at %d, the new one at %d", old, last)
			rebuiltFrom = old + 1
		}
	}
	for _, h := range homes {
		require.NoError(t, shipper(h, "--catch-up").wait(t, 60*time.Second), "catch up %s", h.term)
	}

	for _, h := range homes {
		last := h.lastSeq(t)
		require.Eventually(t, func() bool {
			var maxSeq, entries int64
			err := pool.QueryRow(ctx, "SELECT max_seq, entries FROM terminals WHERE terminal = $1", h.term).Scan(&maxSeq, &entries)
			return err == nil && maxSeq == int64(last) && entries == int64(last)
		}, 60*time.Second, 50*time.Millisecond, "HQ holds entries 1..%d of %s", last, h.term)
	}
	col.kill()

	type fk struct {
		seq  int64
		kind string
	}
	found := map[string][]fk{}
	fs, err := hq.Findings(ctx, pool, "")
	require.NoError(t, err)
	for _, f := range fs {
		found[f.Terminal] = append(found[f.Terminal], fk{f.Seq, f.Kind})
	}
	for _, h := range homes[:3] {
		assert.Empty(t, found[h.term], "intact terminal %s: no findings", h.term)
		c, err := hq.VerifyChain(ctx, pool, h.term)
		require.NoError(t, err)
		assert.True(t, c.OK, "chain of %s verifies: %+v", h.term, c)
		assert.Equal(t, int64(h.lastSeq(t)), c.Entries)
	}
	assert.Equal(t, []fk{{2, "bad-hash"}}, found[altered.term], "the altered entry")
	c, err := hq.VerifyChain(ctx, pool, altered.term)
	require.NoError(t, err)
	assert.Equal(t, int64(2), c.BadSeq)
	assert.Equal(t, []fk{{int64(rebuiltFrom), "fork"}}, found[rebuilt.term], "the rebuilt journal forks where it outgrows the old one")

	var dupRows, fullCodes int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT terminal_id, seq FROM entries GROUP BY 1, 2 HAVING count(*) > 1) d`).Scan(&dupRows))
	assert.Zero(t, dupRows, "every entry once")
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM entries WHERE position($1::bytea in body) > 0)
		+ (SELECT count(*) FROM txns WHERE user_code_masked LIKE '%' || $2 || '%')`, []byte(journaltest.UserCode), journaltest.UserCode).Scan(&fullCodes))
	assert.Zero(t, fullCodes, "no full userCode at HQ")

	// The query verbs answer from the same database.
	out := runCLI(t, "hq", "find", "--db", pg.DSN, "--receipt", journaltest.ReceiptNo(homes[0].term, 3), "-o", "json")
	assert.Contains(t, out, `"receiptNo": "`+journaltest.ReceiptNo(homes[0].term, 3)+`"`)
	out = runCLI(t, "hq", "lag", "--db", pg.DSN, "--nats", ns.URL())
	assert.Contains(t, out, homes[0].term)
	assert.Contains(t, out, "damaged")
	out = runCLI(t, "hq", "findings", "--db", pg.DSN)
	assert.Contains(t, out, "bad-hash")
	assert.Contains(t, out, "fork")
	out = runCLI(t, "hq", "findings", "--db", pg.DSN, "--terminal", rebuilt.term, "-o", "json")
	assert.Contains(t, out, `"fork"`)
	assert.NotContains(t, out, "bad-hash", "only that terminal's findings")
	out = runCLI(t, "hq", "totals", "--db", pg.DSN)
	assert.Contains(t, out, "COUNT")
	assert.Contains(t, out, "PAYPAY   pay  paid", "per store, channel, operation and state")
	out = runCLI(t, "hq", "attention", "--db", pg.DSN, "-o", "json")
	assert.True(t, strings.HasPrefix(strings.TrimSpace(out), "["), "a JSON array, never null: %s", out)
}

// rebuiltFrom is where the rebuilt journal's fork shows (set by the test).
var rebuiltFrom uint64

// runCLI runs the CLI in-process and returns stdout; it fails on a non-zero exit.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(args, strings.NewReader(""), &out, &errb)
	require.Equal(t, 0, code, "%v: %s", args, errb.String())
	return out.String()
}

// alterEntry rewrites entry seq of the journal file in place: its body's
// first "200" becomes "500", its stored hash is kept.
func alterEntry(t *testing.T, path string, seq uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("entries"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, byte(seq)}
		v := b.Get(k)
		if !bytes.Contains(v, []byte("200")) {
			return errors.New("entry has no 200")
		}
		return b.Put(k, bytes.Replace(append([]byte(nil), v...), []byte("200"), []byte("500"), 1))
	}))
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
