package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
	"go.uber.org/zap/zaptest"
)

// t0 is the tests' epoch: 2025-04-01 10:00 JST.
var t0 = time.Date(2025, 4, 1, 10, 0, 0, 0, paytree.JST)

// testCode is a made-up userCode (test data only).
const testCode = "281234567890123456"

// txnID returns a 32-hex id that sorts by n, as UUIDv7 ids sort by time.
func txnID(n int) string { return fmt.Sprintf("0195f3a2%08x7000800000%06x", n, n%0x1000000) }

// openTest opens a new journal in a temp dir and closes it at cleanup.
func openTest(t testing.TB, opts ...func(*Options)) *Journal {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "journal.db"), opts...)
}

func openAt(t testing.TB, path string, opts ...func(*Options)) *Journal {
	t.Helper()
	o := Options{Logger: zaptest.NewLogger(t)}
	for _, f := range opts {
		f(&o)
	}
	j, err := Open(path, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return j
}

// noSync turns off fsync for tests that build many transactions; the layout
// written is the same.
func noSync(j *Journal) { j.db.NoSync = true }

// tb drives one transaction through the journal like the engine does.
type tb struct {
	t    testing.TB
	j    *Journal
	snap *Txn
	at   time.Time
}

// newPay starts (in memory, nothing journaled) pay number n created at at.
func newPay(t testing.TB, j *Journal, n int, at time.Time) *tb {
	id := txnID(n)
	return &tb{t: t, j: j, at: at, snap: &Txn{
		ID: id, Op: paytree.OpPay, State: fsm.StateNew, CreatedAt: at, UpdatedAt: at, Amount: 1000 + int64(n),
		PayType: "01", UserCodeMasked: MaskUserCode(testCode), UserCodeHash: HashUserCode(testCode),
		ReceiptNo: fmt.Sprintf("R%06d", n),
		Request:   map[string]string{paytree.FPayType: "01", paytree.FAmount: fmt.Sprint(1000 + n), paytree.FReceiptNo: fmt.Sprintf("R%06d", n)},
	}}
}

// step journals ev to state to, after mutate changes the snapshot; it
// returns Append's error and keeps the snapshot only on success.
func (b *tb) step(ev fsm.Event, to fsm.State, e Entry, mutate func(*Txn)) (*Entry, error) {
	snap := *b.snap
	if mutate != nil {
		mutate(&snap)
	}
	b.at = b.at.Add(time.Second)
	snap.State, snap.UpdatedAt = to, b.at
	e.TxnID, e.Event, e.From, e.To, e.Time = snap.ID, ev, b.snap.State, to, b.at
	if err := b.j.Append(&e, &snap); err != nil {
		return nil, err
	}
	b.snap = &snap
	return &e, nil
}

func (b *tb) must(ev fsm.Event, to fsm.State, e Entry, mutate func(*Txn)) *Entry {
	b.t.Helper()
	got, err := b.step(ev, to, e, mutate)
	require.NoError(b.t, err)
	return got
}

// send journals new → sending.
func (b *tb) send() *Entry {
	b.t.Helper()
	return b.must(fsm.EvSend, fsm.StateSending, Entry{RequestID: b.snap.ID, Kind: "pay"}, func(s *Txn) {
		s.Step = Step{RequestID: s.ID, Kind: "pay", ReverseRequestID: "rv" + s.ID[2:]}
	})
}

// paid journals → paid with an order id.
func (b *tb) paid() *Entry {
	b.t.Helper()
	return b.must(fsm.EvPaid, fsm.StatePaid, Entry{RequestID: b.snap.Step.RequestID, Kind: "pay", HTTP: "200", ResultCode: "OK"}, func(s *Txn) {
		s.OrderID = "ORD" + s.ID[8:24]
		s.TransStatus = int(paytree.StatusPaid)
	})
}

// fullPay journals a four-entry pay: send, lost, confirm, paid.
func fullPay(t testing.TB, j *Journal, n int, at time.Time) *tb {
	t.Helper()
	b := newPay(t, j, n, at)
	b.send()
	b.must(fsm.EvLost, fsm.StateUnknown, Entry{RequestID: b.snap.ID, Kind: "pay", HTTP: "timeout",
		Error: &ErrorInfo{Type: 3, Code: "L0001", Message: "no answer", Action: "Retry"}}, nil)
	b.must(fsm.EvConfirm, fsm.StateConfirming, Entry{RequestID: fmt.Sprintf("c%031d", n), Kind: "confirm", Note: "confirm " + b.snap.ID},
		func(s *Txn) { s.Step.Confirms++ })
	b.paid()
	return b
}

func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
