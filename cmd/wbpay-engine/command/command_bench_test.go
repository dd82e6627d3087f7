package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A test binary re-executed as the bench's RSS child runs the CLI instead of
// the tests (test files' init functions run after every verb registered).
func init() {
	if os.Getenv(benchChildEnv) == "1" {
		os.Exit(Execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
}

// TestBenchCommand runs the whole bench on tiny sizes (the figures mean
// nothing there; no time is asserted) and checks that every row is printed,
// in the table and in the Markdown file, and that the work directory goes.
func TestBenchCommand(t *testing.T) {
	dir, out := t.TempDir(), filepath.Join(t.TempDir(), "bench.md")
	r := runBare(t, "bench", "--pays", "8", "--warmup", "1", "--history", "40,20", "--unfinished", "2",
		"--rss-pays", "3", "--recovery", "4", "--dir", dir, "--build-dir", t.TempDir(), "--out", out)
	require.Equal(t, ExitOK, r.code, "stderr: %s", r.stderr)
	md, err := os.ReadFile(out)
	require.NoError(t, err)

	rows := []string{
		"engine PaySync p50 (8 pays, LogLevel Sequence, loopback HTTPS simulator)",
		"floor p50 (2 bbolt Updates, 2 RSA signs + 2 verifies, 1 HTTPS round trip)",
		"ratio engine/floor p50",
		"engine PaySync p99",
		"floor p99",
		"ratio engine/floor p99",
		"floor parts (medians): RSA-2048 sign / verify / bbolt Update / HTTPS round trip",
		"journal.Append of one pay transition (median",
		"journal.Open + Unfinished, 20 pays + 2 unfinished (warm)",
		"wbpay.Open (config, keys, log, journal, recovery started), 20 pays + 2 unfinished (warm)",
		"journal.Open + Unfinished, 40 pays + 2 unfinished (warm)",
		"wbpay.Open (config, keys, log, journal, recovery started), 40 pays + 2 unfinished (warm)",
		"building it: journal.Append, one bbolt Update each",
		"List --since/--until one day",
		"Verify (8", // 82 entries, or more if recovery journaled a step first
		"export: ForEachEntry → JSON lines → io.Discard (8",
		"disk per finished pay (file",
		"bbolt pages in use per finished pay",
		"peak RSS of a 3-pay engine run (child process, ", // VmHWM on Linux
		"the same child's ru_maxrss from wait4",
		"4 pays in sending resumed by wbpay.Open + WaitRecovered (2 paid, 2 reversed, 0 other)",
		"per pay (",
		"floor per pay (the same Updates and exchanges at the floor's in-loop medians)",
		"floor steps in its loop (medians)",
		"ratio recovery/floor",
	}
	for _, row := range rows {
		assert.Contains(t, r.stdout, row, "table row")
		assert.Contains(t, string(md), row, "markdown row")
	}
	for _, sec := range []string{"1 pay latency", "2 start-up", "3 audit (40 pays)", "4 footprint", "5 recovery"} {
		assert.Contains(t, r.stdout, sec)
	}
	assert.NotContains(t, r.stdout, "not measured", "the RSS child ran")
	assert.Contains(t, r.stdout, "whole run:")
	assert.Contains(t, string(md), "wbpay-engine bench --pays 8 --warmup 1 --history 40,20 --unfinished 2 --rss-pays 3 --recovery 4")
	assert.Contains(t, string(md), "| # | measure | result | target | verdict |")
	assert.Contains(t, r.stderr, "results written to "+out)

	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "the work directory is removed without --keep")
}

// TestBenchCommandJSON checks -o json and the skipped measurements.
func TestBenchCommandJSON(t *testing.T) {
	r := runBare(t, "bench", "-o", "json", "--pays", "3", "--warmup", "0", "--history", "10", "--rss-pays", "0",
		"--recovery", "0", "--dir", t.TempDir(), "--build-dir", "")
	require.Equal(t, ExitOK, r.code, "stderr: %s", r.stderr)
	var rep struct {
		Pay struct {
			N      int
			Engine struct{ P50, P99 int64 }
		}
		Startup  []struct{ Txns, Unfinished int }
		Audit    *struct{ Txns int }
		RSS      *struct{}
		Recovery *struct{}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout: %s", r.stdout)
	assert.Equal(t, 3, rep.Pay.N)
	assert.Positive(t, rep.Pay.Engine.P50)
	require.Len(t, rep.Startup, 1)
	assert.Equal(t, 10, rep.Startup[0].Txns)
	assert.Equal(t, 10, rep.Startup[0].Unfinished)
	require.NotNil(t, rep.Audit)
	assert.Equal(t, 10, rep.Audit.Txns)
	assert.Nil(t, rep.RSS, "--rss-pays 0 skips the child")
	assert.Nil(t, rep.Recovery, "--recovery 0 skips recovery")
}

func TestBenchCommandUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no pays":        {"--pays", "0"},
		"negative":       {"--recovery", "-1"},
		"zero history":   {"--history", "0"},
		"not a number":   {"--history", "ten"},
		"extra argument": {"now"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runBare(t, append([]string{"bench", "--dir", t.TempDir()}, args...)...)
			assert.Equal(t, ExitUsage, r.code)
			assert.True(t, strings.TrimSpace(r.stderr) != "", "an explanation on stderr")
		})
	}
}
