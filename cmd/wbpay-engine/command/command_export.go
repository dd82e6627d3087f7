package command

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay/internal/atomicfile"
	"github.com/wbpay/wbpay/journal"
)

func init() { verbs = append(verbs, newExportCommand) }

func newExportCommand(g *globals) *cobra.Command {
	var (
		format, out  string
		since, until timeFlag
	)
	until.until = true
	cmd := &cobra.Command{
		Use:   "export --format jsonl|csv [--since T] [--until T] [--out FILE]",
		Short: "Stream every journal entry for an auditor (JSON lines or CSV)",
		Long: `export writes every entry of the journal in Seq order — one transition of
one transaction each, with its time, event, states, requestId, HTTP outcome,
result and error codes, and the hash chain (prevHash, hash) so the auditor
can re-check it — as JSON lines (jsonl) or CSV with a header. Each entry is
checked against its hash while it is read.

--since and --until select entries by time (RFC 3339, or a JST date: --until
includes that whole day). --out writes the file atomically (never replacing
an existing file); without it the entries go to stdout. -o does not apply.`,
		Example: `  wbpay-engine export --format jsonl > journal-2026-11.jsonl
  wbpay-engine export --format csv --since 2026-11-01 --until 2026-11-30 --out audit-2026-11.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "jsonl" && format != "csv" {
				return usageErrorf("--format %q: want jsonl or csv", format)
			}
			if !since.t.IsZero() && !until.t.IsZero() && !since.t.Before(until.t) {
				return usageErrorf("--since %s is not before --until %s", since.raw, until.raw)
			}
			return g.export(format, out, since, until)
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "jsonl", "jsonl (one JSON object per line) or csv")
	f.StringVar(&out, "out", "", "write to this file (created atomically, never overwritten) instead of stdout")
	f.Var(&since, "since", "first entry time to export (RFC 3339 or YYYY-MM-DD in JST)")
	f.Var(&until, "until", "export entries before this time (RFC 3339), or on or before this date (YYYY-MM-DD, JST)")
	return cmd
}

// csvHeader names the CSV columns of export.
var csvHeader = []string{"seq", "time", "txnId", "event", "from", "to", "requestId", "kind", "http", "resultCode",
	"errorType", "errorCode", "errorSubCode", "errorMessage", "action", "note", "prevHash", "hash"}

func (g *globals) export(format, out string, since, until timeFlag) error {
	if c := g.daemon(context.Background()); c != nil {
		return g.writeExport(out, exportVia(context.Background(), c, format, since, until))
	}
	return g.exportDirect(format, out, since, until)
}

func (g *globals) exportDirect(format, out string, since, until timeFlag) error {
	j, err := g.openJournal()
	noJournal := errors.Is(err, errNoJournal)
	if err != nil && !noJournal {
		return err
	}
	if j != nil {
		defer j.Close()
	}
	fill := func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		var cw *csv.Writer
		if format == "csv" {
			cw = csv.NewWriter(bw)
			if err := cw.Write(csvHeader); err != nil {
				return err
			}
		}
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		if j != nil {
			err := j.ForEachEntry(func(e journal.Entry) error {
				if (!since.t.IsZero() && e.Time.Before(since.t)) || (!until.t.IsZero() && !e.Time.Before(until.t)) {
					return nil
				}
				if cw != nil {
					return cw.Write(csvRow(e))
				}
				return enc.Encode(e)
			})
			if err != nil {
				return err
			}
		}
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	return g.writeExport(out, fill)
}

// writeExport writes fill's output to stdout or, atomically, to out.
func (g *globals) writeExport(out string, fill func(io.Writer) error) error {
	var err error
	if out == "" {
		err = fill(g.stdout)
	} else {
		err = atomicfile.Write(out, 0o640, true, fill)
	}
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("export: %w", err))
	}
	if out != "" {
		fmt.Fprintf(g.stderr, "exported to %s\n", out)
	}
	return nil
}

func csvRow(e journal.Entry) []string {
	var et, ec, es, em, ea string
	if x := e.Error; x != nil {
		et, ec, es, em, ea = strconv.Itoa(x.Type), x.Code, x.SubCode, x.Message, x.Action
	}
	return []string{strconv.FormatUint(e.Seq, 10), rfc3339(e.Time), e.TxnID, string(e.Event), string(e.From), string(e.To),
		e.RequestID, e.Kind, e.HTTP, e.ResultCode, et, ec, es, em, ea, e.Note, e.PrevHash, e.Hash}
}
