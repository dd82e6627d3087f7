package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
)

func init() { verbs = append(verbs, newVerifyCommand) }

func newVerifyCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Re-check the journal's whole hash chain and indexes",
		Long: `verify re-reads the whole journal: it recomputes every entry's hash and its
link to the previous one, checks that the sequence has no gap, that every
transaction's snapshot matches its entries, that the indexes hold exactly
what the snapshots imply, and bbolt's own page consistency. It prints a
one-line verdict.

Exit code 0 when the journal is intact, 1 when it is damaged (the verdict
names the first bad entry and transaction) or cannot be read. Damage is
recorded in the home (` + "`" + `wbpay.journal.damaged` + "`" + `): from then on the engine
refuses new requests (L0007) until ` + "`" + `wbpay-engine repair` + "`" + ` has rebuilt the
journal, or a clean verify (after the file was restored) removes the record.
A home whose journal is missing is refused too, with the way forward.`,
		Example: `  wbpay-engine verify --home /var/lib/wbpay
  wbpay-engine verify -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.verify()
		},
	}
}

// verifyJSON is verify's -o json output.
type verifyJSON struct {
	OK           bool   `json:"ok"`
	Journal      string `json:"journal"`
	Entries      uint64 `json:"entries"`
	Transactions uint64 `json:"transactions"`
	LastSeq      uint64 `json:"lastSeq"`
	LastHash     string `json:"lastHash"`
	Error        string `json:"error,omitempty"`
	BadSeq       uint64 `json:"badSeq,omitempty"`
	BadTxn       string `json:"badTransactionId,omitempty"`
}

func (g *globals) verify() error {
	if c := g.daemon(context.Background()); c != nil {
		return g.verifyVia(context.Background(), c)
	}
	j, err := g.openJournal()
	if errors.Is(err, errNoJournal) {
		if g.json() {
			return jsonOrExit(g, verifyJSON{OK: true})
		}
		fmt.Fprintf(g.stdout, "journal OK: empty (%v)\n", err)
		return nil
	}
	var rep journal.Report
	path := ""
	if err == nil {
		path = j.Path()
		rep, err = j.Verify()
		_ = j.Close()
	}
	if err != nil && !errors.Is(err, journal.ErrCorrupt) {
		return err // not readable at all (locked, home missing): already exit 1
	}
	v := verifyJSON{OK: err == nil, Journal: path, Entries: rep.Entries, Transactions: rep.Txns, LastSeq: rep.LastSeq, LastHash: rep.LastHash}
	if err != nil {
		v.Error = err.Error()
		var ce *journal.CorruptError
		if errors.As(err, &ce) {
			v.BadSeq, v.BadTxn = ce.Seq, ce.TxnID
			if v.Journal == "" {
				v.Journal = ce.Path
			}
		}
	}
	if g.json() {
		if err := jsonOrExit(g, v); err != nil {
			return err
		}
	} else if v.OK {
		fmt.Fprintf(g.stdout, "journal OK: %d entries, %d transactions, hash chain intact up to entry %d (%s)\n",
			v.Entries, v.Transactions, v.LastSeq, abbrevHash(v.LastHash))
	} else {
		fmt.Fprintf(g.stdout, "journal DAMAGED: %v\n", err)
	}
	if !v.OK {
		if rerr := wbpay.RecordDamage(g.home, err); rerr != nil {
			fmt.Fprintf(g.stderr, "could not record the damage in the home: %v\n", rerr)
		}
		return silentExit(ExitLibrary)
	}
	if cleared, cerr := wbpay.ClearDamage(g.home); cerr != nil {
		fmt.Fprintf(g.stderr, "could not remove the damage record: %v\n", cerr)
	} else if cleared && !g.json() {
		fmt.Fprintf(g.stdout, "the damage recorded earlier (%s) no longer holds: record removed, requests are accepted again\n", wbpay.DamageFile)
	}
	return nil
}

func abbrevHash(h string) string {
	if h == "" {
		return "empty"
	}
	if len(h) > 16 {
		return "hash " + h[:16] + "…"
	}
	return "hash " + h
}
