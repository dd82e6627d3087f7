package command

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
)

func init() { verbs = append(verbs, newReportCommand) }

func newReportCommand(g *globals) *cobra.Command {
	var date string
	var asCSV bool
	cmd := &cobra.Command{
		Use:   "report interim|daily [--date YYYY-MM-DD] [--csv]",
		Short: "Day totals: interim (中間計, the day stays open) or daily (日計, closes the day)",
		Long: `report prints the totals of one JST business day: per channel and operation
(pay, deposit, refund, reverse) the count and the sum of the money that
moved, the totals per operation, the net (pays + deposits − refunds −
reverses), and the day's transactions still unfinished or escalated (their
money is not counted until their outcome is known).

interim (中間計) reports the day as it stands and writes nothing. daily (日計)
closes the day: it journals the totals in one hash-chained close entry and
prints them; run again, it reprints the same totals from that entry,
whatever happened since. A transaction made after its day was closed
belongs to the next business day, which began with the close.

--date picks the day (default today; for interim, after today's close,
the next business day). daily without --date run twice reprints today.
--csv prints CSV instead of the table, -o json the report as JSON.

While a daemon (wbpay-engine serve) holds the home, report goes through
its API, with the same output.

Exit code 0 when printed, 1 when the day has not begun or the journal
cannot be read or written.`,
		Example: `  wbpay-engine report interim
  wbpay-engine report daily
  wbpay-engine report daily --date 2026-11-25 --csv`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{string(wbpay.ReportInterim), string(wbpay.ReportDaily)},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := wbpay.ReportKind(args[0])
			if kind != wbpay.ReportInterim && kind != wbpay.ReportDaily {
				return usageErrorf("report %q: want interim or daily", args[0])
			}
			if asCSV && g.json() {
				return usageErrorf("--csv and -o json exclude each other")
			}
			rep, err := g.dayReport(cmd.Context(), kind, date)
			if err != nil {
				return err
			}
			switch {
			case g.json():
				return jsonOrExit(g, rep)
			case asCSV:
				if err := writeReportCSV(g.stdout, rep); err != nil {
					return withExit(ExitLibrary, err)
				}
				return nil
			}
			printReport(g.stdout, rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&date, "date", "", "business day YYYY-MM-DD (JST); default today (interim: the current business day)")
	f.BoolVar(&asCSV, "csv", false, "print CSV (one row per line, totals, net, open transactions)")
	return cmd
}

// dayReport computes the report through the daemon serving the home, or
// with the engine opened on the home when none does.
func (g *globals) dayReport(ctx context.Context, kind wbpay.ReportKind, date string) (*wbpay.Report, error) {
	if c := g.daemon(ctx); c != nil {
		if len(date) == 8 && !strings.Contains(date, "-") { // YYYYMMDD, as the engine takes it
			date = date[:4] + "-" + date[4:6] + "-" + date[6:]
		}
		var rep *wbpay.Report
		err := g.retryRecovering(ctx, c, func() (err error) {
			rep, err = c.Report(ctx, kind, date)
			return err
		})
		if err != nil {
			return nil, g.daemonFailed(err)
		}
		return rep, nil
	}
	eng, err := g.openEngine(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if kind == wbpay.ReportDaily {
		// Let recovery finish what it can first: a close counts
		// only settled money.
		if err := g.awaitRecovery(ctx, eng); err != nil {
			return nil, err
		}
	}
	rep, err := eng.Report(kind, date)
	if err != nil {
		return nil, withExit(ExitLibrary, err)
	}
	return rep, nil
}

// reportTitle names the report as printed.
func reportTitle(rep *wbpay.Report) string {
	switch {
	case rep.Kind == wbpay.ReportDaily && rep.Reprint:
		return "日計 DAILY (reprint of the closed day)"
	case rep.Kind == wbpay.ReportDaily:
		return "日計 DAILY (the day is now closed)"
	case rep.Closed:
		return "中間計 INTERIM (live figures; the day was closed, see report daily)"
	}
	return "中間計 INTERIM (the day stays open)"
}

func printReport(w io.Writer, rep *wbpay.Report) {
	fmt.Fprintf(w, "%s  %s\n", reportTitle(rep), rep.Day)
	fmt.Fprintf(w, "  window  %s – %s JST\n", jst(rep.From), jst(rep.Until))
	if rep.Closed {
		fmt.Fprintf(w, "  closed  %s JST, journal entry %d (hash %s)\n", jst(rep.ClosedAt), rep.CloseSeq, shortHash(rep.CloseHash))
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(rep.Lines))
	for _, l := range rep.Lines {
		rows = append(rows, []string{"  " + l.ChannelJa, l.Channel, l.OperationJa, l.Operation, strconv.FormatInt(l.Count, 10), yen(l.Amount)})
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "  no money moved")
	} else {
		table(w, []string{"  BRAND", "CHANNEL", "", "OPERATION", "COUNT", "AMOUNT"}, rows)
	}
	fmt.Fprintln(w)
	rows = rows[:0]
	for _, l := range rep.Totals {
		rows = append(rows, []string{"  " + l.OperationJa, l.Operation, strconv.FormatInt(l.Count, 10), yen(l.Amount)})
	}
	rows = append(rows, []string{"  純額", "net", "", yen(rep.Net)})
	table(w, []string{"  TOTAL", "", "COUNT", "AMOUNT"}, rows)
	for _, part := range []struct {
		title string
		list  []wbpay.ReportOpen
	}{{"unfinished (未完了: recovery finishes them)", rep.Unfinished}, {"escalated (要確認: call CPS, then resolve)", rep.Escalated}} {
		if len(part.list) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n  %s:\n", part.title)
		rows = rows[:0]
		for _, o := range part.list {
			rows = append(rows, []string{"  " + o.TransactionID, o.Operation, string(o.State), o.Channel, o.OrderID, yen(o.Amount)})
		}
		table(w, []string{"  TRANSACTION", "OPERATION", "STATE", "CHANNEL", "ORDER", "AMOUNT"}, rows)
	}
}

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// writeReportCSV writes rep as CSV: a header, one "line" row per channel
// and operation, one "total" row per operation, the "net" row, and one
// row per unfinished or escalated transaction.
func writeReportCSV(w io.Writer, rep *wbpay.Report) error {
	cw := csv.NewWriter(w)
	closed := "no"
	if rep.Closed {
		closed = "yes"
	}
	rows := [][]string{{"record", "day", "channel", "channel_ja", "pay_type", "operation", "count", "amount", "transaction_id", "state", "order_id", "closed"}}
	for _, l := range rep.Lines {
		rows = append(rows, []string{"line", rep.Day, l.Channel, l.ChannelJa, l.PayType, l.Operation, strconv.FormatInt(l.Count, 10), strconv.FormatInt(l.Amount, 10), "", "", "", closed})
	}
	for _, l := range rep.Totals {
		rows = append(rows, []string{"total", rep.Day, "", "", "", l.Operation, strconv.FormatInt(l.Count, 10), strconv.FormatInt(l.Amount, 10), "", "", "", closed})
	}
	rows = append(rows, []string{"net", rep.Day, "", "", "", "", "", strconv.FormatInt(rep.Net, 10), "", "", "", closed})
	for _, o := range append(append([]wbpay.ReportOpen(nil), rep.Unfinished...), rep.Escalated...) {
		rows = append(rows, []string{"open", rep.Day, o.Channel, "", "", o.Operation, "", strconv.FormatInt(o.Amount, 10), o.TransactionID, string(o.State), o.OrderID, closed})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
