package journal

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
	bolt "go.etcd.io/bbolt"
)

// TestFootprint appends finished four-entry pays one Append at a time (as the
// engine does; only fsync is off) and logs what each costs on disk.
func TestFootprint(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openAt(t, path)
	noSync(j)
	for i := range n {
		fullPay(t, j, i, t0.Add(time.Duration(i)*time.Second))
	}
	st, err := j.Stats()
	require.NoError(t, err)
	inUse := st.DataBytes - st.FreeBytes
	perPay := float64(inUse) / float64(n)
	t.Logf("%d finished pays of 4 entries: file %d B, pages in use %d B = %.0f B per pay (%.0f B of free pages per pay)",
		n, st.FileBytes, inUse, perPay, float64(st.FreeBytes)/float64(n))
	require.NoError(t, j.db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			bs := tx.Bucket(name).Stats()
			t.Logf("  %-10s %7.0f B/pay allocated, %7.0f B/pay used (%d keys)", name,
				float64(bs.LeafAlloc+bs.BranchAlloc)/float64(n), float64(bs.LeafInuse+bs.BranchInuse)/float64(n), bs.KeyN)
		}
		return nil
	}))
	assert.Less(t, perPay, 2048.0, "a finished pay must take at most 2 KiB of pages")
}

// EnvBenchTxns sizes BenchmarkOpenWithHistory's journal (default 100000).
const envBenchTxns = "WBPAY_BENCH_TXNS"

var history struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the history journal that benchmarks build once.
func TestMain(m *testing.M) {
	code := m.Run()
	if history.dir != "" {
		_ = os.RemoveAll(history.dir)
	}
	os.Exit(code)
}

// historyJournal builds, once per run, a closed journal of n finished pays
// (four entries each) and ten unfinished ones, written in large bbolt
// transactions without fsync (the layout is the same as one Append each).
func historyJournal(b *testing.B, n int) string {
	history.once.Do(func() {
		history.dir, history.err = os.MkdirTemp("", "journal-history-*")
		if history.err != nil {
			return
		}
		history.path = filepath.Join(history.dir, "journal.db")
		var j *Journal
		if j, history.err = Open(history.path, Options{}); history.err != nil {
			return
		}
		defer j.Close()
		noSync(j)
		const perTx = 2000
		for start := 0; start < n+10 && history.err == nil; start += perTx {
			history.err = j.db.Update(func(tx *bolt.Tx) error {
				for i := start; i < min(start+perTx, n+10); i++ {
					if err := bulkPay(j.path, tx, i, i < n); err != nil {
						return err
					}
				}
				return nil
			})
		}
	})
	require.NoError(b, history.err)
	return history.path
}

// bulkPay appends pay i (finished or left sending) inside tx.
func bulkPay(path string, tx *bolt.Tx, i int, finish bool) error {
	at := t0.Add(time.Duration(i) * time.Second)
	s := &Txn{ID: txnID(i), Op: paytree.OpPay, CreatedAt: at, UpdatedAt: at, Amount: 1000, PayType: "01",
		UserCodeMasked: MaskUserCode(testCode), UserCodeHash: HashUserCode(testCode), ReceiptNo: "R" + strconv.Itoa(i),
		Request: map[string]string{paytree.FPayType: "01", paytree.FAmount: "1000", paytree.FReceiptNo: "R" + strconv.Itoa(i)}}
	steps := []struct {
		ev fsm.Event
		to fsm.State
	}{{fsm.EvSend, fsm.StateSending}, {fsm.EvLost, fsm.StateUnknown}, {fsm.EvConfirm, fsm.StateConfirming}, {fsm.EvPaid, fsm.StatePaid}}
	if !finish {
		steps = steps[:1]
	}
	from := fsm.StateNew
	for _, st := range steps {
		s.State = st.to
		if st.to == fsm.StatePaid {
			s.OrderID = "ORD" + s.ID[8:24]
		}
		e := &Entry{TxnID: s.ID, Time: at, Event: st.ev, From: from, To: st.to, RequestID: s.ID, Kind: "pay"}
		if err := appendTx(path, tx, e, s, 0); err != nil {
			return err
		}
		from = st.to
	}
	return nil
}

// BenchmarkAppend times one durable Append (one bbolt Update, fsync'd),
// alternating the first and the last transition of a pay.
func BenchmarkAppend(b *testing.B) {
	j := openTest(b, func(o *Options) { o.Logger = nil })
	i := 0
	for b.Loop() {
		p := newPay(b, j, i, t0.Add(time.Duration(i)*time.Second))
		p.send()
		p.paid()
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*i), "ns/append")
}

// BenchmarkOpenWithHistory times what the engine does at start on a journal
// with a long history: Open (cheap checks) and Unfinished.
func BenchmarkOpenWithHistory(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv(envBenchTxns)); err == nil && v > 0 {
		n = v
	}
	path := historyJournal(b, n)
	fi, err := os.Stat(path)
	require.NoError(b, err)
	for b.Loop() {
		j, err := Open(path, Options{})
		require.NoError(b, err)
		us, err := j.Unfinished()
		require.NoError(b, err)
		require.Len(b, us, 10)
		require.NoError(b, j.Close())
	}
	b.ReportMetric(float64(fi.Size())/float64(n), "file-B/txn")
}
