package command

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/slip"
)

func init() { verbs = append(verbs, newReceiptCommand) }

func newReceiptCommand(g *globals) *cobra.Command {
	var copyName string
	var width int
	cmd := &cobra.Command{
		Use:   "receipt ID [--copy customer|merchant] [--width 32|42]",
		Short: "Print a finished transaction's slip for a receipt printer",
		Long: `receipt prints the slip (レシート) of a finished pay, refund, reverse or
deposit as plain UTF-8 text for a receipt printer: --width columns wide
(32 or 42; a kanji or kana takes two), Japanese labels, the customer's copy
(お客様控え) or the store's (加盟店控え). A paid pay or deposit shows until
when it can still be reversed (取消期限).

Each slip is counted in the journal before it is printed: the first of each
copy is the original, every later one is marked 再発行 (reprint) with its
number and the first print's time. A slip can be reprinted at any time.

-o json prints the receipt data, the copy and the print count instead.
While a daemon (wbpay-engine serve) holds the home, receipt goes through
its API (the print is counted in the same journal).
Exit code 0 when printed, 1 for an unknown or unfinished transaction.`,
		Example: `  wbpay-engine receipt 0195f3a2b4c07d3e9a1b2c3d4e5f6071
  wbpay-engine receipt 0195f3a2b4c07d3e9a1b2c3d4e5f6071 --copy merchant --width 42
  wbpay-engine receipt 0195f3a2b4c07d3e9a1b2c3d4e5f6071 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := wbpay.Copy(copyName)
			if c != wbpay.CustomerCopy && c != wbpay.MerchantCopy {
				return usageErrorf("--copy %q: want customer or merchant", copyName)
			}
			// Checked before the print is counted, so a bad width never
			// costs an original.
			if width != slip.Width32 && width != slip.Width42 {
				return usageErrorf("--width %d: want 32 or 42", width)
			}
			if d := g.daemon(cmd.Context()); d != nil {
				sl, err := d.PrintReceipt(cmd.Context(), args[0], c, width)
				if err != nil {
					return g.daemonFailed(err)
				}
				if g.json() {
					return jsonOrExit(g, &sl.Printed)
				}
				fmt.Fprint(g.stdout, sl.Text)
				return nil
			}
			eng, err := g.openEngine(cmd.Context())
			if err != nil {
				return err
			}
			defer eng.Close()
			p, err := eng.PrintReceipt(args[0], c)
			if err != nil {
				return withExit(ExitLibrary, err)
			}
			if g.json() {
				return jsonOrExit(g, p)
			}
			text, err := slip.Render(p, width)
			if err != nil {
				return withExit(ExitLibrary, err)
			}
			fmt.Fprint(g.stdout, text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&copyName, "copy", string(wbpay.CustomerCopy), "customer (お客様控え) or merchant (加盟店控え)")
	f.IntVar(&width, "width", slip.Width32, "slip width in columns: 32 or 42")
	return cmd
}
