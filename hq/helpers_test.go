package hq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/internal/pgserver"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/ship"
)

// One PostgreSQL for the package; each test gets a database of its own.
var (
	pg    *pgserver.Server
	pgErr error
	dbN   atomic.Int32
)

func TestMain(m *testing.M) {
	pg, pgErr = pgserver.Start(context.Background(), pgserver.Options{})
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	os.Exit(code)
}

// newDB returns a pool on a fresh database, or skips when PostgreSQL is
// not installed.
func newDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if errors.Is(pgErr, pgserver.ErrMissing) {
		t.Skip(pgErr.Error())
	}
	require.NoError(t, pgErr)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, pg.DSN)
	require.NoError(t, err)
	defer admin.Close()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbN.Add(1))
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, strings.Replace(pg.DSN, "/postgres?", "/"+name+"?", 1))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// terminal is one simulated terminal: a home-less journal and its config.
type terminal struct {
	cfg *config.Config
	j   *journal.Journal
	dir string
}

func newTerminal(t *testing.T, natsURL string, n int) *terminal {
	t.Helper()
	c := config.Default()
	c.ShipURL = natsURL
	c.MerchantID = "123456789012"
	c.TerminalUniqueID = fmt.Sprintf("12345%07d%d", 100+n/10, n%10)
	c.BranchCode = fmt.Sprintf("S%03d", n/3)
	c.TerminalCode = fmt.Sprintf("T%02d", n)
	dir := t.TempDir()
	j, err := journal.Open(layout.Home(dir).Journal(), journal.Options{Logger: zaptest.NewLogger(t).Named(c.TerminalUniqueID)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return &terminal{cfg: c, j: j, dir: dir}
}

// shipAll ships the terminal's journal until every entry is acknowledged.
func (tm *terminal) shipAll(t *testing.T) {
	t.Helper()
	s, err := ship.New(ship.Options{Journal: tm.j, Config: tm.cfg, Logger: zaptest.NewLogger(t), ExitWhenIdle: true, MaxBackoff: 100 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.Run(ctx))
	last, err := tm.j.LastSeq()
	require.NoError(t, err)
	require.Equal(t, last, s.Acked(), "shipped everything")
}

// startCollector runs a collector until the test ends.
func startCollector(t *testing.T, natsURL string, pool *pgxpool.Pool) *Collector {
	t.Helper()
	c, err := NewCollector(CollectorOptions{NATSURL: natsURL, Pool: pool, Batch: 50, MaxWait: 100 * time.Millisecond, Logger: zaptest.NewLogger(t)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return c
}

// waitHQ waits until HQ's lag says terminal holds n entries up to Seq n.
func waitHQ(t *testing.T, pool *pgxpool.Pool, term string, n uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		var maxSeq, entries int64
		err := pool.QueryRow(context.Background(), "SELECT max_seq, entries FROM terminals WHERE terminal = $1", term).Scan(&maxSeq, &entries)
		return err == nil && maxSeq == int64(n) && entries == int64(n)
	}, 30*time.Second, 20*time.Millisecond, "HQ holds %d entries of %s", n, term)
}
