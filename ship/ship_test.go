package ship

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/internal/journaltest"
	"github.com/wbpay/wbpay/internal/testnats"
	"github.com/wbpay/wbpay/journal"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const (
	merchant = "123456789012"
	terminal = "1234501234561"
)

func testConfig(url string) *config.Config {
	c := config.Default()
	c.ShipURL, c.MerchantID, c.TerminalUniqueID, c.BranchCode, c.TerminalCode = url, merchant, terminal, "B001", "T01"
	return c
}

// harness is a NATS server with the stream, a journal, and a core
// subscription that sees every publish (duplicates included).
type harness struct {
	t   *testing.T
	srv *testnats.Server
	js  jetstream.JetStream
	j   *journal.Journal

	mu   sync.Mutex
	seen []uint64 // Seqs published, in arrival order
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, srv: testnats.Start(t)}
	nc, err := nats.Connect(h.srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	h.js, err = jetstream.New(nc)
	require.NoError(t, err)
	_, err = h.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: config.DefaultShipStream,
		Subjects: []string{journal.SubjectPrefix + ">"}, Storage: jetstream.FileStorage, Duplicates: time.Hour})
	require.NoError(t, err)
	_, err = nc.Subscribe(journal.SubjectPrefix+">", func(m *nats.Msg) {
		id := m.Header.Get(jetstream.MsgIDHeader)
		seq, err := strconv.ParseUint(strings.TrimPrefix(id, terminal+"/"), 10, 64)
		if err != nil {
			t.Errorf("msg id %q", id)
			return
		}
		h.mu.Lock()
		h.seen = append(h.seen, seq)
		h.mu.Unlock()
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	h.j, err = journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{Logger: zaptest.NewLogger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.j.Close() })
	return h
}

func (h *harness) seenSeqs() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]uint64(nil), h.seen...)
}

func (h *harness) resetSeen() {
	h.mu.Lock()
	h.seen = nil
	h.mu.Unlock()
}

// run starts a shipper; the returned stop cancels it and returns Run's error.
func (h *harness) run(opts Options) (*Shipper, func() error) {
	opts.Journal = h.j
	if opts.Config == nil {
		opts.Config = testConfig(h.srv.URL())
	}
	opts.Logger = zaptest.NewLogger(h.t)
	s, err := New(opts)
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return s, func() error { cancel(); return <-done }
}

// waitStream waits until the stream holds n messages.
func (h *harness) waitStream(n uint64) {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		st, err := h.js.Stream(context.Background(), config.DefaultShipStream)
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == n
	}, 20*time.Second, 20*time.Millisecond, "stream holds %d messages", n)
}

func lastSeq(t *testing.T, j *journal.Journal) uint64 {
	t.Helper()
	n, err := j.LastSeq()
	require.NoError(t, err)
	return n
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestShipsEveryEntryInOrderAsStored(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, journaltest.Pays(h.j, "A", 0, 30, t0))
	n := lastSeq(t, h.j)
	s, stop := h.run(Options{Window: 7})
	h.waitStream(n)

	// Entries appended while it runs follow (Changed).
	require.NoError(t, journaltest.Pays(h.j, "A", 30, 5, t0))
	n2 := lastSeq(t, h.j)
	h.waitStream(n2)
	require.NoError(t, stop())
	assert.Equal(t, n2, s.Acked())
	shipped, err := h.j.ShippedSeq()
	require.NoError(t, err)
	assert.Equal(t, n2, shipped, "a clean stop records the last acknowledged Seq")
	assert.Equal(t, seqRange(1, n2), h.seenSeqs(), "published once each, in Seq order")

	raws, err := h.j.RawEntries(1, 0)
	require.NoError(t, err)
	st, err := h.js.Stream(context.Background(), config.DefaultShipStream)
	require.NoError(t, err)
	for i, r := range raws {
		m, err := st.GetMsg(context.Background(), uint64(i+1))
		require.NoError(t, err)
		assert.Equal(t, journal.ShipSubject(merchant, terminal), m.Subject)
		assert.Equal(t, terminal+"/"+strconv.FormatUint(r.Seq, 10), m.Header.Get(jetstream.MsgIDHeader))
		assert.NotContains(t, string(m.Data), journaltest.UserCode, "no full userCode is shipped")
		rec, err := journal.DecodeShipRecord(m.Data)
		require.NoError(t, err)
		assert.Equal(t, r.Seq, rec.Seq)
		assert.Equal(t, r.Hash, rec.Hash)
		assert.Equal(t, r.PrevHash, rec.PrevHash)
		assert.Equal(t, r.Body, rec.Body)
		assert.Equal(t, rec.Hash, journal.EntryHash(rec.PrevHash, rec.Seq, rec.Body), "HQ can recompute entry %d", r.Seq)
		require.NotNil(t, rec.Txn)
		assert.Equal(t, r.TxnID, rec.Txn.ID)
		assert.Equal(t, "B001", rec.Store)
		assert.Equal(t, journal.MaskUserCode(journaltest.UserCode), rec.Txn.UserCodeMasked)
	}
}

// TestResumesAfterTheRecordedSeq: the shipper starts after the journal's
// shipped seq; re-sending what the server already has (as after a crash
// between an acknowledgement and its record) is absorbed by JetStream's
// duplicate window.
func TestResumesAfterTheRecordedSeq(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, journaltest.Pays(h.j, "A", 0, 20, t0))
	n := lastSeq(t, h.j)
	_, stop := h.run(Options{})
	h.waitStream(n)
	require.NoError(t, stop())

	// A crash after acknowledgements up to n but a record of only k.
	const k = 9
	require.NoError(t, h.j.SetShippedSeq(k))
	h.resetSeen()
	require.NoError(t, journaltest.Pays(h.j, "A", 20, 3, t0))
	n2 := lastSeq(t, h.j)
	s, stop := h.run(Options{})
	h.waitStream(n2)
	require.Eventually(t, func() bool { return s.Acked() == n2 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())
	assert.Equal(t, seqRange(k+1, n2), h.seenSeqs(), "resumes exactly after the recorded Seq")
	assert.Equal(t, n-k, s.Duplicates(), "the re-sent window is acknowledged as duplicates")
	shipped, err := h.j.ShippedSeq()
	require.NoError(t, err)
	assert.Equal(t, n2, shipped)
}

// TestBatchedRecord: with a long FlushEvery the record moves after
// FlushAcks acknowledgements, not after each.
func TestBatchedRecord(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, journaltest.Pays(h.j, "A", 0, 40, t0))
	n := lastSeq(t, h.j)
	s, stop := h.run(Options{FlushEvery: time.Hour, FlushAcks: 25, Window: 5})
	require.Eventually(t, func() bool { return s.Acked() == n }, 20*time.Second, 10*time.Millisecond)
	shipped, err := h.j.ShippedSeq()
	require.NoError(t, err)
	assert.Less(t, shipped, n, "not recorded after every acknowledgement")
	assert.GreaterOrEqual(t, shipped, uint64(25), "recorded after FlushAcks acknowledgements")
	require.NoError(t, stop())
	shipped, err = h.j.ShippedSeq()
	require.NoError(t, err)
	assert.Equal(t, n, shipped)
}

// TestServerDownDelaysOnly: with the server gone, Appends go on; after it
// is back the shipper catches up.
func TestServerDownDelaysOnly(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, journaltest.Pays(h.j, "A", 0, 5, t0))
	s, stop := h.run(Options{MaxBackoff: 200 * time.Millisecond})
	n := lastSeq(t, h.j)
	h.waitStream(n)
	h.srv.Shutdown()
	start := time.Now()
	require.NoError(t, journaltest.Pays(h.j, "A", 5, 10, t0))
	assert.Less(t, time.Since(start), 5*time.Second, "appends do not wait for the server")
	n2 := lastSeq(t, h.j)
	h.srv.Restart()
	h.waitStream(n2)
	require.Eventually(t, func() bool { return s.Acked() == n2 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())
}

func TestNewRefuses(t *testing.T) {
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{})
	require.NoError(t, err)
	defer j.Close()
	off := testConfig("")
	noTerm := testConfig("nats://127.0.0.1:1")
	noTerm.TerminalUniqueID = ""
	badCA := testConfig("tls://127.0.0.1:1")
	badCA.ShipCAFile = "missing-ca.pem"
	for _, tc := range []struct {
		name string
		o    Options
		want error
		msg  string
	}{
		{"off", Options{Journal: j, Config: off}, ErrOff, ""},
		{"no journal", Options{Config: noTerm}, ErrConfig, ""},
		{"no terminal", Options{Journal: j, Config: noTerm}, ErrConfig, "TerminalUniquId"},
		{"missing CA", Options{Journal: j, Config: badCA, Home: t.TempDir()}, ErrConfig, "ShipCAFile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}
