package wbpay_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/logging"
	"github.com/wbpay/wbpay/paytree"
)

// payN runs n pays that end PAID and returns their results.
func payN(t *testing.T, h *harness, n int) []*wbpay.Result {
	t.Helper()
	var out []*wbpay.Result
	for range n {
		res, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
		require.NoError(t, err)
		require.NotEmpty(t, res.OrderID)
		out = append(out, res)
	}
	return out
}

// damageOrderKey alters one byte of the order index key of res (an order
// id is 32 characters, the key is orderId, NUL, txn id): the pages stay
// valid, only the journal's own checks can tell.
func damageOrderKey(t *testing.T, home string, res *wbpay.Result) {
	t.Helper()
	path := filepath.Join(home, wbpay.JournalFile)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	key := append(append([]byte(res.OrderID), 0), res.TransactionID...)
	n := 0
	for i := bytes.Index(data, key); i >= 0; i = bytes.Index(data, key) { // stale copies linger in free pages
		data[i+len(res.OrderID)+1+31] ^= 0x01 // the txn id's last hex digit
		n++
	}
	require.Positive(t, n, "the order index key is in the file")
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

// requireRefused checks that a pay is refused with L0007 naming the damage
// and that the gateway received nothing.
func requireRefused(t *testing.T, h *harness) {
	t.Helper()
	before := len(h.sim.Ledger().Requests)
	_, err := h.eng.PaySync(context.Background(), &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)})
	require.Error(t, err)
	assert.Equal(t, paytree.L0007, code(err))
	assert.Contains(t, err.Error(), "damaged")
	assert.Contains(t, err.Error(), "order index")
	assert.Equal(t, before, len(h.sim.Ledger().Requests), "nothing was sent")
	assert.Error(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(0)}), "the async form refuses too")
	assert.Equal(t, before, len(h.sim.Ledger().Requests), "nothing was sent")
}

// TestDamageFoundBeforeSend: the three ways damage becomes known before a
// send, each ending with request methods refusing (L0007, the simulator's
// ledger unchanged) while audit reads go on.
func TestDamageFoundBeforeSend(t *testing.T) {
	t.Run("recorded by verify", func(t *testing.T) {
		h := newHarness(t, harnessOpt{})
		res := payN(t, h, 3)
		_, err := h.eng.Audit().Verify() // the mark passes every entry
		require.NoError(t, err)
		payN(t, h, 1) // … and is stored with this one
		require.NoError(t, h.eng.Close())
		damageOrderKey(t, h.home, res[0])

		// What `wbpay-engine verify` does: a read-only Verify, the damage
		// recorded in the home.
		j, err := journal.Open(filepath.Join(h.home, wbpay.JournalFile), journal.Options{ReadOnly: true})
		require.NoError(t, err)
		_, verr := j.Verify()
		require.ErrorIs(t, verr, journal.ErrCorrupt)
		require.NoError(t, j.Close())
		require.NoError(t, wbpay.RecordDamage(h.home, verr))

		h.open(0)
		require.ErrorIs(t, h.eng.Damaged(), journal.ErrCorrupt)
		requireRefused(t, h)
		got, err := h.eng.Audit().Get(res[1].TransactionID)
		require.NoError(t, err, "audit reads go on")
		assert.Equal(t, res[1].OrderID, got.OrderID)
	})
	t.Run("in what changed since the last verified entry", func(t *testing.T) {
		h := newHarness(t, harnessOpt{})
		res := payN(t, h, 3)
		require.NoError(t, h.eng.Close())
		damageOrderKey(t, h.home, res[2])
		h.open(0)
		require.ErrorIs(t, h.eng.Damaged(), journal.ErrCorrupt)
		requireRefused(t, h)
		_, err := os.Stat(filepath.Join(h.home, wbpay.DamageFile))
		assert.NoError(t, err, "the damage is recorded in the home")
	})
	t.Run("by the background verify", func(t *testing.T) {
		h := newHarness(t, harnessOpt{})
		res := payN(t, h, 3)
		_, err := h.eng.Audit().Verify()
		require.NoError(t, err)
		payN(t, h, 1)
		require.NoError(t, h.eng.Close())
		damageOrderKey(t, h.home, res[0]) // older than the verified mark

		h.open(0)
		assert.NoError(t, h.eng.Damaged(), "Open's checks do not read the old history")
		require.NoError(t, h.eng.Close())

		h.extra = []wbpay.Option{wbpay.WithBackgroundVerify(time.Hour)}
		h.open(0)
		deadline := time.Now().Add(20 * time.Second)
		for h.eng.Damaged() == nil && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // polling for the background verify, with a deadline
		}
		require.ErrorIs(t, h.eng.Damaged(), journal.ErrCorrupt)
		requireRefused(t, h)
	})
}

// TestCleanVerifyClearsRecord: a damage record that no longer holds (the
// file was restored) is removed by a clean verify, and requests go on.
func TestCleanVerifyClearsRecord(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	payN(t, h, 1)
	require.NoError(t, h.eng.Close())
	require.NoError(t, wbpay.RecordDamage(h.home, &journal.CorruptError{Path: "x", Reason: "test"}))
	h.open(0)
	require.Error(t, h.eng.Damaged())
	require.NoError(t, h.eng.Close())
	cleared, err := wbpay.ClearDamage(h.home)
	require.NoError(t, err)
	assert.True(t, cleared)
	h.open(0)
	assert.NoError(t, h.eng.Damaged())
	payN(t, h, 1)
}

// TestDeletedJournalRefused: a home remembers its journal; once it is
// deleted the engine refuses to start an empty one, says how to go on, and
// after an explicit start-over creates a new journal with a new id.
func TestDeletedJournalRefused(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	payN(t, h, 1)
	id, err := h.eng.Audit().ID()
	require.NoError(t, err)
	require.NoError(t, h.eng.Close())
	idFile, err := os.ReadFile(filepath.Join(h.home, wbpay.JournalIDFile))
	require.NoError(t, err)
	assert.Equal(t, id+"\n", string(idFile), "the home records the journal's id")

	path := filepath.Join(h.home, wbpay.JournalFile)
	require.NoError(t, os.Remove(path))
	_, err = wbpay.Open(context.Background(), wbpay.WithHome(h.home), wbpay.WithRootCAs(h.rootCAs()))
	require.Error(t, err)
	assert.Equal(t, paytree.L0007, code(err))
	for _, want := range []string{path, id, "missing", "restore", "init --start-over"} {
		assert.Contains(t, err.Error(), want)
	}
	_, serr := os.Stat(path)
	assert.ErrorIs(t, serr, os.ErrNotExist, "no new journal was created")

	lg, err := logging.Open(logging.Options{Dir: layout.Home(h.home).Log(), Level: logging.Basic})
	require.NoError(t, err)
	gone, err := wbpay.StartOver(h.home, lg, time.Now())
	require.NoError(t, lg.Close())
	require.NoError(t, err)
	assert.Equal(t, id, gone)
	logs, err := filepath.Glob(filepath.Join(layout.Home(h.home).Log(), "*.log"))
	require.NoError(t, err)
	var logged bool
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		logged = logged || (strings.Contains(string(b), "start-over") && strings.Contains(string(b), id))
	}
	assert.True(t, logged, "the start-over is logged with the journal's id")

	h.open(0)
	newID, err := h.eng.Audit().ID()
	require.NoError(t, err)
	assert.NotEqual(t, id, newID)
	payN(t, h, 1)
}

// TestJournalIDChecks: a home older than ids gets one at its next open;
// a journal whose id is not the home's is refused.
func TestJournalIDChecks(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	payN(t, h, 1)
	require.NoError(t, h.eng.Close())
	path := filepath.Join(h.home, wbpay.JournalFile)

	// An old home: no id file, no id in the journal's meta.
	require.NoError(t, os.Remove(filepath.Join(h.home, wbpay.JournalIDFile)))
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Delete([]byte("id")) }))
	require.NoError(t, db.Close())
	h.open(0)
	id, err := h.eng.Audit().ID()
	require.NoError(t, err)
	require.NotEmpty(t, id, "the old journal got an id")
	require.NoError(t, h.eng.Close())
	b, err := os.ReadFile(filepath.Join(h.home, wbpay.JournalIDFile))
	require.NoError(t, err)
	assert.Equal(t, id, strings.TrimSpace(string(b)))

	// Another home's journal.
	require.NoError(t, os.WriteFile(filepath.Join(h.home, wbpay.JournalIDFile), []byte(strings.Repeat("ab", 16)+"\n"), 0o644))
	_, err = wbpay.Open(context.Background(), wbpay.WithHome(h.home), wbpay.WithRootCAs(h.rootCAs()))
	require.Error(t, err)
	assert.Equal(t, paytree.L0007, code(err))
	assert.Contains(t, err.Error(), "another home's journal")
}

// TestUserCodeHashKeyed: the journal file holds no unkeyed SHA-256 digest
// of the userCode (raw or hex), the key file is private, and with the
// home's key the stored hash matches the code.
func TestUserCodeHashKeyed(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	res := payN(t, h, 2)
	require.NoError(t, h.eng.Close())
	data, err := os.ReadFile(filepath.Join(h.home, wbpay.JournalFile))
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(classCode(0)))
	assert.False(t, bytes.Contains(data, sum[:]), "raw SHA-256 of the code in the journal")
	assert.False(t, bytes.Contains(data, []byte(hex.EncodeToString(sum[:]))), "hex SHA-256 of the code in the journal")
	assert.False(t, bytes.Contains(data, []byte(classCode(0))), "the code itself in the journal")

	fi, err := os.Stat(filepath.Join(h.home, wbpay.UserCodeKeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	key, err := wbpay.UserCodeKey(h.home)
	require.NoError(t, err)
	snap := h.txn2(res[0].TransactionID)
	assert.True(t, journal.MatchUserCode(snap.UserCodeHash, key, classCode(0)), "the auditor's match with the key")
	assert.False(t, journal.MatchUserCode(snap.UserCodeHash, key, classCode(1)))
	assert.False(t, journal.MatchUserCode(snap.UserCodeHash, make([]byte, 32), classCode(0)), "no match without the key")

	logs, err := filepath.Glob(filepath.Join(layout.Home(h.home).Log(), "*"))
	require.NoError(t, err)
	kb, err := os.ReadFile(filepath.Join(h.home, wbpay.UserCodeKeyFile))
	require.NoError(t, err)
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		assert.False(t, bytes.Contains(b, bytes.TrimSpace(kb)), "the key is in the log %s", f)
	}
}

// TestRecoveryGoesOnWhenDamaged: on a journal known to be damaged, the
// intact unfinished transactions are still recovered, and only new
// requests are refused.
func TestRecoveryGoesOnWhenDamaged(t *testing.T) {
	h := newHarness(t, harnessOpt{conf: map[string]string{"PayConfirmPollingMode": "no", "PayConfirmPollingTimeout": "30"}})
	res := payN(t, h, 2)
	require.NoError(t, h.eng.Pay(&wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: classCode(7)}))
	first := h.waitEvents(3)
	require.Equal(t, "complete:WAITING", describe(first[2:]))
	id := first[2].Complete.TransactionID
	require.NoError(t, h.eng.Close())
	damageOrderKey(t, h.home, res[1])

	h.events = nil
	h.open(0)
	require.ErrorIs(t, h.eng.Damaged(), journal.ErrCorrupt)
	require.NoError(t, h.eng.WaitRecovered(context.Background()))
	reps := h.eng.Recovered()
	require.Len(t, reps, 1)
	assert.Equal(t, id, reps[0].TransactionID)
	require.NotNil(t, reps[0].Result)
	assert.Equal(t, fsm.StateReversed, reps[0].Result.State, "the waiting pay was finished by recovery")
	heldBy(0)(t, h.sim.Ledger(), &wbpay.Result{TransactionID: id})
	requireRefused(t, h)
}

// TestUnwritableLogDir: a Log/ that cannot be written is named with its
// cause, not reported as a bad configuration file.
func TestUnwritableLogDir(t *testing.T) {
	home := t.TempDir()
	writeKeys(t, home)
	writeConf(t, home, testgw.TestModeConf())
	logDir := layout.Home(home).Log()
	require.NoError(t, os.WriteFile(logDir, []byte("not a directory"), 0o644)) // unwritable even for root
	_, err := wbpay.Open(context.Background(), wbpay.WithHome(home))
	require.Error(t, err)
	assert.Equal(t, paytree.L0001, code(err))
	assert.Contains(t, err.Error(), "the log directory "+logDir+" cannot be written")
	assert.Contains(t, err.Error(), "is valid", "the configuration file itself is not blamed")
}

// TestPrivateKeyModeWarnedAtOpen: a private key readable by others is
// warned about in the log at every open, not only by config check.
func TestPrivateKeyModeWarnedAtOpen(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not show Windows ACLs")
	}
	h := newHarness(t, harnessOpt{})
	require.NoError(t, h.eng.Close())
	cfg := h.eng.Config()
	key := cfg.ResolvePath(h.home, cfg.PrivateKeyFile)
	require.NoError(t, os.Chmod(key, 0o644))
	for range 2 {
		h.open(0)
		require.NoError(t, h.eng.Close())
	}
	logs, err := filepath.Glob(filepath.Join(layout.Home(h.home).Log(), "*.log"))
	require.NoError(t, err)
	n := 0
	for _, f := range logs {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		n += strings.Count(string(b), "private key readable by others")
	}
	assert.Equal(t, 2, n, "one warning per open")
}

// TestRecordDamageKeepsFirst: a second record of damage keeps the first
// one and is not an error (the engine and verify may both record it).
func TestRecordDamageKeepsFirst(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, wbpay.RecordDamage(home, &journal.CorruptError{Path: "x", Reason: "first"}))
	require.NoError(t, wbpay.RecordDamage(home, &journal.CorruptError{Path: "x", Reason: "second"}), "an existing record is kept, not an error")
	b, err := os.ReadFile(filepath.Join(home, wbpay.DamageFile))
	require.NoError(t, err)
	assert.Contains(t, string(b), "first")
	assert.NotContains(t, string(b), "second")
}
