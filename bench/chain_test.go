package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/internal/pgserver"
	"github.com/wbpay/wbpay/internal/testnats"
)

// chainEnv names the opt-in full run: WBPAY_BENCH_CHAIN=1000x1000 runs
// 1000 terminals × 1000 entries and prints the BENCHMARKS.md section.
const chainEnv = "WBPAY_BENCH_CHAIN"

// TestRunChain runs the chain bench small (always) or at the size chainEnv
// gives, with an embedded NATS server and a PostgreSQL started here.
func TestRunChain(t *testing.T) {
	terms, entries := 4, 40
	full := os.Getenv(chainEnv)
	if full != "" {
		_, err := fmt.Sscanf(full, "%dx%d", &terms, &entries)
		require.NoError(t, err, "%s=%q: want TERMINALSxENTRIES", chainEnv, full)
	}
	pg, err := pgserver.Start(context.Background(), pgserver.Options{Durable: full != ""})
	if errors.Is(err, pgserver.ErrMissing) {
		t.Skip(err.Error())
	}
	require.NoError(t, err)
	t.Cleanup(pg.Stop)
	admin, err := pgxpool.New(context.Background(), pg.DSN)
	require.NoError(t, err)
	_, err = admin.Exec(context.Background(), "CREATE DATABASE drain")
	require.NoError(t, err)
	admin.Close()
	ns := testnats.Start(t)
	cfg := ChainConfig{Terminals: terms, Entries: entries, BuildDir: DefaultBuildDir(), NATSURL: ns.URL(), DSN: pg.DSN,
		DrainDSN: strings.Replace(pg.DSN, "/postgres?", "/drain?", 1), Lookups: 20}
	if full != "" {
		cfg.Progress, cfg.Lookups = os.Stderr, 200
	}
	rep, err := RunChain(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, int64(terms*entries), rep.Entries)
	assert.Zero(t, rep.Findings, "no findings on intact chains")
	assert.Zero(t, rep.VerifyFailed)
	assert.Positive(t, rep.Verified)
	assert.Positive(t, rep.DrainRate)
	assert.Positive(t, rep.BytesPerEntry)
	assert.Positive(t, rep.LookupP99)
	var b strings.Builder
	rep.Markdown(&b, ReadMachine())
	assert.Contains(t, b.String(), "entries/s at HQ with verification")
	if full != "" {
		fmt.Println(b.String())
	}
}
