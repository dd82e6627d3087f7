package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

func TestAppendGetEntries(t *testing.T) {
	j := openTest(t)
	a := fullPay(t, j, 1, t0)
	b := newPay(t, j, 2, t0.Add(time.Minute))
	b.send()
	a2 := newPay(t, j, 3, t0.Add(2*time.Minute))
	a2.send()
	b.paid()

	tests := []struct {
		name   string
		b      *tb
		states []fsm.State
		seqs   []uint64
	}{
		{"four-entry pay", a, []fsm.State{fsm.StateSending, fsm.StateUnknown, fsm.StateConfirming, fsm.StatePaid}, []uint64{1, 2, 3, 4}},
		{"interleaved pay", b, []fsm.State{fsm.StateSending, fsm.StatePaid}, []uint64{5, 7}},
		{"unfinished pay", a2, []fsm.State{fsm.StateSending}, []uint64{6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := j.Get(tc.b.snap.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.b.snap.State, got.State)
			assert.Equal(t, tc.b.snap.OrderID, got.OrderID)
			assert.True(t, tc.b.snap.CreatedAt.Equal(got.CreatedAt), "createdAt: got %v, want %v", got.CreatedAt, tc.b.snap.CreatedAt)
			assert.Equal(t, tc.b.snap.Request, got.Request)
			assert.Equal(t, tc.b.snap.Step, got.Step)

			es, err := j.Entries(tc.b.snap.ID)
			require.NoError(t, err)
			require.Len(t, es, len(tc.states))
			from := fsm.StateNew
			for i, e := range es {
				assert.Equal(t, tc.seqs[i], e.Seq, "entry %d seq", i)
				assert.Equal(t, from, e.From, "entry %d from", i)
				assert.Equal(t, tc.states[i], e.To, "entry %d to", i)
				assert.Len(t, e.Hash, 64)
				from = e.To
			}
		})
	}

	t.Run("chain links every entry to the previous one", func(t *testing.T) {
		prev := ""
		n := 0
		require.NoError(t, j.ForEachEntry(func(e Entry) error {
			n++
			assert.Equal(t, uint64(n), e.Seq)
			assert.Equal(t, prev, e.PrevHash, "entry %d prevHash", e.Seq)
			prev = e.Hash
			return nil
		}))
		assert.Equal(t, 7, n)
		rep, err := j.Verify()
		require.NoError(t, err)
		assert.Equal(t, Report{Entries: 7, Txns: 3, LastSeq: 7, LastHash: prev}, rep)
	})

	t.Run("append fills seq and hashes into the caller's entry", func(t *testing.T) {
		c := newPay(t, j, 4, t0.Add(3*time.Minute))
		es, err := j.Entries(b.snap.ID)
		require.NoError(t, err)
		e := c.send()
		assert.Equal(t, uint64(8), e.Seq)
		assert.Equal(t, es[len(es)-1].Hash, e.PrevHash)
		stored, err := j.Entries(c.snap.ID)
		require.NoError(t, err)
		assert.Equal(t, e.Hash, stored[0].Hash)
		assert.True(t, e.Time.Equal(stored[0].Time))
	})

	t.Run("unknown id", func(t *testing.T) {
		_, err := j.Get("nope")
		assert.ErrorIs(t, err, ErrNotFound)
		_, err = j.Entries("nope")
		assert.ErrorIs(t, err, ErrNotFound)
	})
}

func TestAppendRejects(t *testing.T) {
	j := openTest(t)
	done := fullPay(t, j, 1, t0)
	open := newPay(t, j, 2, t0)
	open.send()
	before, err := j.Stats()
	require.NoError(t, err)

	good := func() (*Entry, *Txn) {
		s := *open.snap
		s.State = fsm.StateUnknown
		return &Entry{TxnID: s.ID, Time: t0.Add(time.Hour), Event: fsm.EvLost, From: fsm.StateSending, To: fsm.StateUnknown}, &s
	}
	tests := []struct {
		name   string
		change func(e *Entry, s *Txn) (*Entry, *Txn)
		want   error
	}{
		{"empty txn id", func(e *Entry, s *Txn) (*Entry, *Txn) { e.TxnID = ""; return e, s }, ErrConflict},
		{"snapshot of another txn", func(e *Entry, s *Txn) (*Entry, *Txn) { s.ID = done.snap.ID; return e, s }, ErrConflict},
		{"entry to another state than the snapshot", func(e *Entry, s *Txn) (*Entry, *Txn) { e.To = fsm.StatePaid; return e, s }, ErrConflict},
		{"from is not the stored state", func(e *Entry, s *Txn) (*Entry, *Txn) { e.From = fsm.StateConfirming; return e, s }, ErrConflict},
		{"new txn not from new", func(e *Entry, s *Txn) (*Entry, *Txn) { e.TxnID, s.ID = "fresh", "fresh"; return e, s }, ErrConflict},
		{"existing txn from new", func(e *Entry, s *Txn) (*Entry, *Txn) { e.From = fsm.StateNew; return e, s }, ErrConflict},
		{"transition out of a terminal txn from a stale state", func(e *Entry, s *Txn) (*Entry, *Txn) {
			e.TxnID, s.ID = done.snap.ID, done.snap.ID
			return e, s
		}, ErrConflict},
		{"nil entry", func(_ *Entry, s *Txn) (*Entry, *Txn) { return nil, s }, ErrInvalid},
		{"nil snapshot", func(e *Entry, _ *Txn) (*Entry, *Txn) { return e, nil }, ErrInvalid},
		{"to new", func(e *Entry, s *Txn) (*Entry, *Txn) { e.To, s.State = fsm.StateNew, fsm.StateNew; return e, s }, ErrInvalid},
		{"zero time", func(e *Entry, s *Txn) (*Entry, *Txn) { e.Time = time.Time{}; return e, s }, ErrInvalid},
		{"zero createdAt", func(e *Entry, s *Txn) (*Entry, *Txn) { s.CreatedAt = time.Time{}; return e, s }, ErrInvalid},
		{"NUL in order id", func(e *Entry, s *Txn) (*Entry, *Txn) { s.OrderID = "a\x00b"; return e, s }, ErrInvalid},
		{"over-long receipt", func(e *Entry, s *Txn) (*Entry, *Txn) { s.ReceiptNo = strings.Repeat("9", 300); return e, s }, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, s := tc.change(good())
			err := j.Append(e, s)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			if e != nil {
				assert.Zero(t, e.Seq, "a refused entry gets no seq")
			}
			after, err := j.Stats()
			require.NoError(t, err)
			assert.Equal(t, before.LastSeq, after.LastSeq, "nothing stored")
			got, err := j.Get(open.snap.ID)
			require.NoError(t, err)
			assert.Equal(t, fsm.StateSending, got.State)
		})
	}
	e, s := good()
	require.NoError(t, j.Append(e, s), "the unchanged entry is accepted")
	_, err = j.Verify()
	require.NoError(t, err)
}

func TestUnfinishedIndex(t *testing.T) {
	j := openTest(t)
	ids := func() []string {
		us, err := j.Unfinished()
		require.NoError(t, err)
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	// Created in the order 3, 1, 2 so that oldest-first is not id order.
	p3 := newPay(t, j, 3, t0)
	p1 := newPay(t, j, 1, t0.Add(time.Minute))
	p2 := newPay(t, j, 2, t0.Add(2*time.Minute))
	assert.Empty(t, ids())

	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"sent", func() { p1.send(); p2.send(); p3.send() }, []string{p3.snap.ID, p1.snap.ID, p2.snap.ID}},
		{"answer lost stays unfinished", func() {
			p1.must(fsm.EvLost, fsm.StateUnknown, Entry{HTTP: "timeout"}, nil)
		}, []string{p3.snap.ID, p1.snap.ID, p2.snap.ID}},
		{"paid leaves", func() { p3.paid() }, []string{p1.snap.ID, p2.snap.ID}},
		{"waiting stays", func() { p2.must(fsm.EvWait, fsm.StateWaiting, Entry{}, nil) }, []string{p1.snap.ID, p2.snap.ID}},
		{"reversing stays", func() {
			p1.must(fsm.EvReverse, fsm.StateReversing, Entry{Kind: "reverse"}, nil)
		}, []string{p1.snap.ID, p2.snap.ID}},
		{"escalated leaves", func() { p1.must(fsm.EvEscalate, fsm.StateEscalated, Entry{}, nil) }, []string{p2.snap.ID}},
		{"failed leaves", func() {
			p2.must(fsm.EvConfirm, fsm.StateConfirming, Entry{}, nil)
			p2.must(fsm.EvFail, fsm.StateFailed, Entry{}, nil)
		}, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			assert.Equal(t, st.want, ids())
			for _, s := range fsm.AllStates() {
				if s.Terminal() || s == fsm.StateNew {
					continue
				}
				got, err := j.List(Query{State: s})
				require.NoError(t, err)
				for _, g := range got {
					assert.Equal(t, s, g.State)
				}
			}
			_, err := j.Verify()
			require.NoError(t, err)
		})
	}
}

func TestByOrderAndReceipt(t *testing.T) {
	j := openTest(t)
	pay := newPay(t, j, 1, t0)
	pay.send()
	pay.paid()
	order := pay.snap.OrderID
	other := fullPay(t, j, 2, t0.Add(time.Minute))

	settle := func(n int, op paytree.Operation, at time.Time, done fsm.State) *tb {
		b := newPay(t, j, n, at)
		b.snap.Op, b.snap.OrderID, b.snap.ReceiptNo = op, order, "R-REFUND"
		b.snap.TargetRequestID = pay.snap.ID
		b.must(fsm.EvSend, fsm.StateSending, Entry{Kind: op.String()}, nil)
		b.must(fsm.EvDone, done, Entry{Kind: op.String(), HTTP: "200"}, nil)
		return b
	}
	refund := settle(10, paytree.OpRefund, t0.Add(2*time.Minute), fsm.StateRefunded)
	reverse := settle(11, paytree.OpReverse, t0.Add(3*time.Minute), fsm.StateReversed)

	tests := []struct {
		name string
		get  func() ([]*Txn, error)
		want []string
	}{
		{"order: the pay, its refund and its reverse, oldest first", func() ([]*Txn, error) { return j.ByOrderID(order) },
			[]string{pay.snap.ID, refund.snap.ID, reverse.snap.ID}},
		{"order: another pay", func() ([]*Txn, error) { return j.ByOrderID(other.snap.OrderID) }, []string{other.snap.ID}},
		{"order: unknown", func() ([]*Txn, error) { return j.ByOrderID("ORD-NONE") }, nil},
		{"order: a prefix of a real one matches nothing", func() ([]*Txn, error) { return j.ByOrderID(order[:5]) }, nil},
		{"order: empty", func() ([]*Txn, error) { return j.ByOrderID("") }, nil},
		{"receipt: one", func() ([]*Txn, error) { return j.ByReceiptNo(pay.snap.ReceiptNo) }, []string{pay.snap.ID}},
		{"receipt: shared", func() ([]*Txn, error) { return j.ByReceiptNo("R-REFUND") }, []string{refund.snap.ID, reverse.snap.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			require.NoError(t, err)
			var ids []string
			for _, g := range got {
				ids = append(ids, g.ID)
			}
			assert.Equal(t, tc.want, ids)
		})
	}

	t.Run("an order id set later moves the index", func(t *testing.T) {
		b := newPay(t, j, 20, t0.Add(time.Hour))
		b.send()
		got, err := j.ByOrderID("ORD" + b.snap.ID[8:24])
		require.NoError(t, err)
		assert.Empty(t, got, "no order id yet")
		b.must(fsm.EvWait, fsm.StateWaiting, Entry{}, func(s *Txn) { s.OrderID = "ORD-FIRST" })
		b.must(fsm.EvConfirm, fsm.StateConfirming, Entry{}, func(s *Txn) { s.OrderID = "ORD-SECOND" })
		got, err = j.ByOrderID("ORD-FIRST")
		require.NoError(t, err)
		assert.Empty(t, got, "old key removed")
		got, err = j.ByOrderID("ORD-SECOND")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, b.snap.ID, got[0].ID)
		_, err = j.Verify()
		require.NoError(t, err)
	})
}

func TestList(t *testing.T) {
	j := openTest(t)
	noSync(j)
	// Ten transactions a minute apart: even ones paid, odd ones left sending;
	// number 9 is a refund.
	var ids []string
	for n := range 10 {
		b := newPay(t, j, n, t0.Add(time.Duration(n)*time.Minute))
		if n == 9 {
			b.snap.Op = paytree.OpRefund
		}
		b.send()
		if n%2 == 0 {
			b.paid()
		}
		ids = append(ids, b.snap.ID)
	}
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	tests := []struct {
		name string
		q    Query
		want []int
	}{
		{"everything newest first", Query{}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"limit", Query{Limit: 3}, []int{9, 8, 7}},
		{"since inclusive", Query{Since: at(7)}, []int{9, 8, 7}},
		{"until exclusive", Query{Until: at(2)}, []int{1, 0}},
		{"window", Query{Since: at(3), Until: at(6)}, []int{5, 4, 3}},
		{"window between two txns", Query{Since: at(3).Add(time.Second), Until: at(4)}, nil},
		{"until after the last", Query{Until: at(100)}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"since after the last", Query{Since: at(100)}, nil},
		{"terminal state", Query{State: fsm.StatePaid}, []int{8, 6, 4, 2, 0}},
		{"terminal state with limit and window", Query{State: fsm.StatePaid, Until: at(8), Limit: 2}, []int{6, 4}},
		{"unfinished state", Query{State: fsm.StateSending}, []int{9, 7, 5, 3, 1}},
		{"unfinished state with window", Query{State: fsm.StateSending, Since: at(4), Until: at(8)}, []int{7, 5}},
		{"op", Query{Op: paytree.OpRefund}, []int{9}},
		{"receipt", Query{ReceiptNo: fmt.Sprintf("R%06d", 4)}, []int{4}},
		{"order and state", Query{OrderID: "ORD" + ids[2][8:24], State: fsm.StatePaid}, []int{2}},
		{"order and other state", Query{OrderID: "ORD" + ids[2][8:24], State: fsm.StateSending}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := j.List(tc.q)
			require.NoError(t, err)
			var want, gotIDs []string
			for _, n := range tc.want {
				want = append(want, ids[n])
			}
			for _, g := range got {
				gotIDs = append(gotIDs, g.ID)
			}
			assert.Equal(t, want, gotIDs, "List")

			// ForEachTxn: the same set, oldest first.
			var each []string
			require.NoError(t, j.ForEachTxn(tc.q, func(s *Txn) error { each = append(each, s.ID); return nil }))
			var rev []string
			for i := len(want) - 1; i >= 0; i-- {
				rev = append(rev, want[i])
			}
			if tc.q.Limit > 0 {
				// ForEachTxn's limit keeps the oldest.
				rev = nil
				all, err := j.List(Query{Since: tc.q.Since, Until: tc.q.Until, State: tc.q.State})
				require.NoError(t, err)
				for i := len(all) - 1; i >= 0 && len(rev) < tc.q.Limit; i-- {
					rev = append(rev, all[i].ID)
				}
			}
			assert.Equal(t, rev, each, "ForEachTxn")
		})
	}
}

func TestForEachChunks(t *testing.T) {
	old := chunk
	chunk = 4
	t.Cleanup(func() { chunk = old })
	j := openTest(t)
	noSync(j)
	n := 16*chunk*2 + 7 // more than two scans' worth
	var refunds []string
	for i := range n {
		b := newPay(t, j, i, t0.Add(time.Duration(i)*time.Second))
		if i%50 == 0 {
			b.snap.Op = paytree.OpRefund
			refunds = append(refunds, b.snap.ID)
		}
		b.send()
	}
	t.Run("a sparse filter across scan limits", func(t *testing.T) {
		var got []string
		require.NoError(t, j.ForEachTxn(Query{Op: paytree.OpRefund}, func(s *Txn) error { got = append(got, s.ID); return nil }))
		assert.Equal(t, refunds, got)
	})
	t.Run("txns oldest first across chunks, callback may append", func(t *testing.T) {
		var seen []string
		extra := 0
		err := j.ForEachTxn(Query{}, func(s *Txn) error {
			if len(seen) > 0 {
				assert.Less(t, seen[len(seen)-1], s.ID)
			}
			seen = append(seen, s.ID)
			if extra < 3 { // appends from inside the walk neither deadlock nor break it
				b := &tb{t: t, j: j, snap: s, at: s.UpdatedAt}
				b.paid()
				extra++
			}
			return nil
		})
		require.NoError(t, err)
		assert.Len(t, seen, n)
	})
	t.Run("entries in seq order across chunks", func(t *testing.T) {
		var last uint64
		require.NoError(t, j.ForEachEntry(func(e Entry) error {
			assert.Equal(t, last+1, e.Seq)
			last = e.Seq
			return nil
		}))
		assert.Equal(t, uint64(n+3), last)
	})
	t.Run("callback error stops the walk", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := j.ForEachEntry(func(Entry) error { calls++; return stop })
		assert.ErrorIs(t, err, stop)
		assert.Equal(t, 1, calls)
		calls = 0
		err = j.ForEachTxn(Query{}, func(*Txn) error { calls++; return stop })
		assert.ErrorIs(t, err, stop)
		assert.Equal(t, 1, calls)
	})
	rep, err := j.Verify()
	require.NoError(t, err)
	assert.Equal(t, uint64(n), rep.Txns)
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, Options{})
	require.NoError(t, err)
	done := fullPay(t, j, 1, t0)
	open := newPay(t, j, 2, t0.Add(time.Minute))
	last := open.send()
	require.NoError(t, j.Close())

	j = openAt(t, path)
	us, err := j.Unfinished()
	require.NoError(t, err)
	require.Len(t, us, 1)
	assert.Equal(t, open.snap.ID, us[0].ID)
	assert.Equal(t, fsm.StateSending, us[0].State)
	got, err := j.Get(done.snap.ID)
	require.NoError(t, err)
	assert.Equal(t, fsm.StatePaid, got.State)

	open.j = j
	e := open.paid()
	assert.Equal(t, last.Seq+1, e.Seq)
	assert.Equal(t, last.Hash, e.PrevHash, "the chain continues across a reopen")
	st, err := j.Stats()
	require.NoError(t, err)
	assert.Equal(t, Stats{Entries: 6, Txns: 2, Unfinished: 0, LastSeq: 6}, Stats{Entries: st.Entries, Txns: st.Txns, Unfinished: st.Unfinished, LastSeq: st.LastSeq})
	assert.Positive(t, st.FileBytes)
	_, err = j.Verify()
	require.NoError(t, err)
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	first := openAt(t, path)
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("readOnly=%v", ro), func(t *testing.T) {
			_, err := Open(path, Options{Timeout: 20 * time.Millisecond, ReadOnly: ro})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrLocked)
			assert.Contains(t, err.Error(), path)
		})
	}
	require.NoError(t, first.Close())
	again, err := Open(path, Options{Timeout: 20 * time.Millisecond})
	require.NoError(t, err, "the lock goes with Close")
	require.NoError(t, again.Close())

	t.Run("two read-only openers share the file", func(t *testing.T) {
		a := openAt(t, path, func(o *Options) { o.ReadOnly = true })
		b := openAt(t, path, func(o *Options) { o.ReadOnly = true })
		_, err := a.Stats()
		require.NoError(t, err)
		_, err = b.Stats()
		require.NoError(t, err)
	})
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openAt(t, path)
	b := newPay(t, j, 1, t0)
	b.send()
	require.NoError(t, j.Close())
	raw := fileBytes(t, path)

	ro := openAt(t, path, func(o *Options) { o.ReadOnly = true })
	b.j = ro
	_, err := b.step(fsm.EvPaid, fsm.StatePaid, Entry{}, nil)
	assert.ErrorIs(t, err, ErrReadOnly)
	got, err := ro.Get(b.snap.ID)
	require.NoError(t, err)
	assert.Equal(t, fsm.StateSending, got.State)
	st, err := ro.Stats()
	require.NoError(t, err)
	assert.Positive(t, st.FreeBytes, "a read-only journal counts free pages too")
	_, err = ro.Verify()
	require.NoError(t, err)
	require.NoError(t, ro.Close())
	assert.Equal(t, raw, fileBytes(t, path), "a read-only journal writes nothing")

	_, err = Open(filepath.Join(t.TempDir(), "absent.db"), Options{ReadOnly: true})
	assert.Error(t, err, "read-only never creates")
}

func TestClosed(t *testing.T) {
	j := openTest(t)
	b := newPay(t, j, 1, t0)
	b.send()
	require.NoError(t, j.Close())
	require.NoError(t, j.Close(), "closing twice is harmless")
	_, err := b.step(fsm.EvPaid, fsm.StatePaid, Entry{}, nil)
	assert.ErrorIs(t, err, ErrClosed)
	calls := map[string]func() error{
		"Get":          func() error { _, err := j.Get(b.snap.ID); return err },
		"Entries":      func() error { _, err := j.Entries(b.snap.ID); return err },
		"Unfinished":   func() error { _, err := j.Unfinished(); return err },
		"ByOrderID":    func() error { _, err := j.ByOrderID("x"); return err },
		"ByReceiptNo":  func() error { _, err := j.ByReceiptNo("x"); return err },
		"List":         func() error { _, err := j.List(Query{}); return err },
		"ForEachEntry": func() error { return j.ForEachEntry(func(Entry) error { return nil }) },
		"ForEachTxn":   func() error { return j.ForEachTxn(Query{}, func(*Txn) error { return nil }) },
		"Verify":       func() error { _, err := j.Verify(); return err },
		"Stats":        func() error { _, err := j.Stats(); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { assert.ErrorIs(t, call(), ErrClosed) })
	}
}

func TestUnwritableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openAt(t, path)
	b := newPay(t, j, 1, t0)
	b.send()
	require.NoError(t, j.Close())
	raw := fileBytes(t, path)

	// The kernel refuses every write through a descriptor opened read-only,
	// even for root: what a journal on a read-only file or disk meets.
	ro := openAt(t, path, func(o *Options) {
		o.openFile = func(name string, _ int, perm os.FileMode) (*os.File, error) {
			return os.OpenFile(name, os.O_RDONLY, perm)
		}
	})
	b.j = ro
	_, err := b.step(fsm.EvPaid, fsm.StatePaid, Entry{}, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrConflict)
	_, err = b.step(fsm.EvPaid, fsm.StatePaid, Entry{}, nil)
	assert.ErrorIs(t, err, ErrFailed, "no further write after a failed commit")
	got, err := ro.Get(b.snap.ID)
	require.NoError(t, err, "reads still work")
	assert.Equal(t, fsm.StateSending, got.State)
	require.NoError(t, ro.Close())
	assert.Equal(t, raw, fileBytes(t, path), "nothing half-written")

	j = openAt(t, path)
	_, err = j.Verify()
	require.NoError(t, err)
	b.j = j
	b.paid()
}

func TestPermissions(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file modes; TestUnwritableFile covers refused writes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	j, err := Open(path, Options{})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	require.NoError(t, os.Chmod(path, 0o400))
	_, err = Open(path, Options{})
	assert.ErrorIs(t, err, fs.ErrPermission)

	ro := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.Mkdir(ro, 0o500))
	_, err = Open(filepath.Join(ro, "journal.db"), Options{})
	assert.ErrorIs(t, err, fs.ErrPermission)
	entries, err := os.ReadDir(ro)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing left behind")
}

func TestCreateLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	openAt(t, filepath.Join(dir, "journal.db"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "journal.db", entries[0].Name())
	info, err := entries[0].Info()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

// TestConcurrentUse appends from several goroutines while others read and
// verify: run with -race.
func TestConcurrentUse(t *testing.T) {
	j := openTest(t)
	noSync(j)
	const writers, perWriter = 3, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				b := newPay(t, j, w*1000+i, t0.Add(time.Duration(i)*time.Second))
				if _, err := b.step(fsm.EvSend, fsm.StateSending, Entry{}, nil); err != nil {
					errs <- err
					return
				}
				if _, err := b.step(fsm.EvPaid, fsm.StatePaid, Entry{}, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := j.Verify(); err != nil {
				errs <- err
				return
			}
			if _, err := j.Unfinished(); err != nil {
				errs <- err
				return
			}
			if _, err := j.List(Query{Limit: 5}); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rep, err := j.Verify()
	require.NoError(t, err)
	assert.Equal(t, Report{Entries: 2 * writers * perWriter, Txns: writers * perWriter, LastSeq: 2 * writers * perWriter, LastHash: rep.LastHash}, rep)
	us, err := j.Unfinished()
	require.NoError(t, err)
	assert.Empty(t, us)
}
