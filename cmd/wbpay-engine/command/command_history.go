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
under their own heading. A pay's state says what became of its money since:
"paid, refunded 300", "paid, refunded" (all of it), "paid, reversed"; and
--state paid lists only pays whose money the channel still holds.

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
	f.StringVar(&state, "state", "", "only this state: paid and deposited mean the money is still held (not since reversed or wholly refunded); failed, reversed, refunded, escalated, resolved, waiting, …")
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
		return g.printHistory(nil, nil)
	}
	if err != nil {
		return err
	}
	defer j.Close()
	txns, err := j.List(q)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("read the journal: %w", err))
	}
	st, err := standings(j, txns)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("read the journal: %w", err))
	}
	if q.State == wbpay.StatePaid || q.State == wbpay.StateDeposited {
		// --state paid means the money is still held: a pay since reversed
		// or wholly refunded is not listed.
		held := txns[:0]
		for _, t := range txns {
			if st[t.ID].Held {
				held = append(held, t)
			}
		}
		txns = held
	}
	return g.printHistory(txns, st)
}

// standings returns the standing of every pay and deposit among txns,
// from the other transactions of its order.
func standings(j *journal.Journal, txns []*journal.Txn) (map[string]journal.Standing, error) {
	out := make(map[string]journal.Standing)
	for _, t := range txns {
		if (t.Op != paytree.OpPay && t.Op != paytree.OpDeposit) || t.OrderID == "" {
			continue
		}
		order, err := j.ByOrderID(t.OrderID)
		if err != nil {
			return nil, err
		}
		out[t.ID] = journal.StandingOf(t, order)
	}
	return out, nil
}

// standingText is a pay's or deposit's state as history shows it: what
// became of its money since ("paid, refunded 300", "paid, reversed").
func standingText(t *journal.Txn, st map[string]journal.Standing) string {
	s, ok := st[t.ID]
	state := string(t.State)
	if t.State == wbpay.StateResolved {
		state = "resolved as " + string(journal.Outcome(t))
	}
	switch {
	case !ok:
		return state
	case s.ReverseID != "":
		return state + ", reversed"
	case s.Refunded >= t.Amount && s.Refunded > 0:
		return state + ", refunded"
	case s.Refunded > 0:
		return fmt.Sprintf("%s, refunded %d", state, s.Refunded)
	}
	return state
}

func (g *globals) printHistory(txns []*journal.Txn, st map[string]journal.Standing) error {
	if g.json() {
		out := make([]txnJSON, 0, len(txns))
		for _, t := range txns {
			tj := toTxnJSON(t)
			if s, ok := st[t.ID]; ok {
				tj.RefundedTotal, tj.ReversedBy, tj.Held = &s.Refunded, s.ReverseID, &s.Held
			}
			out = append(out, tj)
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
		if t.State == wbpay.StateEscalated {
			escalated = append(escalated, t)
		}
	}
	if len(escalated) > 0 {
		fmt.Fprintf(w, "NEED A PERSON (escalated: call CPS with the transaction id):\n")
		historyTable(g, escalated, st)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "All transactions, newest first:")
	}
	historyTable(g, txns, st)
	return nil
}

func historyTable(g *globals, txns []*journal.Txn, st map[string]journal.Standing) {
	rows := make([][]string, 0, len(txns))
	for _, t := range txns {
		code := ""
		if t.LastError != nil && t.State != wbpay.StatePaid {
			code = t.LastError.Code
		}
		rows = append(rows, []string{jst(t.CreatedAt), t.ID, t.Op.String(), standingText(t, st), fmt.Sprint(t.Amount),
			payTypeName(t.PayType), t.OrderID, t.ReceiptNo, code})
	}
	table(g.stdout, []string{"CREATED (JST)", "TRANSACTION", "OP", "STATE", "AMOUNT", "CHANNEL", "ORDER", "RECEIPT", "ERROR"}, rows)
}
