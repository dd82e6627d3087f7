package hq

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/internal/journaltest"
	"github.com/wbpay/wbpay/internal/testnats"
	"github.com/wbpay/wbpay/journal"
)

var t0 = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 10:00 JST

func TestMigrate(t *testing.T) {
	pool := newDB(t)
	ctx := context.Background()
	applied, err := Migrate(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, []int{1}, applied)
	applied, err = Migrate(ctx, pool)
	require.NoError(t, err)
	assert.Empty(t, applied, "a second run applies nothing")
	var name string
	require.NoError(t, pool.QueryRow(ctx, "SELECT name FROM schema_migrations WHERE version = 1").Scan(&name))
	assert.Equal(t, "0001_init.sql", name)

	_, err = pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (99, '0099_future.sql')")
	require.NoError(t, err)
	_, err = Migrate(ctx, pool)
	assert.ErrorIs(t, err, ErrSchema, "a database newer than the build is refused")
}

// TestCollectsVerifiesAndAnswers ships three terminals through NATS into
// PostgreSQL and checks the chains, the derived transactions and every
// query.
func TestCollectsVerifiesAndAnswers(t *testing.T) {
	pool := newDB(t)
	srv := testnats.Start(t)
	startCollector(t, srv.URL(), pool)
	ctx := context.Background()
	var terms []*terminal
	for n := range 3 {
		tm := newTerminal(t, srv.URL(), n)
		require.NoError(t, journaltest.Pays(tm.j, tm.cfg.TerminalUniqueID, 0, 12, t0))
		tm.shipAll(t)
		terms = append(terms, tm)
	}
	for _, tm := range terms {
		last, err := tm.j.LastSeq()
		require.NoError(t, err)
		waitHQ(t, pool, tm.cfg.TerminalUniqueID, last)
		c, err := VerifyChain(ctx, pool, tm.cfg.TerminalUniqueID)
		require.NoError(t, err)
		assert.True(t, c.OK, "chain of %s verifies: %+v", tm.cfg.TerminalUniqueID, c)
		assert.Equal(t, int64(last), c.Entries)
	}
	fs, err := Findings(ctx, pool, "")
	require.NoError(t, err)
	assert.Empty(t, fs, "no findings on intact chains")

	tm := terms[1]
	term := tm.cfg.TerminalUniqueID
	t.Run("find", func(t *testing.T) {
		receipt := journaltest.ReceiptNo(term, 3)
		for _, tc := range []struct {
			name string
			q    FindQuery
			want int
		}{
			{"receipt", FindQuery{ReceiptNo: receipt}, 1},
			{"txn", FindQuery{TxnID: journaltest.TxnID(term, 3)}, 1},
			{"order", FindQuery{OrderID: fmt.Sprintf("%032x", 0xabc000000+3)}, 3}, // the same order id on each terminal
			{"terminal", FindQuery{Terminal: term}, 12},
			{"store", FindQuery{Store: tm.cfg.BranchCode}, 36},
			{"terminal and time", FindQuery{Terminal: term, Since: t0.Add(2 * time.Minute), Until: t0.Add(5 * time.Minute)}, 3},
			{"unknown receipt", FindQuery{ReceiptNo: "nope"}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := Find(ctx, pool, tc.q)
				require.NoError(t, err)
				assert.Len(t, got, tc.want)
			})
		}
		got, err := Find(ctx, pool, FindQuery{ReceiptNo: receipt})
		require.NoError(t, err)
		require.Len(t, got, 1)
		x := got[0]
		assert.Equal(t, term, x.Terminal)
		assert.Equal(t, tm.cfg.BranchCode, x.Store)
		assert.Equal(t, "paid", x.State)
		assert.Equal(t, int64(103), x.Amount)
		assert.Equal(t, journal.MaskUserCode(journaltest.UserCode), x.UserCodeMasked)
		assert.NotEqual(t, journaltest.UserCode, x.UserCodeMasked)
	})
	t.Run("attention", func(t *testing.T) {
		got, err := Attention(ctx, pool, 0)
		require.NoError(t, err)
		// Per terminal: pay 6 left unknown, pay 10 escalated.
		require.Len(t, got, 6)
		for i := 1; i < len(got); i++ {
			assert.False(t, got[i].CreatedAt.Before(got[i-1].CreatedAt), "oldest first")
		}
		states := map[string]int{}
		for _, x := range got {
			states[x.State]++
		}
		assert.Equal(t, map[string]int{"unknown": 3, "escalated": 3}, states)
	})
	t.Run("totals", func(t *testing.T) {
		got, err := Totals(ctx, pool, TotalsQuery{By: "terminal", Store: tm.cfg.BranchCode})
		require.NoError(t, err)
		var paidN, paidAmount int64
		for _, x := range got {
			assert.Equal(t, "2026-12-01", x.Day)
			if x.Terminal == term && x.State == "paid" {
				paidN, paidAmount = x.N, x.Amount
			}
		}
		// Pays 0..11 but 6 (unknown) and 10 (escalated): amounts 100+i.
		assert.Equal(t, int64(10), paidN)
		assert.Equal(t, int64(1000+66-6-10), paidAmount)
		byStore, err := Totals(ctx, pool, TotalsQuery{})
		require.NoError(t, err)
		for _, x := range byStore {
			assert.Empty(t, x.Terminal)
		}
	})
	t.Run("lag", func(t *testing.T) {
		ls, err := Lags(ctx, pool)
		require.NoError(t, err)
		require.Len(t, ls, 3)
		for _, l := range ls {
			assert.Equal(t, "ok", l.Chain)
			assert.Zero(t, l.Missing)
			assert.NotNil(t, l.LastShippedAt)
		}
	})
}

// publish sends a raw record as a shipper would (or a forger).
func publish(t *testing.T, js jetstream.JetStream, rec *journal.ShipRecord, msgID string) {
	t.Helper()
	data, err := json.Marshal(rec)
	require.NoError(t, err)
	m := &nats.Msg{Subject: journal.ShipSubject(rec.MerchantID, rec.Terminal), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	_, err = js.PublishMsg(context.Background(), m)
	require.NoError(t, err)
}

// records returns a terminal's journal as the shipper would send it.
func records(t *testing.T, tm *terminal) []*journal.ShipRecord {
	t.Helper()
	raws, err := tm.j.RawEntries(1, 0)
	require.NoError(t, err)
	var out []*journal.ShipRecord
	for _, r := range raws {
		out = append(out, &journal.ShipRecord{V: journal.ShipVersion, MerchantID: tm.cfg.MerchantID, Terminal: tm.cfg.TerminalUniqueID,
			Store: tm.cfg.BranchCode, Seq: r.Seq, Hash: r.Hash, PrevHash: r.PrevHash, Body: r.Body,
			Txn: journal.ShipTxnOf(r.Snapshot, r.SnapshotSeq), ShippedAt: time.Now().UTC()})
	}
	return out
}

// TestFindings injects each kind of damage on the wire and checks that
// HQ records it with the terminal and Seq, keeps every entry once, and that
// the chains left intact verify.
func TestFindings(t *testing.T) {
	pool := newDB(t)
	srv := testnats.Start(t)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = EnsureStream(ctx, js, DefaultStream, DefaultDedupWindow)
	require.NoError(t, err)

	mk := func(n int) (*terminal, []*journal.ShipRecord) {
		tm := newTerminal(t, srv.URL(), n)
		require.NoError(t, journaltest.Pays(tm.j, tm.cfg.TerminalUniqueID, 0, 4, t0))
		return tm, records(t, tm)
	}
	// Duplicates under other msg ids (the dedup window cannot drop them):
	// stored once, no finding.
	dup, dupRecs := mk(0)
	for _, r := range dupRecs {
		publish(t, js, r, journal.ShipMsgID(r.Terminal, r.Seq))
		publish(t, js, r, journal.ShipMsgID(r.Terminal, r.Seq)) // dropped by JetStream
		publish(t, js, r, fmt.Sprintf("again-%s-%d", r.Terminal, r.Seq))
	}
	// A delayed delivery: 1, 2, 4, 3, 5, …
	late, lateRecs := mk(1)
	order := []int{0, 1, 3, 2}
	for i := 4; i < len(lateRecs); i++ {
		order = append(order, i)
	}
	for _, i := range order {
		publish(t, js, lateRecs[i], journal.ShipMsgID(late.cfg.TerminalUniqueID, lateRecs[i].Seq))
	}
	// An altered entry: entry 2 (paid, HTTP 200) says 500, its stored
	// hash kept.
	alt, altRecs := mk(2)
	for _, r := range altRecs {
		if r.Seq == 2 {
			require.Contains(t, string(r.Body), "200")
			r.Body = bytes.Replace(r.Body, []byte("200"), []byte("500"), 1)
		}
		publish(t, js, r, journal.ShipMsgID(r.Terminal, r.Seq))
	}
	// A fork: the journal rebuilt from scratch after its first entries were
	// shipped; the new entries under old Seqs differ.
	fork, forkRecs := mk(3)
	for _, r := range forkRecs[:5] {
		publish(t, js, r, journal.ShipMsgID(r.Terminal, r.Seq))
	}
	rebuilt := newTerminal(t, srv.URL(), 3)
	require.NoError(t, journaltest.Pays(rebuilt.j, "rebuilt", 0, 6, t0.Add(time.Hour)))
	rebuiltRecs := records(t, rebuilt)
	for _, r := range rebuiltRecs {
		publish(t, js, r, fmt.Sprintf("rebuilt-%d", r.Seq))
	}
	// A record that is not one, on a terminal's subject.
	m := &nats.Msg{Subject: journal.ShipSubject("123456789012", "GARBAGE000001"), Data: []byte("{not json"), Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, "GARBAGE000001/7")
	_, err = js.PublishMsg(ctx, m)
	require.NoError(t, err)

	startCollector(t, srv.URL(), pool)
	waitHQ(t, pool, dup.cfg.TerminalUniqueID, uint64(len(dupRecs)))
	waitHQ(t, pool, late.cfg.TerminalUniqueID, uint64(len(lateRecs)))
	waitHQ(t, pool, alt.cfg.TerminalUniqueID, uint64(len(altRecs)))
	waitHQ(t, pool, fork.cfg.TerminalUniqueID, uint64(len(rebuiltRecs)))
	require.Eventually(t, func() bool {
		fs, err := Findings(ctx, pool, "GARBAGE000001")
		return err == nil && len(fs) == 1
	}, 10*time.Second, 20*time.Millisecond)

	type fk struct {
		seq  int64
		kind string
	}
	got := map[string][]fk{}
	fs, err := Findings(ctx, pool, "")
	require.NoError(t, err)
	for _, f := range fs {
		got[f.Terminal] = append(got[f.Terminal], fk{f.Seq, f.Kind})
	}
	assert.Empty(t, got[dup.cfg.TerminalUniqueID], "duplicates are no findings")
	assert.Equal(t, []fk{{3, "gap"}, {3, "out-of-order"}}, got[late.cfg.TerminalUniqueID])
	assert.Equal(t, []fk{{2, "bad-hash"}}, got[alt.cfg.TerminalUniqueID])
	// Seqs 1-5 of the rebuilt journal collide with the first one, 6 no
	// longer links to what HQ holds at 5.
	assert.Equal(t, []fk{{1, "fork"}, {2, "fork"}, {3, "fork"}, {4, "fork"}, {5, "fork"}, {6, "fork"}}, got[fork.cfg.TerminalUniqueID])
	assert.Equal(t, []fk{{7, "bad-record"}}, got["GARBAGE000001"])

	for _, tc := range []struct {
		tm     *terminal
		ok     bool
		badSeq int64
	}{
		{dup, true, 0},
		{late, true, 0}, // the late entry filled the gap: the chain is whole
		{alt, false, 2},
		{fork, false, 6},
	} {
		c, err := VerifyChain(ctx, pool, tc.tm.cfg.TerminalUniqueID)
		require.NoError(t, err)
		assert.Equal(t, tc.ok, c.OK, "%s: %+v", tc.tm.cfg.TerminalUniqueID, c)
		assert.Equal(t, tc.badSeq, c.BadSeq, "%s", tc.tm.cfg.TerminalUniqueID)
	}
	var n int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM entries e JOIN terminals t ON t.id = e.terminal_id WHERE t.terminal = $1",
		dup.cfg.TerminalUniqueID).Scan(&n))
	assert.Equal(t, int64(len(dupRecs)), n, "each entry once")
	ls, err := Lags(ctx, pool)
	require.NoError(t, err)
	chains := map[string]string{}
	for _, l := range ls {
		chains[l.Terminal] = l.Chain
	}
	assert.Equal(t, "ok", chains[dup.cfg.TerminalUniqueID])
	assert.Equal(t, "damaged", chains[alt.cfg.TerminalUniqueID])
	assert.Equal(t, "damaged", chains[fork.cfg.TerminalUniqueID])
}
