package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
)

func init() { verbs = append(verbs, newHistoryCommand) }

func newHistoryCommand(g *globals) *cobra.Command {
	var (
		since, until                timeFlag
		state, op, orderID, receipt string
		limit                       int
	)
	until.until = true
	cmd := &cobra.Command{
		Use:   "history [--since T] [--until T] [--state S] [--op OP] [--order-id ID] [--receipt-no R] [--limit N]",
		Short: "List transactions from the journal, newest first",
		Long: `history lists the transactions of the journal, newest first, from its
indexes. T is RFC 3339 (2026-11-25T09:00:00+09:00) or a date (2026-11-25, JST):
--since a date starts at its midnight, --until a date includes that whole
day. Transactions that need a person (escalated) are listed first as well,
under their own heading.

The journal is opened read-only and nothing is resumed; while an engine (the
POS, or another wbpay-engine) holds the home, it reports L0006 and exits 1.`,
		Example: `  wbpay-engine history
  wbpay-engine history --since 2026-11-25 --until 2026-11-25 --state paid
  wbpay-engine history --order-id 20261125090000123456789012345678 -o json
  wbpay-engine history --state escalated --limit 20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := journal.Query{Since: since.t, Until: until.t, OrderID: orderID, ReceiptNo: receipt, Limit: limit}
			var err error
			if state != "" {
				if q.State, err = parseState(state); err != nil {
					return withExit(ExitUsage, err)
				}
			}
			if op != "" {
				if q.Op, err = parseOp(op); err != nil {
					return withExit(ExitUsage, err)
				}
			}
			if limit < 0 {
				return usageErrorf("--limit %d is negative", limit)
			}
			if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
				return usageErrorf("--since %s is not before --until %s", since.raw, until.raw)
			}
			return g.history(q)
		},
	}
	f := cmd.Flags()
	f.Var(&since, "since", "first creation time to list (RFC 3339 or YYYY-MM-DD in JST)")
	f.Var(&until, "until", "list transactions created before this (RFC 3339), or on or before this date (YYYY-MM-DD, JST)")
	f.StringVar(&state, "state", "", "only this state: paid, failed, reversed, refunded, deposited, escalated, waiting, …")
	f.StringVar(&op, "op", "", "only this operation: pay, refund, reverse or deposit")
	f.StringVar(&orderID, "order-id", "", "only this order (a pay and its refunds and reverses)")
	f.StringVar(&receipt, "receipt-no", "", "only this receipt number")
	f.IntVar(&limit, "limit", 0, "at most N transactions (0: all)")
	return cmd
}

func (g *globals) history(q journal.Query) error {
	if c := g.daemon(context.Background()); c != nil {
		return g.historyVia(context.Background(), c, q)
	}
	j, err := g.openJournal()
	if errors.Is(err, errNoJournal) {
		return g.printHistory(nil)
	}
	if err != nil {
		return err
	}
	defer j.Close()
	txns, err := j.List(q)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("read the journal: %w", err))
	}
	return g.printHistory(txns)
}

func (g *globals) printHistory(txns []*journal.Txn) error {
	if g.json() {
		out := make([]txnJSON, 0, len(txns))
		for _, t := range txns {
			out = append(out, toTxnJSON(t))
		}
		return jsonOrExit(g, out)
	}
	w := g.stdout
	if len(txns) == 0 {
		fmt.Fprintln(w, "No transactions.")
		return nil
	}
	var escalated []*journal.Txn
	for _, t := range txns {
		if t.State == fsm.StateEscalated {
			escalated = append(escalated, t)
		}
	}
	if len(escalated) > 0 {
		fmt.Fprintf(w, "NEED A PERSON (escalated: call CPS with the transaction id):\n")
		historyTable(g, escalated)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "All transactions, newest first:")
	}
	historyTable(g, txns)
	return nil
}

func historyTable(g *globals, txns []*journal.Txn) {
	rows := make([][]string, 0, len(txns))
	for _, t := range txns {
		code := ""
		if t.LastError != nil && t.State != fsm.StatePaid {
			code = t.LastError.Code
		}
		rows = append(rows, []string{jst(t.CreatedAt), t.ID, t.Op.String(), string(t.State), fmt.Sprint(t.Amount),
			payTypeName(t.PayType), t.OrderID, t.ReceiptNo, code})
	}
	table(g.stdout, []string{"CREATED (JST)", "TRANSACTION", "OP", "STATE", "AMOUNT", "CHANNEL", "ORDER", "RECEIPT", "ERROR"}, rows)
}
