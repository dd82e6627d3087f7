package command

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
)

// damageOrderIndex flips a byte of every copy of the order index key of
// (orderID, txnID) in the home's journal file and returns the file's bytes.
func damageOrderIndex(t *testing.T, home, orderID, txnID string) []byte {
	t.Helper()
	path := filepath.Join(home, wbpay.JournalFile)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	key := append(append([]byte(orderID), 0), txnID...)
	n := 0
	for i := bytes.Index(data, key); i >= 0; i = bytes.Index(data, key) {
		data[i+len(key)-1] ^= 0x01
		n++
	}
	require.Positive(t, n, "the order index key is in the file")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return data
}

// TestDamagedJournalRefusesPay: once verify has found the journal damaged
// (the order index page), pay is refused with L0007 and nothing is sent.
func TestDamagedJournalRefusesPay(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	_, first := e.payJSON("--amount", "1000", "--user-code", "281234567890123456")
	require.Equal(t, "paid", first.State)
	e.payJSON("--amount", "1200", "--user-code", "281234567890123456")
	damageOrderIndex(t, e.home, first.OrderID, first.TransactionID)

	v := e.run("verify")
	assert.Equal(t, ExitLibrary, v.code)
	assert.Contains(t, v.stdout, "journal DAMAGED")
	assert.Contains(t, v.stdout, "order index")
	before := len(e.sim.Ledger().Requests)
	p := e.run("pay", "--amount", "500", "--user-code", "281234567890123456")
	assert.Equal(t, ExitLibrary, p.code)
	assert.Contains(t, p.stderr, "L0007")
	assert.Contains(t, p.stderr, "damaged")
	assert.Equal(t, before, len(e.sim.Ledger().Requests), "nothing was sent on the damaged journal")
	assert.Equal(t, int64(2200), e.sim.Ledger().MoneyHeld(), "the gateway holds only the two pays")
}

// TestRepairCommand: repair rebuilds a damaged journal (the damaged file
// kept as .broken), verify is clean again, recovery finishes the
// unfinished pay that the repair carried over, and pay works again.
func TestRepairCommand(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	_, first := e.payJSON("--amount", "1000", "--user-code", "281234567890123456")
	require.Equal(t, "paid", first.State)
	e.payJSON("--amount", "1200", "--user-code", "281234567890123456")
	crashed := e.crashedPay(2500)
	damaged := damageOrderIndex(t, e.home, first.OrderID, first.TransactionID)
	v := e.run("verify")
	require.Equal(t, ExitLibrary, v.code)

	r := e.run("repair", "-o", "json")
	require.Equal(t, ExitOK, r.code, r.stderr)
	var rep repairJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.Empty(t, rep.Lost, "an index is derived again: no entry lost")
	assert.Equal(t, 1, rep.Unfinished)
	assert.Contains(t, rep.Damage, "order index")
	path := filepath.Join(e.home, wbpay.JournalFile)
	broken, err := os.ReadFile(path + journal.BrokenSuffix)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(damaged, broken), "the damaged file is kept untouched")

	v = e.run("verify")
	assert.Equal(t, ExitOK, v.code)
	assert.Contains(t, v.stdout, "journal OK")

	rc := e.run("recover", "-o", "json")
	require.Equal(t, ExitOK, rc.code)
	var out []recoveryJSON
	require.NoError(t, json.Unmarshal([]byte(rc.stdout), &out))
	require.Len(t, out, 1)
	assert.Equal(t, crashed, out[0].TransactionID)
	assert.Equal(t, "paid", out[0].To)
	o, ok := e.sim.Ledger().OrderByRequestID(crashed)
	require.True(t, ok)
	assert.Equal(t, int64(2500), o.MoneyHeld(), "journal paid ⇔ the gateway holds the money")

	_, again := e.payJSON("--amount", "700", "--user-code", "281234567890123456")
	assert.Equal(t, "paid", again.State, "requests are accepted on the repaired journal")

	r = e.run("repair")
	assert.Equal(t, ExitLibrary, r.code, "an intact journal is not repaired")
	assert.Contains(t, r.stderr, "nothing to repair")
}

// TestRepairNeverOverwrites: a .broken copy from an earlier repair stops a
// new one before anything changes.
func TestRepairNeverOverwrites(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	_, first := e.payJSON("--amount", "1000", "--user-code", "281234567890123456")
	damaged := damageOrderIndex(t, e.home, first.OrderID, first.TransactionID)
	path := filepath.Join(e.home, wbpay.JournalFile)
	require.NoError(t, os.WriteFile(path+journal.BrokenSuffix, []byte("earlier"), 0o600))
	r := e.run("repair")
	assert.Equal(t, ExitLibrary, r.code)
	assert.Contains(t, r.stderr, "never overwritten")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(damaged, got), "the damaged journal is left as it was")
}

// TestDeletedJournalCommands: after the journal is deleted, verify and pay
// refuse with the way forward; init --start-over gives the history up
// (logged) and the next pay starts a new journal.
func TestDeletedJournalCommands(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("pay", "--amount", "1000", "--user-code", "281234567890123456")
	require.Equal(t, ExitOK, r.code)
	require.NoError(t, os.Remove(filepath.Join(e.home, wbpay.JournalFile)))

	v := e.run("verify")
	assert.Equal(t, ExitLibrary, v.code)
	assert.Contains(t, v.stderr, "is missing")
	assert.Contains(t, v.stderr, "init --start-over")
	p := e.run("pay", "--amount", "1000", "--user-code", "281234567890123456")
	assert.Equal(t, ExitLibrary, p.code)
	assert.Contains(t, p.stderr, "is missing")
	_, err := os.Stat(filepath.Join(e.home, wbpay.JournalFile))
	assert.ErrorIs(t, err, os.ErrNotExist, "no empty journal replaced it")

	s := e.run("init", "--start-over")
	require.Equal(t, ExitOK, s.code)
	assert.Contains(t, s.stdout, "gave up the lost journal")
	p = e.run("pay", "--amount", "1000", "--user-code", "281234567890123456")
	assert.Equal(t, ExitOK, p.code)
	v = e.run("verify")
	assert.Equal(t, ExitOK, v.code)
}
