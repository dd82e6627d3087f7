package command

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
)

// TestReportCommand (issue 14.2): report interim keeps the day open,
// report daily closes it; later activity does not change the closed day,
// whose reprint (table, CSV, JSON) is identical; the CSV holds the same
// figures.
func TestReportCommand(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	_, a := e.payJSON("--amount", "1000", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	_, b := e.payJSON("--amount", "2500", "--user-code", "361234567890123456", "--pay-type", "LINE")
	require.Equal(t, "paid", a.State)
	require.Equal(t, "paid", b.State)
	require.Equal(t, ExitOK, e.run("refund", "--order-id", a.OrderID, "--amount", "400").code)
	require.Equal(t, ExitOK, e.run("reverse", "--order-id", b.OrderID).code)

	interim := e.run("report", "interim", "-o", "json")
	require.Equal(t, ExitOK, interim.code)
	var rep wbpay.Report
	require.NoError(t, json.Unmarshal([]byte(interim.stdout), &rep))
	assert.Equal(t, "2026-11-25", rep.Day)
	assert.False(t, rep.Closed)
	assert.EqualValues(t, 1000+2500-400-2500, rep.Net)
	table := e.run("report", "interim")
	assert.Contains(t, table.stdout, "中間計")
	assert.Contains(t, table.stdout, "LINE Pay")
	assert.Contains(t, table.stdout, "600 yen", "the net")

	daily := e.run("report", "daily", "-o", "json")
	require.Equal(t, ExitOK, daily.code)
	var closed wbpay.Report
	require.NoError(t, json.Unmarshal([]byte(daily.stdout), &closed))
	assert.True(t, closed.Closed)
	assert.False(t, closed.Reprint)
	assert.EqualValues(t, 600, closed.Net)
	csvOut := e.run("report", "daily", "--date", "2026-11-25", "--csv")
	dailyTable := e.run("report", "daily", "--date", "2026-11-25")

	// Later activity goes to the next business day.
	e.clock.Advance(time.Minute)
	_, c := e.payJSON("--amount", "777", "--user-code", "281234567890123456", "--pay-type", "PAYPAY")
	require.Equal(t, "paid", c.State)
	reprint := e.run("report", "daily", "--date", "2026-11-25", "-o", "json")
	var back wbpay.Report
	require.NoError(t, json.Unmarshal([]byte(reprint.stdout), &back))
	assert.True(t, back.Reprint)
	back.Reprint = false
	assert.Equal(t, closed, back, "the closed day never changes")
	assert.Equal(t, csvOut.stdout, e.run("report", "daily", "--date", "2026-11-25", "--csv").stdout, "CSV reprints identically")
	assert.Equal(t, dailyTable.stdout, e.run("report", "daily", "--date", "2026-11-25").stdout, "the table reprints identically")
	assert.Contains(t, dailyTable.stdout, "reprint")

	rows, err := csv.NewReader(strings.NewReader(csvOut.stdout)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	assert.Equal(t, "record", rows[0][0])
	var net string
	lines := 0
	for _, r := range rows[1:] {
		switch r[0] {
		case "net":
			net = r[7]
		case "line":
			lines++
		}
	}
	assert.Equal(t, "600", net)
	assert.Equal(t, len(closed.Lines), lines)

	// The close is an ordinary journaled transaction for the audit verbs.
	v := e.run("verify")
	assert.Equal(t, ExitOK, v.code, "the chain covers the close")
	hist := e.run("history")
	assert.Equal(t, ExitOK, hist.code)
	assert.Contains(t, hist.stdout, wbpay.CloseID("2026-11-25"))
	show := e.run("show", wbpay.CloseID("2026-11-25"), "-o", "json")
	require.Equal(t, ExitOK, show.code)
	var tl struct {
		Entries []struct {
			Close *journal.DayClose `json:"close"`
		} `json:"entries"`
	}
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &tl))
	require.Len(t, tl.Entries, 1)
	require.NotNil(t, tl.Entries[0].Close, "show -o json has the journaled totals")
	assert.Len(t, tl.Entries[0].Close.Lines, len(closed.Lines))
	exp := e.run("export", "--format", "jsonl")
	assert.Equal(t, ExitOK, exp.code)
	assert.Contains(t, exp.stdout, `"close":{"day":"2026-11-25"`, "export has them too")

	next := e.run("report", "interim", "-o", "json")
	var nrep wbpay.Report
	require.NoError(t, json.Unmarshal([]byte(next.stdout), &nrep))
	assert.Equal(t, "2026-11-26", nrep.Day, "after the close the current business day is the next")
	assert.EqualValues(t, 777, nrep.Net)

	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"no kind", []string{"report"}, ExitUsage},
		{"bad kind", []string{"report", "weekly"}, ExitUsage},
		{"csv and json", []string{"report", "interim", "--csv", "-o", "json"}, ExitUsage},
		{"bad date", []string{"report", "daily", "--date", "25/11/2026"}, ExitLibrary},
		{"future day", []string{"report", "daily", "--date", "2027-01-01"}, ExitLibrary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.code, e.run(tc.args...).code)
		})
	}
}
