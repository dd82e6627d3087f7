package logging

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openAt opens a logger in a fresh directory with a fake clock at t.
func openAt(t *testing.T, t0 time.Time, level Level, expire int) (*Logger, *clockwork.FakeClock, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "Log")
	clock := clockwork.NewFakeClockAt(t0)
	l, err := Open(Options{Dir: dir, Level: level, Expire: expire, Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l, clock, dir
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestFileNameUsesJSTDate(t *testing.T) {
	pdt := time.FixedZone("PDT", -7*3600)
	tests := []struct {
		name     string
		at       time.Time
		wantFile string
		wantTime string
	}{
		{"23:30 UTC is the next JST day", time.Date(2024, 5, 10, 23, 30, 0, 0, time.UTC), "WbCPSPay.20240511.log", "2024-05-11T08:30:00.000+09:00"},
		{"14:59 UTC is still the same JST day", time.Date(2024, 5, 10, 14, 59, 59, 0, time.UTC), "WbCPSPay.20240510.log", "2024-05-10T23:59:59.000+09:00"},
		{"15:00 UTC is JST midnight", time.Date(2024, 5, 10, 15, 0, 0, 0, time.UTC), "WbCPSPay.20240511.log", "2024-05-11T00:00:00.000+09:00"},
		{"host zone ignored", time.Date(2024, 12, 31, 8, 0, 0, 0, pdt), "WbCPSPay.20250101.log", "2025-01-01T00:00:00.000+09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, dir := openAt(t, tt.at, Sequence, 0)
			l.At(Basic).Info("started", zap.String("home", "x"))
			require.NoError(t, l.Close())
			assert.Equal(t, []string{tt.wantFile}, listDir(t, dir))
			assert.Equal(t, tt.wantFile, FileName(tt.at))
			lines := readLines(t, filepath.Join(dir, tt.wantFile))
			require.Len(t, lines, 1)
			assert.Equal(t, tt.wantTime+"\tBasic\tstarted\t{\"home\": \"x\"}", lines[0])
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"0", Basic, true}, {"1", Error, true}, {"2", Warning, true}, {"3", Sequence, true}, {"4", Transaction, true},
		{"Basic", Basic, true}, {"error", Error, true}, {"WARNING", Warning, true}, {"Sequence", Sequence, true},
		{"sequence", Sequence, true}, {" Transaction ", Transaction, true}, {" 3", Sequence, true},
		{"5", 0, false}, {"-1", 0, false}, {"", 0, false}, {"seq", 0, false}, {"Info", 0, false}, {"3.0", 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, ok := ParseLevel(tt.in)
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.Equal(t, tt.want, got)
			}
		})
	}
	for l := Basic; l <= Transaction; l++ {
		back, ok := ParseLevel(l.String())
		assert.True(t, ok)
		assert.Equal(t, l, back)
	}
	assert.Equal(t, "Level(9)", Level(9).String())
	assert.Equal(t, Error, DefaultLevel)
}

func TestLevelFiltering(t *testing.T) {
	t0 := time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC)
	for _, spec := range []string{"0", "1", "2", "3", "4", "Basic", "Error", "Warning", "sequence", "transaction"} {
		t.Run(spec, func(t *testing.T) {
			configured, ok := ParseLevel(spec)
			require.True(t, ok)
			l, _, dir := openAt(t, t0, configured, 0)
			assert.Equal(t, configured, l.Level())
			// One message per level through At (pinned, whichever method is
			// called) and through Zap (zap's levels mapped to the spec's).
			for lv := Basic; lv <= Transaction; lv++ {
				assert.Equal(t, lv <= configured, l.Enabled(lv), "Enabled(%s)", lv)
				l.At(lv).Info("at-" + lv.String())
			}
			z := l.Zap()
			z.Error("zap-error")
			z.Warn("zap-warn")
			z.Info("zap-info")
			z.Debug("zap-debug")
			require.NoError(t, l.Close())

			var got []string
			for _, line := range readLines(t, filepath.Join(dir, "WbCPSPay.20240510.log")) {
				parts := strings.Split(line, "\t")
				require.GreaterOrEqual(t, len(parts), 3, "line %q", line)
				got = append(got, parts[1]+" "+parts[2])
			}
			var want []string
			for lv := Basic; lv <= Transaction; lv++ {
				if lv <= configured {
					want = append(want, lv.String()+" at-"+lv.String())
				}
			}
			for _, m := range []struct {
				lv  Level
				msg string
			}{{Error, "zap-error"}, {Warning, "zap-warn"}, {Sequence, "zap-info"}, {Transaction, "zap-debug"}} {
				if m.lv <= configured {
					want = append(want, m.lv.String()+" "+m.msg)
				}
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestAtPinsLevel(t *testing.T) {
	l, _, dir := openAt(t, time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC), Warning, 0)
	l.At(Error).Info("pinned", zap.Int("n", 1))
	l.At(Warning).With(zap.String("txn-id", "abc")).Debug("with fields")
	l.At(Sequence).Error("dropped: above the configured level")
	l.At(Level(-1)).Error("dropped: not a level")
	l.At(Level(5)).Error("dropped: not a level")
	assert.False(t, l.Enabled(Level(-1)))
	require.NoError(t, l.Close())
	lines := readLines(t, filepath.Join(dir, "WbCPSPay.20240510.log"))
	require.Len(t, lines, 2)
	assert.Equal(t, "2024-05-10T12:00:00.000+09:00\tError\tpinned\t{\"n\": 1}", lines[0])
	assert.Equal(t, "2024-05-10T12:00:00.000+09:00\tWarning\twith fields\t{\"txn-id\": \"abc\"}", lines[1])
}

func TestDisabledAtDoesNotAllocate(t *testing.T) {
	l, _, _ := openAt(t, time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC), Error, 0)
	allocs := testing.AllocsPerRun(200, func() {
		l.At(Transaction).Info("request")
		l.At(Sequence).Error("request")
		_ = l.Enabled(Transaction)
	})
	assert.Zero(t, allocs)
}

func TestAlsoTee(t *testing.T) {
	obs, logs := observer.New(zapcore.DebugLevel)
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Level: Sequence, Clock: clockwork.NewFakeClockAt(time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC)), Also: obs})
	require.NoError(t, err)
	l.At(Basic).Info("started")
	l.At(Sequence).Info("request")
	l.At(Transaction).Info("wire bytes") // above Sequence: nowhere
	l.Zap().Debug("zap debug")           // Transaction: nowhere
	require.NoError(t, l.Close())

	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Level.String()+" "+e.Message)
	}
	assert.Equal(t, []string{"info started", "info request"}, got)
	assert.Len(t, readLines(t, filepath.Join(dir, "WbCPSPay.20240510.log")), 2)
}

func TestExpiry(t *testing.T) {
	today := time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC) // 2024-05-10 12:00 JST
	others := []string{
		"WbCPSPay.backup.log",       // no date: not ours to judge
		"WbCPSPay.20240230.log",     // not a real date
		"WbCPSPay.2024010.log",      // too short
		"WbCPSPay.20200101.log.gz",  // not .log
		"other.20200101.log",        // not WbCPSPay
		"WbCPSPay.20200101.journal", // not .log
	}
	dated := []string{"20240510", "20240509", "20240508", "20240507", "20240430", "20200101"}
	tests := []struct {
		expire int
		kept   []string
	}{
		{0, dated},
		{1, []string{"20240510", "20240509"}},
		{2, []string{"20240510", "20240509", "20240508"}},
		{10, []string{"20240510", "20240509", "20240508", "20240507", "20240430"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("expire %d", tt.expire), func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range others {
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x\n"), 0o600))
			}
			for _, d := range dated {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "WbCPSPay."+d+".log"), []byte("old\n"), 0o600))
			}
			// A directory with a log file's name is never removed.
			require.NoError(t, os.Mkdir(filepath.Join(dir, "WbCPSPay.20190101.log"), 0o700))

			l, err := Open(Options{Dir: dir, Level: Error, Expire: tt.expire, Clock: clockwork.NewFakeClockAt(today)})
			require.NoError(t, err)
			require.NoError(t, l.Close())

			want := append([]string{"WbCPSPay.20190101.log"}, others...)
			for _, d := range tt.kept {
				want = append(want, "WbCPSPay."+d+".log")
			}
			sort.Strings(want)
			assert.Equal(t, want, listDir(t, dir))
			// Today's file is appended to, not truncated.
			assert.Equal(t, []string{"old"}, readLines(t, filepath.Join(dir, "WbCPSPay.20240510.log")))
		})
	}
}

func TestRollOverAtJSTMidnight(t *testing.T) {
	// 2024-05-10 23:59:59.500 JST.
	t0 := time.Date(2024, 5, 10, 14, 59, 59, 500_000_000, time.UTC)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "WbCPSPay.20240509.log"), []byte("old\n"), 0o600))
	clock := clockwork.NewFakeClockAt(t0)
	l, err := Open(Options{Dir: dir, Level: Sequence, Expire: 1, Clock: clock})
	require.NoError(t, err)
	defer l.Close()
	// At Open, the 9th is one day old: kept.
	assert.Equal(t, []string{"WbCPSPay.20240509.log", "WbCPSPay.20240510.log"}, listDir(t, dir))

	l.Zap().Info("before midnight")
	clock.Advance(time.Second)
	l.Zap().Info("after midnight")
	clock.Advance(24 * time.Hour)
	l.Zap().Info("next day")
	require.NoError(t, l.Close())

	// Each roll-over expires: on the 11th the 9th goes, on the 12th the 10th.
	assert.Equal(t, []string{"WbCPSPay.20240511.log", "WbCPSPay.20240512.log"}, listDir(t, dir))
	assert.Equal(t, []string{"2024-05-11T00:00:00.500+09:00\tSequence\tafter midnight"}, readLines(t, filepath.Join(dir, "WbCPSPay.20240511.log")))
	assert.Equal(t, []string{"2024-05-12T00:00:00.500+09:00\tSequence\tnext day"}, readLines(t, filepath.Join(dir, "WbCPSPay.20240512.log")))
}

func TestRollOverKeepsFileWithoutExpiry(t *testing.T) {
	l, clock, dir := openAt(t, time.Date(2024, 5, 10, 14, 59, 59, 0, time.UTC), Sequence, 0)
	l.Zap().Info("one")
	clock.Advance(2 * time.Second)
	l.Zap().Info("two")
	require.NoError(t, l.Close())
	assert.Equal(t, []string{"WbCPSPay.20240510.log", "WbCPSPay.20240511.log"}, listDir(t, dir))
	assert.Len(t, readLines(t, filepath.Join(dir, "WbCPSPay.20240510.log")), 1)
	assert.Len(t, readLines(t, filepath.Join(dir, "WbCPSPay.20240511.log")), 1)
}

func TestConcurrentWrites(t *testing.T) {
	l, clock, dir := openAt(t, time.Date(2024, 5, 10, 14, 59, 0, 0, time.UTC), Transaction, 0)
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				l.At(Level(i%5)).Info("msg", zap.Int("g", g), zap.Int("i", i))
			}
		}()
	}
	// Cross JST midnight while the writers run.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			clock.Advance(10 * time.Second)
		}
	}()
	wg.Wait()
	require.NoError(t, l.Close())

	seen := map[string]bool{}
	for _, name := range listDir(t, dir) {
		for _, line := range readLines(t, filepath.Join(dir, name)) {
			parts := strings.Split(line, "\t")
			require.Len(t, parts, 4, "torn line %q in %s", line, name)
			ts, err := time.Parse("2006-01-02T15:04:05.000Z07:00", parts[0])
			require.NoError(t, err)
			// The file is picked by the clock at write time, so a line stamped
			// just before midnight may land in the next day's file, never in
			// an earlier one.
			next := FileName(ts.Add(24 * time.Hour))
			assert.Contains(t, []string{FileName(ts), next}, name, "line %q in the wrong day's file", line)
			assert.False(t, seen[parts[3]], "duplicate %s", parts[3])
			seen[parts[3]] = true
		}
	}
	assert.Len(t, seen, writers*each)
	assert.Equal(t, []string{"WbCPSPay.20240510.log", "WbCPSPay.20240511.log"}, listDir(t, dir))
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no dir", Options{Level: Error}, "Dir is empty"},
		{"level too high", Options{Dir: t.TempDir(), Level: 5}, "Level 5"},
		{"negative level", Options{Dir: t.TempDir(), Level: -1}, "Level -1"},
		{"negative expire", Options{Dir: t.TempDir(), Level: Error, Expire: -1}, "Expire -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Open(tt.opts)
			assert.Nil(t, l)
			require.ErrorIs(t, err, ErrOptions)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	t.Run("dir is a file", func(t *testing.T) {
		l, err := Open(Options{Dir: file, Level: Error})
		assert.Nil(t, l)
		assert.ErrorContains(t, err, "create log directory")
	})
}

func TestCreatesDirAndUsesRealClockByDefault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home", "Log")
	l, err := Open(Options{Dir: dir, Level: Basic})
	require.NoError(t, err)
	l.At(Basic).Info("hello")
	require.NoError(t, l.Close())
	names := listDir(t, dir)
	require.Len(t, names, 1)
	_, ok := fileDay(names[0])
	assert.True(t, ok, "file %s", names[0])
}

func TestWriteAfterClose(t *testing.T) {
	l, _, dir := openAt(t, time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC), Error, 0)
	l.Zap().Error("before")
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "second Close")
	var errOut bytes.Buffer
	l.Zap().WithOptions(zap.ErrorOutput(zapcore.AddSync(&errOut))).Error("after")
	assert.Contains(t, errOut.String(), ErrClosed.Error())
	lines := readLines(t, filepath.Join(dir, "WbCPSPay.20240510.log"))
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], "before")
}
