package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

func init() { verbs = append(verbs, newShowCommand) }

func newShowCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Print one transaction's full timeline from the journal",
		Long: `show prints one transaction — by its transaction id, or by an order id — and
every transition the journal recorded for it: time, event, from and to
state, the requestId sent or answered, the HTTP outcome, the result or error
code, and whom to call for an error. An order id lists the pay and every
refund and reverse of that order.

The journal is opened read-only; an unknown id exits 1.`,
		Example: `  wbpay-engine show 019375a2c4d87e3f9b1a2c3d4e5f6a7b
  wbpay-engine show 20261125090000123456789012345678 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.show(args[0])
		},
	}
}

// entryJSON is a journal entry in -o json output.
type entryJSON struct {
	Seq        uint64            `json:"seq"`
	Time       string            `json:"time"`
	Event      string            `json:"event"`
	From       string            `json:"from"`
	To         string            `json:"to"`
	RequestID  string            `json:"requestId,omitempty"`
	Kind       string            `json:"kind,omitempty"`
	HTTP       string            `json:"http,omitempty"`
	ResultCode string            `json:"resultCode,omitempty"`
	Error      *errorJSON        `json:"error,omitempty"`
	Note       string            `json:"note,omitempty"`
	Close      *journal.DayClose `json:"close,omitempty"` // a business day's close: the totals it journaled
	Hash       string            `json:"hash"`
}

// timelineJSON is one transaction with its entries.
type timelineJSON struct {
	txnJSON
	Entries []entryJSON `json:"entries"`
}

func (g *globals) show(id string) error {
	if c := g.daemon(context.Background()); c != nil {
		return g.showVia(context.Background(), c, id)
	}
	j, err := g.openJournal()
	if errors.Is(err, errNoJournal) {
		return withExit(ExitLibrary, fmt.Errorf("transaction %q not found: %w", id, err))
	}
	if err != nil {
		return err
	}
	defer j.Close()
	var txns []*journal.Txn
	t, err := j.Get(id)
	switch {
	case err == nil:
		txns = []*journal.Txn{t}
	case errors.Is(err, journal.ErrNotFound):
		if txns, err = j.ByOrderID(id); err != nil {
			return withExit(ExitLibrary, fmt.Errorf("read the journal: %w", err))
		}
		if len(txns) == 0 {
			return withExit(ExitLibrary, fmt.Errorf("no transaction or order %q in the journal %s (see `wbpay-engine history`)", id, j.Path()))
		}
	default:
		return withExit(ExitLibrary, fmt.Errorf("read the journal: %w", err))
	}
	timelines := make([]timeline, 0, len(txns))
	for _, t := range txns {
		entries, err := j.Entries(t.ID)
		if err != nil {
			return withExit(ExitLibrary, fmt.Errorf("read the journal: %w", err))
		}
		timelines = append(timelines, timeline{t, entries})
	}
	return g.printTimelines(timelines)
}

// timeline is one transaction with its journal entries, as show prints it.
type timeline struct {
	txn     *journal.Txn
	entries []journal.Entry
}

// printTimelines writes each timeline for people, or as JSON: one object
// for a single transaction, an array for an order's.
func (g *globals) printTimelines(tls []timeline) error {
	if !g.json() {
		for i, tl := range tls {
			if i > 0 {
				fmt.Fprintln(g.stdout)
			}
			printTimeline(g, tl.txn, tl.entries)
		}
		return nil
	}
	out := make([]timelineJSON, 0, len(tls))
	for _, tl := range tls {
		tj := timelineJSON{txnJSON: toTxnJSON(tl.txn), Entries: make([]entryJSON, 0, len(tl.entries))}
		for _, e := range tl.entries {
			tj.Entries = append(tj.Entries, toEntryJSON(e))
		}
		out = append(out, tj)
	}
	if len(out) == 1 {
		return jsonOrExit(g, out[0])
	}
	return jsonOrExit(g, out)
}

func toEntryJSON(e journal.Entry) entryJSON {
	return entryJSON{Seq: e.Seq, Time: rfc3339(e.Time), Event: string(e.Event), From: string(e.From), To: string(e.To),
		RequestID: e.RequestID, Kind: e.Kind, HTTP: e.HTTP, ResultCode: e.ResultCode, Error: toErrorJSON(e.Error),
		Note: e.Note, Close: e.Close, Hash: e.Hash}
}

func printTimeline(g *globals, t *journal.Txn, entries []journal.Entry) {
	w := g.stdout
	fmt.Fprintf(w, "%s %s: %s\n", t.Op, t.ID, t.State)
	kv := [][]string{
		{"  created", jst(t.CreatedAt) + " JST"},
		{"  updated", jst(t.UpdatedAt) + " JST"},
		{"  amount", yen(t.Amount)},
	}
	if t.PayType != "" {
		kv = append(kv, []string{"  channel", payTypeName(t.PayType)})
	} else if t.Op == paytree.OpPay {
		kv = append(kv, []string{"  channel", "auto-detect"})
	}
	for _, p := range [][2]string{{"order", t.OrderID}, {"receipt", t.ReceiptNo}, {"user code", t.UserCodeMasked}} {
		if p[1] != "" {
			kv = append(kv, []string{"  " + p[0], p[1]})
		}
	}
	if st := statusName(paytree.TransStatus(t.TransStatus)); st != "" {
		kv = append(kv, []string{"  status", st})
	}
	if t.Recovered {
		kv = append(kv, []string{"  recovered", "yes (finished by recovery after a restart)"})
	}
	if t.State == wbpay.StateResolved {
		kv = append(kv, []string{"  resolved", fmt.Sprintf("as %s by %s, after the CPS call (see the last entry's note)",
			t.Request[journal.KeyResolution], t.Request[journal.KeyResolvedBy])})
	}
	table(w, nil, kv)
	if e := t.LastError; e != nil {
		a, _ := paytree.ParseAction(e.Action)
		fmt.Fprintf(w, "  last error  %s %s\n", e.Code, e.Message)
		if a != paytree.ActionNone {
			fmt.Fprintf(w, "  what to do  %s (%s)\n", advice(a), a)
		}
	}
	fmt.Fprintln(w, "\n  timeline:")
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		code, action := e.ResultCode, ""
		if e.Error != nil {
			code, action = e.Error.Code, e.Error.Action
		}
		rows = append(rows, []string{"  " + fmt.Sprint(e.Seq), jst(e.Time), string(e.Event), string(e.From) + " -> " + string(e.To),
			e.Kind, e.RequestID, e.HTTP, code, action, e.Note})
	}
	table(w, []string{"  SEQ", "TIME (JST)", "EVENT", "TRANSITION", "KIND", "REQUEST ID", "HTTP", "CODE", "ACTION", "NOTE"}, rows)
}
