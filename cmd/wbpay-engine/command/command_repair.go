package command

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api/client"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/layout"
)

func init() { verbs = append(verbs, newRepairCommand) }

func newRepairCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "repair",
		Short: "Rebuild a damaged journal from its intact entries, keeping the damaged file",
		Long: `repair rebuilds the home's journal when verify finds it damaged. It reads
every page of the damaged file (stale copies included) and carries over each
entry whose hash verifies against the entry before it, each transaction up to
its first lost entry, and the newest intact snapshot of each (its state set
to the last entry carried); the indexes are derived again. The rebuilt
journal must pass verify before it takes the journal's place; the damaged
file is kept untouched beside it as wbpay.journal.broken, and nothing is ever
overwritten (repair stops when that file exists). It reports exactly what
could not be carried over: the Seq ranges and the transactions.

Unfinished transactions are carried over like the others: the next start
(or wbpay-engine recover) finishes them. The damage record left by verify is
moved aside, so new requests are accepted again. Stop the engine first:
repair refuses a journal in use (L0006), and a home a running daemon
(wbpay-engine serve) serves: stop the daemon (or its service), then repair.

Exit code 0 when the journal was rebuilt (read the report: entries may have
been lost), 1 when it was not (intact, in use, or the copy exists).`,
		Example: `  wbpay-engine repair --home /var/lib/wbpay
  wbpay-engine repair -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.repair() },
	}
}

// repairJSON is repair's -o json output.
type repairJSON struct {
	Journal    string            `json:"journal"`
	Broken     string            `json:"broken"`
	Damage     string            `json:"damage"`
	Entries    uint64            `json:"entries"`
	Txns       int               `json:"transactions"`
	Unfinished int               `json:"unfinished"`
	LastSeq    uint64            `json:"lastSeqOfDamaged"`
	Renumbered bool              `json:"renumbered"`
	Lost       []string          `json:"lostSeqs"`
	LostTxns   []journal.LostTxn `json:"lostTransactions"`
}

func (g *globals) repair() error {
	if err := g.checkHome(); err != nil {
		return err
	}
	if _, info, err := client.Discover(context.Background(), g.home); err == nil {
		return withExit(ExitLibrary, fmt.Errorf("a daemon (wbpay-engine serve, pid %d, %s) serves this home: stop it first, then repair (repair rewrites the journal file the daemon holds open)", info.PID, info.URL))
	}
	path := layout.Home(g.home).Journal()
	if _, err := os.Stat(path); err != nil {
		if cerr := wbpay.CheckJournalPresent(g.home); cerr != nil {
			return withExit(ExitLibrary, cerr)
		}
		return withExit(ExitLibrary, fmt.Errorf("no journal to repair: %w", err))
	}
	id, err := readHomeJournalID(g.home)
	if err != nil {
		return withExit(ExitLibrary, err)
	}
	rep, err := journal.Repair(path, journal.RepairOptions{ID: id})
	if err != nil {
		if errors.Is(err, journal.ErrLocked) {
			return withExit(ExitLibrary, fmt.Errorf("L0006: %w\nan engine (a running wbpay-engine or the POS) holds the home: stop it, then repair", err))
		}
		return withExit(ExitLibrary, err)
	}
	record := layout.Home(g.home).Damage()
	if _, err := os.Stat(record); err == nil {
		aside := record + ".repaired-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(record, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(g.stderr, "could not move the damage record %s aside: %v\n", record, err)
		}
	}
	lost := make([]string, len(rep.Lost))
	for i, r := range rep.Lost {
		lost[i] = r.String()
	}
	if g.json() {
		return jsonOrExit(g, repairJSON{Journal: rep.Path, Broken: rep.Broken, Damage: rep.Damage, Entries: rep.Entries, Txns: rep.Txns,
			Unfinished: rep.Unfinished, LastSeq: rep.LastSeq, Renumbered: rep.Renumbered, Lost: lost, LostTxns: rep.LostTxns})
	}
	w := g.stdout
	fmt.Fprintf(w, "journal rebuilt: %s (%d entries, %d transactions carried over; it verifies)\n", rep.Path, rep.Entries, rep.Txns)
	fmt.Fprintf(w, "damaged file kept untouched: %s\ndamage: %s\n", rep.Broken, rep.Damage)
	if len(lost) == 0 && len(rep.LostTxns) == 0 {
		fmt.Fprintf(w, "nothing was lost: all %d entries carried over\n", rep.LastSeq)
	} else {
		fmt.Fprintf(w, "NOT carried over: entries %s of the damaged file (of %d)\n", orNone(strings.Join(lost, ", ")), rep.LastSeq)
		for _, l := range rep.LostTxns {
			fmt.Fprintf(w, "  txn %s (%d entries carried): %s\n", l.ID, l.Carried, l.Reason)
		}
	}
	if rep.Renumbered {
		fmt.Fprintln(w, "entries after the first lost one have new Seqs and hashes (a follower of the old chain must start again)")
	}
	if rep.Unfinished > 0 {
		fmt.Fprintf(w, "%d unfinished transactions carried over: run `wbpay-engine recover --home %s` to finish them\n", rep.Unfinished, g.home)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// readHomeJournalID returns the home's recorded journal id ("" when none).
func readHomeJournalID(home string) (string, error) {
	b, err := os.ReadFile(layout.Home(home).JournalID())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
