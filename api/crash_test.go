//go:build unix

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// tryRequest is request without failing on a transport error (the daemon
// may die while answering).
func (d *daemon) tryRequest(method, path string, body any) (answer, error) {
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, d.url+path, bytes.NewReader(js))
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a, err
}

// TestDaemonCrash SIGKILLs the daemon at crash points while it serves a
// request, restarts it, and checks that every transaction ends terminal
// and agrees with the gateway's ledger, and that a client which
// reconnects with Last-Event-ID gets, with what it saw before the crash,
// every event of the transaction exactly as the engine journaled it
// (deduplicated by id), the final one included.
func TestDaemonCrash(t *testing.T) {
	points := []string{
		"journal/commit/after#1",    // sending journaled, nothing sent
		"transport/send/before#1",   // about to send
		"transport/receive/after#1", // answered, the answer not journaled
		"journal/commit/before#2",
		"journal/commit/after#2",
		"journal/commit/after#3",
	}
	type scenario struct {
		name  string
		setup bool // pay first (refund, reverse)
		path  string
		body  func(order string) map[string]any
	}
	scenarios := []scenario{
		{"pay", false, "/v1/pay", func(string) map[string]any {
			return map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(0)}
		}},
		{"pay waiting", false, "/v1/pay", func(string) map[string]any {
			return map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(1)}
		}},
		{"refund", true, "/v1/refund", func(o string) map[string]any { return map[string]any{"orderId": o, "refundAmount": 400} }},
	}
	if testing.Short() {
		t.Skip("crash runs (skipped with -short)")
	}
	for _, sc := range scenarios {
		for _, point := range points {
			t.Run(sc.name+"/"+point, func(t *testing.T) {
				e := newEnv(t, nil)
				order := ""
				if sc.setup {
					d0 := e.startDaemon()
					p := d0.request("POST", "/v1/pay?wait=30", map[string]any{"payType": "PAYPAY", "amount": 1000, "userCode": classCode(0)})
					require.Equal(t, "paid", p.str("state"), "%s", p.raw)
					order = p.str("orderId")
					require.NoError(t, d0.cmd.Process.Signal(syscall.SIGTERM))
					_, code := d0.wait(10 * time.Second)
					require.Equal(t, 0, code)
				}
				d1 := e.startDaemon("WBPAY_CRASH_AT=" + point)
				seen := map[uint64]sseEvent{}
				ev1 := d1.events("after=0") // from the start: every event of the home
				a, _ := d1.tryRequest("POST", sc.path, sc.body(order))
				killed := false
				select {
				case <-d1.exited:
					killed = true
				case <-time.After(3 * time.Second):
				}
				// Keep what reached the client before the crash (or, when the
				// point was not reached, until the stream is quiet).
				for drained := false; !drained; {
					select {
					case ev, ok := <-ev1.events:
						if !ok {
							drained = true
							break
						}
						seen[ev.id] = ev
					case <-time.After(200 * time.Millisecond):
						drained = true
					}
				}
				d1.kill()
				ev1.close()
				var last uint64
				for id := range seen {
					last = max(last, id)
				}
				d2 := e.startDaemon()
				id := a.str("id")
				if id == "" {
					l := d2.request("GET", "/v1/transactions?"+q("limit", "1"), nil)
					txns, _ := l.body["transactions"].([]any)
					if len(txns) == 0 || (sc.setup && len(txns) == 1 && txns[0].(map[string]any)["operation"] == "pay") {
						t.Logf("killed=%v before the request was journaled: nothing to follow", killed)
						d2.stop(t)
						checkHome(t, e, nil, nil)
						return
					}
					id = txns[0].(map[string]any)["id"].(string)
				}
				ev2 := d2.events("", "Last-Event-ID", fmt.Sprint(last))
				var rest []sseEvent
				if tx := d2.request("GET", "/v1/transactions/"+id, nil); !isTerminal(tx.str("state")) || len(seen) == 0 || !hasFinal(seen, id) {
					rest = ev2.until(t, 60*time.Second, finalOf(id))
				}
				for _, ev := range rest {
					if old, dup := seen[ev.id]; dup {
						assert.Equal(t, old.kind, ev.kind, "event %d delivered twice with different content", ev.id)
					}
					seen[ev.id] = ev
				}
				d2.stop(t)
				checkHome(t, e, seen, []string{id})
				t.Logf("killed=%v, %d events", killed, len(seen))
			})
		}
	}
}

func isTerminal(state string) bool { return fsm.State(state).Terminal() }

func hasFinal(seen map[uint64]sseEvent, id string) bool {
	for _, ev := range seen {
		if finalOf(id)(ev) {
			return true
		}
	}
	return false
}

// stop sends SIGTERM and requires exit 0.
func (d *daemon) stop(t testing.TB) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	killed, code := d.wait(10 * time.Second)
	require.False(t, killed)
	require.Equal(t, 0, code, "stderr:\n%s", d.stderr)
}

// checkHome checks the stopped home: the hash chain, every transaction
// terminal, pays agreeing with the ledger, and for each txn in ids, that
// seen holds exactly the journal's events of it (ids, kinds, and the
// CompleteEvent's transStatus or the ErrorEvent's code).
func checkHome(t *testing.T, e *env, seen map[uint64]sseEvent, ids []string) {
	t.Helper()
	j, err := journal.Open(filepath.Join(e.home, wbpay.JournalFile), journal.Options{ReadOnly: true, Timeout: time.Second})
	require.NoError(t, err)
	defer j.Close()
	_, err = j.Verify()
	require.NoError(t, err, "hash chain")
	txns, err := j.List(journal.Query{})
	require.NoError(t, err)
	ledger := e.gw.Sim.Ledger()
	for _, tx := range txns {
		assert.True(t, tx.State.Terminal(), "%s %s is %s", tx.Op, tx.ID, tx.State)
		if tx.Op == paytree.OpPay {
			o, ok := ledger.OrderByRequestID(tx.ID)
			held := ok && o.MoneyHeld() > 0
			assert.Equal(t, tx.State == fsm.StatePaid, held, "pay %s is %s, gateway order %+v", tx.ID, tx.State, o)
		}
	}
	for _, id := range ids {
		want := map[uint64]string{}
		err := j.ForEachEntry(func(en journal.Entry) error {
			if en.TxnID != id {
				return nil
			}
			want[wbpay.StreamID(en.Seq, 0)] = "state/" + string(en.To)
			for i, rec := range en.Events {
				if rec.Error {
					want[wbpay.StreamID(en.Seq, i+1)] = fmt.Sprintf("error/%s/%v", rec.Err.Code, rec.Final)
				} else {
					want[wbpay.StreamID(en.Seq, i+1)] = fmt.Sprintf("complete/%s/%v", paytree.TransStatus(rec.TransStatus), rec.Final)
				}
			}
			return nil
		})
		require.NoError(t, err)
		got := map[uint64]string{}
		for evID, ev := range seen {
			if ev.data["transactionId"] != id {
				continue
			}
			switch ev.kind {
			case "state":
				got[evID] = "state/" + fmt.Sprint(ev.txn()["state"])
			case "error":
				got[evID] = fmt.Sprintf("error/%v/%v", ev.data["error"].(map[string]any)["code"], ev.data["final"])
			case "complete":
				got[evID] = fmt.Sprintf("complete/%v/%v", ev.txn()["transStatus"], ev.data["final"])
			}
		}
		assert.Equal(t, want, got, "the client's events of %s are the journal's", id)
	}
}
