package command

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/internal/journaltest"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/internal/testnats"
	"github.com/wbpay/wbpay/journal"
)

// TestServeShipsTheJournal: with ShipURL set, the daemon ships its journal
// (here six finished pays journaled before it started) and records the
// last acknowledged Seq when it stops.
func TestServeShipsTheJournal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS and a daemon subprocess")
	}
	ns := testnats.Start(t)
	nc, err := nats.Connect(ns.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: config.DefaultShipStream, Subjects: []string{journal.SubjectPrefix + ">"}})
	require.NoError(t, err)

	home := t.TempDir()
	require.NoError(t, testgw.WriteConf(home, testgw.Merge(testgw.TestModeConf(), map[string]string{"ShipURL": ns.URL()})))
	require.NoError(t, testgw.WriteKeys(home))
	j, err := journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{})
	require.NoError(t, err)
	require.NoError(t, journaltest.Pays(j, "S", 0, 6, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)))
	last, err := j.LastSeq()
	require.NoError(t, err)
	require.NoError(t, j.Close())

	d := startChild(t, filepath.Join(t.TempDir(), "serve.log"), "serve", "--home", home, "--listen", "127.0.0.1:0")
	require.Eventually(t, func() bool {
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs >= last
	}, 30*time.Second, 20*time.Millisecond, "the daemon shipped entries 1..%d", last)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, d.wait(t, 30*time.Second), "serve stops cleanly")

	j, err = journal.Open(filepath.Join(home, wbpay.JournalFile), journal.Options{ReadOnly: true})
	require.NoError(t, err)
	defer j.Close()
	shipped, err := j.ShippedSeq()
	require.NoError(t, err)
	now, err := j.LastSeq()
	require.NoError(t, err)
	assert.Equal(t, now, shipped, "the last acknowledged Seq is recorded on stop")
	info, err := st.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, now, info.State.Msgs, "every entry once")
}
