package sim_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// storeEnv starts a simulator over HTTP that keeps its history in path.
func storeEnv(t *testing.T, path string, mod func(*sim.Config)) *env {
	t.Helper()
	return newEnv(t, func(c *sim.Config) {
		c.Store = path
		if mod != nil {
			mod(c)
		}
	})
}

// restart stops e's server and starts a new simulator on the same store,
// with the same clock and requestId sequence, as a restarted process would
// be: nothing is shared with the old Sim but the file.
func (e *env) restart(t *testing.T, path string, mod func(*sim.Config)) *env {
	t.Helper()
	e.srv.Close()
	n := newEnv(t, func(c *sim.Config) {
		c.Store = path
		c.Clock = e.clock
		if mod != nil {
			mod(c)
		}
	})
	n.clock = e.clock
	n.terminal = e.terminal
	e.mu.Lock()
	n.seq = e.seq
	e.mu.Unlock()
	return n
}

func ledgerJSON(t *testing.T, s *sim.Sim) string {
	t.Helper()
	b, err := json.Marshal(s.Ledger())
	require.NoError(t, err)
	return string(b)
}

// TestStoreSurvivesRestart: a pay made before a restart is confirmed PAID
// with the same orderId after it; its resend gets the stored answer, other
// content E3005; refunds continue from the stored refundedTotal.
func TestStoreSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim-store.json")
	e := storeEnv(t, path, nil)
	pid := e.id()
	pf := e.payFields(pid, "PAYPAY", classCode(0), 1000)
	first := ok(t, e.post(paths.Pay, pf), pid)
	require.Equal(t, paytree.CodeOK, first.code())
	oid := first.get(paytree.FOrderID)
	fid, f := e.refund(oid, 300)
	ok(t, f, fid)
	require.Equal(t, "300", f.get(paytree.FRefundedTotal))
	before := ledgerJSON(t, e.sim)

	e = e.restart(t, path, nil)
	assert.JSONEq(t, before, ledgerJSON(t, e.sim), "the ledger is restored as it was")

	c := e.confirmOK(pid, false)
	assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
	assert.Equal(t, oid, c.get(paytree.FOrderID), "the same orderId")
	assert.Equal(t, paytree.StatusPartiallyRefunded.Wire(), c.get(paytree.FTransStatus))
	c = e.confirmOK(fid, false)
	assert.Equal(t, "300", c.get(paytree.FRefundedTotal), "the refund is confirmed too")

	t.Run("resend gets the stored answer", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		pf[paytree.FRequestTime] = paytree.FormatTime(e.clock.Now())
		a := ok(t, e.post(paths.Pay, pf), pid)
		assert.Equal(t, paytree.CodeOK, a.code())
		assert.Equal(t, oid, a.get(paytree.FOrderID))
		assert.Equal(t, first.get(paytree.FTransTime), a.get(paytree.FTransTime))
		assert.Equal(t, paytree.StatusPaid.Wire(), a.get(paytree.FTransStatus), "the first answer, unchanged")
		r, found := e.request(pid)
		require.True(t, found)
		assert.Equal(t, 2, r.Count)
		assert.Len(t, e.sim.Ledger().Orders, 1, "no second order")
	})
	t.Run("other content E3005", func(t *testing.T) {
		other := pf.Clone()
		other[paytree.FAmount] = "999"
		a := ok(t, e.post(paths.Pay, other), pid)
		assert.Equal(t, paytree.E3005, a.code())
	})
	t.Run("refund continues", func(t *testing.T) {
		rid, a := e.refund(oid, 700)
		ok(t, a, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
		assert.Equal(t, "1000", a.get(paytree.FRefundedTotal))
		assert.Equal(t, paytree.StatusRefunded.Wire(), a.get(paytree.FTransStatus))
		rid, a = e.refund(oid, 1)
		ok(t, a, rid)
		assert.Equal(t, paytree.E3002, a.code(), "nothing left")
	})

	// And once more: what the second run added is kept as well.
	e = e.restart(t, path, nil)
	o, found := e.order(pid)
	require.True(t, found)
	assert.Equal(t, int64(1000), o.RefundedTotal)
	r, _ := e.request(pid)
	assert.Equal(t, 2, r.Count, "the resend's count was stored")
}

// TestStoreTombstone: a reverse of a never-received pay before the restart
// still refuses the late pay (E3004) after it.
func TestStoreTombstone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	e := storeEnv(t, path, nil)
	vid, v := e.reverseByRequest("late-pay-1")
	ok(t, v, vid)
	require.Equal(t, paytree.CodeOK, v.code())
	require.Equal(t, "0", v.get(paytree.FAmount))

	e = e.restart(t, path, nil)
	a := ok(t, e.post(paths.Pay, e.payFields("late-pay-1", "PAYPAY", classCode(0), 500)), "late-pay-1")
	assert.Equal(t, paytree.E3004, a.code())
	assert.Empty(t, e.sim.Ledger().Orders, "no money taken")
	assert.Zero(t, e.sim.Ledger().MoneyHeld())
	c := e.confirmOK(vid, false)
	assert.Equal(t, "0", c.get(paytree.FAmount), "the reverse is confirmed")
}

// TestStorePendingSettles: a WAITING pay (class 1, 6, 7) and a PROCESSING
// one made before the restart settle after it, at the time set when they
// were made.
func TestStorePendingSettles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	e := storeEnv(t, path, func(c *sim.Config) {
		c.ApproveAfter = 5 * time.Second
		c.ApprovalTimeout = 30 * time.Second
	})
	waiting := map[int]string{}
	for _, class := range []int{1, 6, 7} {
		rid, a := e.pay("PAYPAY", classCode(class), 100)
		ok(t, a, rid)
		require.Equal(t, paytree.StatusWaiting.Wire(), a.get(paytree.FTransStatus))
		waiting[class] = rid
	}
	e.sim.SetFaults([]sim.Fault{{Kind: sim.FaultProcessing, Op: paytree.OpPay, Settle: 10 * time.Second, SettleFail: true}})
	proc, a := e.pay("PAYPAY", classCode(0), 100)
	ok(t, a, proc)
	require.Equal(t, paytree.StatusProcessing.Wire(), a.get(paytree.FTransStatus))

	// The new simulator's ApproveAfter is not the one the pays were made with.
	e = e.restart(t, path, nil)
	e.clock.Advance(4 * time.Second)
	assert.Equal(t, paytree.StatusWaiting.Wire(), e.confirmOK(waiting[1], false).get(paytree.FTransStatus), "not yet approved")
	assert.Equal(t, paytree.StatusProcessing.Wire(), e.confirmOK(proc, false).get(paytree.FTransStatus))
	e.clock.Advance(2 * time.Second)
	c := e.confirmOK(waiting[1], false)
	assert.Equal(t, paytree.StatusPaid.Wire(), c.get(paytree.FTransStatus), "class 1 approved after the restart")
	assert.Equal(t, paytree.CodeOK, c.get(paytree.FTargetResultCode))
	c = e.confirmOK(waiting[6], false)
	assert.Equal(t, paytree.StatusCancelled.Wire(), c.get(paytree.FTransStatus))
	assert.Equal(t, paytree.E2004, c.get(paytree.FTargetResultCode))
	assert.Equal(t, paytree.StatusWaiting.Wire(), e.confirmOK(waiting[7], false).get(paytree.FTransStatus))

	e.clock.Advance(5 * time.Second)
	c = e.confirmOK(proc, false)
	assert.Equal(t, paytree.StatusFailed.Wire(), c.get(paytree.FTransStatus), "settles as configured before the restart")
	assert.Equal(t, paytree.E2006, c.get(paytree.FTargetResultCode))

	e = e.restart(t, path, nil)
	e.clock.Advance(20 * time.Second)
	c = e.confirmOK(waiting[7], false)
	assert.Equal(t, paytree.StatusExpired.Wire(), c.get(paytree.FTransStatus))
	assert.Equal(t, paytree.E2005, c.get(paytree.FTargetResultCode))
}

// TestStoreLostAnswers: the answers that were never seen are kept too — a
// class-2 pay stays lost for ever and can be reversed, a class-1 refund's
// resend gets its stored answer.
func TestStoreLostAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	e := storeEnv(t, path, func(c *sim.Config) { c.Classes.Refund = 1 })
	lostID := e.id()
	lf := e.payFields(lostID, "PAYPAY", classCode(2), 800)
	require.Error(t, e.post(paths.Pay, lf).err, "class 2: the answer is lost")
	pid, oid := e.payOK(1000)
	fid := e.id()
	ff := e.refundFields(fid, oid, 400)
	require.Error(t, e.post(paths.Refund, ff).err, "refund class 1: the first answer is lost")

	e = e.restart(t, path, nil)
	assert.Error(t, e.post(paths.Pay, lf).err, "the class-2 pay's resend is still lost")
	_, c := e.confirm(lostID, false)
	assert.Error(t, c.err, "and so is its confirm")
	vid, v := e.reverseByRequest(lostID)
	ok(t, v, vid)
	assert.Equal(t, "800", v.get(paytree.FAmount), "the reverse returns the money")

	a := ok(t, e.post(paths.Refund, ff), fid)
	assert.Equal(t, paytree.CodeOK, a.code())
	assert.Equal(t, "400", a.get(paytree.FRefundedTotal), "the stored answer")
	o, _ := e.order(pid)
	assert.Equal(t, int64(400), o.RefundedTotal, "refunded once")
}

// TestStoreRoutes: the route is kept by name, so a V1 pay is still
// confirmed on ApiPathConfirmV1 only, even when the new simulator serves
// other paths.
func TestStoreRoutes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	e := storeEnv(t, path, nil)
	pid, a := e.payV1("281234567890123456", 100)
	ok(t, a, pid)
	require.Equal(t, paytree.CodeOK, a.code())

	e = e.restart(t, path, func(c *sim.Config) { c.Paths.ConfirmV1 = "/other/v1/confirm" })
	cid := e.id()
	c := ok(t, e.post(paths.Confirm, e.with(cid, paytree.Fields{paytree.FTargetRequestID: pid})), cid)
	assert.Equal(t, paytree.E1001, c.code(), "the V3 confirm path is the wrong one")
	cid = e.id()
	c = ok(t, e.post("/other/v1/confirm", e.with(cid, paytree.Fields{paytree.FTargetRequestID: pid})), cid)
	assert.Equal(t, paytree.CodeOK, c.code())
	assert.Equal(t, paytree.StatusPaid.Wire(), c.get(paytree.FTransStatus))
}

// TestStoreOrderIDsUnique: order ids issued after a restart differ from
// the restored ones (all within the same second, with the same clock).
func TestStoreOrderIDsUnique(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	e := storeEnv(t, path, nil)
	seen := map[string]bool{}
	for range 5 {
		_, oid := e.payOK(100)
		require.False(t, seen[oid])
		seen[oid] = true
	}
	for range 3 {
		e = e.restart(t, path, nil)
		for range 5 {
			_, oid := e.payOK(100)
			require.False(t, seen[oid], "orderId %s repeated after a restart", oid)
			seen[oid] = true
		}
	}
	assert.Len(t, e.sim.Ledger().Orders, 20)
}

// TestStoreConcurrent: concurrent requests all reach the store; the last
// write holds every one of them.
func TestStoreConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	e := storeEnv(t, path, nil)
	const n = 24
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rid := e.id()
			ids[i] = rid
			a := e.post(paths.Pay, e.payFields(rid, "PAYPAY", classCode(0), int64(100+i)))
			assert.NoError(t, a.err)
			assert.Equal(t, paytree.CodeOK, a.code())
		}()
	}
	wg.Wait()
	before := ledgerJSON(t, e.sim)
	e = e.restart(t, path, nil)
	assert.JSONEq(t, before, ledgerJSON(t, e.sim))
	for _, rid := range ids {
		_, found := e.order(rid)
		assert.True(t, found, "pay %s kept", rid)
	}
}

// TestStoreFile: the store is a readable versioned JSON file, private to
// its owner, created at once when missing.
func TestStoreFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.json")
	e := storeEnv(t, path, nil)
	st, err := os.Stat(path)
	require.NoError(t, err, "created by New")
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	pid, oid := e.payOK(1000)
	vid, _ := e.reverseByRequest("never-1")

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc struct {
		Version  int `json:"version"`
		Orders   []map[string]any
		Requests []map[string]any
		Tombs    []map[string]string `json:"tombstones"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, sim.StoreVersion, doc.Version)
	require.Len(t, doc.Orders, 1)
	assert.Equal(t, oid, doc.Orders[0]["orderId"])
	require.Len(t, doc.Requests, 2)
	assert.Equal(t, pid, doc.Requests[0]["requestId"])
	assert.Equal(t, "Pay", doc.Requests[0]["route"])
	assert.Equal(t, vid, doc.Requests[1]["requestId"])
	assert.Equal(t, []map[string]string{{"terminalUniqueId": testTerminalID, "requestId": "never-1"}}, doc.Tombs)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

// TestStoreCorrupt: a store New cannot use is an error wrapping ErrStore
// that names the file, and the file is left as it was.
func TestStoreCorrupt(t *testing.T) {
	gw, client, _ := testKeys(t)
	// A valid store to damage.
	good := filepath.Join(t.TempDir(), "good.json")
	e := storeEnv(t, good, nil)
	_, oid := e.payOK(1000)
	e.refund(oid, 100)
	valid, err := os.ReadFile(good)
	require.NoError(t, err)

	tests := []struct {
		name, content, want string
	}{
		{"garbage", "not json at all \x00\x01", "invalid JSON"},
		{"empty", "", "truncated or empty"},
		{"truncated", string(valid[:len(valid)/2]), "truncated"},
		{"trailing data", string(valid) + "{}", "data after"},
		{"wrong version", strings.Replace(string(valid), `"version": 1`, `"version": 2`, 1), "version 2, want 1"},
		{"another layout", `{"version":2,"history":{"orders":{}}}`, "version 2, want 1"},
		{"no version", `{"orders":[],"requests":[],"tombstones":[]}`, "version 0, want 1"},
		{"unknown field", `{"version":1,"orders":[],"requests":[],"tombstones":[],"extra":1}`, "unknown field"},
		{"unknown route", strings.Replace(string(valid), `"route": "Refund"`, `"route": "Teleport"`, 1), `route "Teleport"`},
		{"dangling orderId", strings.Replace(string(valid), `"count": 1,`+"\n      "+`"orderId": "`+oid+`"`, `"count": 1,`+"\n      "+`"orderId": "PTNOPE"`, 1), `orderId "PTNOPE" is not among the orders`},
		{"unknown status", strings.Replace(string(valid), `"transStatus": 9`, `"transStatus": 42`, 1), "transStatus 42"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, string(valid), tc.content, "the case damages the file")
			path := filepath.Join(t.TempDir(), "store.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			s, err := sim.New(sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, Store: path})
			require.Error(t, err)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, sim.ErrStore)
			assert.Contains(t, err.Error(), path, "the error names the file")
			assert.Contains(t, err.Error(), tc.want)
			t.Log(err)
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, tc.content, string(after), "the file is not overwritten")
		})
	}

	t.Run("unreadable", func(t *testing.T) {
		dir := t.TempDir() // a directory is not a file
		_, err := sim.New(sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, Store: dir})
		assert.ErrorIs(t, err, sim.ErrStore)
		assert.Contains(t, err.Error(), dir)
	})
	t.Run("cannot be created", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no-such-dir", "store.json")
		_, err := sim.New(sim.Config{PrivateKey: gw, ClientPublicKey: &client.PublicKey, Store: path})
		assert.ErrorIs(t, err, sim.ErrStore)
		assert.Contains(t, err.Error(), path)
	})
}

// TestStoreWriteFails: when the store cannot be written, the request
// (processed in memory) is answered HTTP 500 — never a success that a
// restart would forget.
func TestStoreWriteFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	require.NoError(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "store.json")
	e := storeEnv(t, path, nil)
	e.payOK(100)
	require.NoError(t, os.RemoveAll(dir))
	rid, a := e.pay("PAYPAY", classCode(0), 100)
	require.NoError(t, a.err)
	assert.Equal(t, http.StatusInternalServerError, a.status, "body %q", a.raw)
	assert.Contains(t, string(a.raw), "store")

	// Once the store can be written again, the next request saves it all.
	require.NoError(t, os.Mkdir(dir, 0o700))
	e.payOK(100)
	e = e.restart(t, path, nil)
	_, found := e.order(rid)
	assert.True(t, found, "the pay answered 500 was processed and is now stored")
}

// TestMemoryOnly: without a store nothing is written and a new simulator
// knows nothing of the old one's orders.
func TestMemoryOnly(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	e := newEnv(t, nil)
	pid, _ := e.payOK(1000)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no file written")

	n := newEnv(t, nil)
	n.seq = 100
	cid, c := n.confirm(pid, false)
	ok(t, c, cid)
	assert.Equal(t, paytree.E3001, c.code(), "the history lived in the old simulator only")
}
