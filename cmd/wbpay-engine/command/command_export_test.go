package command

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/journal"
)

// journalEntries counts the fixture's entries through the journal itself.
func (e *cliEnv) journalEntries() uint64 {
	e.t.Helper()
	g := &globals{home: e.home}
	j, err := g.openJournal()
	require.NoError(e.t, err)
	defer j.Close()
	rep, err := j.Verify()
	require.NoError(e.t, err)
	return rep.Entries
}

func TestExportJSONL(t *testing.T) {
	f := newAuditFixture(t)
	want := f.journalEntries()
	r := f.run("export", "--format", "jsonl")
	require.Equal(t, ExitOK, r.code)
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	var entries []journal.Entry
	for sc.Scan() {
		var e journal.Entry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), sc.Text())
		entries = append(entries, e)
	}
	require.Len(t, entries, int(want))
	for i, e := range entries {
		assert.Equal(t, uint64(i+1), e.Seq, "in Seq order")
		if i > 0 {
			assert.Equal(t, entries[i-1].Hash, e.PrevHash, "the chain is exported for the auditor")
		}
	}
	assert.Equal(t, f.paid, entries[0].TxnID)
	assert.Equal(t, f.deposit, entries[len(entries)-1].TxnID)
}

func TestExportCSVToFile(t *testing.T) {
	f := newAuditFixture(t)
	out := filepath.Join(t.TempDir(), "audit.csv")
	r := f.run("export", "--format", "csv", "--out", out)
	require.Equal(t, ExitOK, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "exported to "+out)
	file, err := os.Open(out)
	require.NoError(t, err)
	defer file.Close()
	rows, err := csv.NewReader(file).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, int(f.journalEntries())+1)
	assert.Equal(t, csvHeader, rows[0])
	var failRow []string
	for _, row := range rows[1:] {
		if row[2] == f.declined && row[3] == "fail" {
			failRow = row
		}
	}
	require.NotNil(t, failRow, "the declined pay's fail entry")
	assert.Equal(t, []string{"sending", "failed", "200", "E2002", "9", "E2002", "SIM-2002", "Customer"},
		[]string{failRow[4], failRow[5], failRow[8], failRow[9], failRow[10], failRow[11], failRow[12], failRow[14]})

	// An existing file is never replaced.
	r = f.run("export", "--format", "csv", "--out", out)
	assert.Equal(t, ExitLibrary, r.code)
	assert.Contains(t, r.stderr, "already exists")
}

func TestExportSelectsByTime(t *testing.T) {
	f := newAuditFixture(t)
	r := f.run("export", "--since", "2026-11-26")
	require.Equal(t, ExitOK, r.code)
	assert.Empty(t, r.stdout)
	r = f.run("export", "--until", "2026-11-25")
	require.Equal(t, ExitOK, r.code)
	assert.Equal(t, int(f.journalEntries()), strings.Count(r.stdout, "\n"))
}

func TestExportErrors(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("export", "--format", "xml")
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, `--format "xml"`)

	r = e.run("export", "--format", "csv")
	assert.Equal(t, ExitOK, r.code, "no journal yet: just the header")
	assert.Equal(t, strings.Join(csvHeader, ",")+"\n", r.stdout)
}
