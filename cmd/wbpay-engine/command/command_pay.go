package command

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
)

func init() { verbs = append(verbs, newPayCommand) }

func newPayCommand(g *globals) *cobra.Command {
	var (
		amount                                  amountFlag
		userCode, payType, receipt, remark, key string
	)
	cmd := &cobra.Command{
		Use:   "pay --amount YEN --user-code CODE [--pay-type PAYPAY|auto] [--receipt-no R] [--remark R]",
		Short: "Take a payment and follow it to the end",
		Long: `pay sends one payment and follows its whole sequence before it returns:
the customer's approval when the gateway answers WAITING, a confirm when the
answer is lost, and a reverse when the outcome stays unknown, so that no
customer stays charged for goods the POS did not hand over.

--user-code is the content of the customer's barcode or QR code; "-" reads it
from the first line of stdin (it then stays out of the process list). It is
never stored in full: the journal keeps a masked form and a hash.

When the gateway answers WAITING and PayConfirmPollingMode is no, a cashier
at a terminal is asked (Enter asks the gateway now, c cancels); without a
terminal the command asks the gateway every PayConfirmPollingInterval.

Exit code 0 when paid, 3 when refused or undone (nothing charged), 4 when a
person must act (escalated), 1 for a library or configuration error.`,
		Example: `  wbpay-engine pay --amount 1000 --user-code 281234567890123456
  wbpay-engine pay --amount 1000 --user-code 281234567890123456 --pay-type PAYPAY --receipt-no R-0042 -o json
  scan-barcode | wbpay-engine pay --amount 1980.5 --user-code -     # charges 1980 yen`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			code, err := g.userCode(userCode)
			if err != nil {
				return err
			}
			ch, err := parseChannel(payType, true)
			if err != nil {
				return withExit(ExitUsage, err)
			}
			req := &wbpay.PayRequest{PayType: ch, Amount: amount.v, UserCode: code, ReceiptNo: receipt, Remark: remark, IdempotencyKey: key}
			return g.runRequest(cmd, req, func(ctx context.Context, eng *wbpay.Engine) (*wbpay.Result, error) {
				return eng.PaySync(ctx, req)
			})
		},
	}
	f := cmd.Flags()
	f.Var(&amount, "amount", "amount in yen (a fraction is truncated: 1000.9 pays 1000)")
	f.StringVar(&userCode, "user-code", "", `the customer's barcode/QR content ("-" reads it from stdin)`)
	f.StringVar(&payType, "pay-type", "auto", "channel: PAYPAY, LINE, RAKUTEN, DPAY, AUPAY, MERPAY, … or auto (detected from the user code)")
	f.StringVar(&receipt, "receipt-no", "", "receipt number (optional, at most 32 characters)")
	f.StringVar(&remark, "remark", "", "remark (optional, at most 128 characters)")
	f.StringVar(&key, "idempotency-key", "", idempotencyKeyHelp)
	addAgainFlag(cmd, g)
	_ = cmd.MarkFlagRequired("amount")
	_ = cmd.MarkFlagRequired("user-code")
	return cmd
}

// userCode returns the --user-code value, reading the first line of stdin
// for "-". An empty code is a usage error.
func (g *globals) userCode(v string) (string, error) {
	if v == "-" {
		line, err := g.reader().ReadString('\n')
		if err != nil && line == "" {
			return "", usageErrorf("--user-code -: no line on stdin")
		}
		v = strings.TrimRight(line, "\r\n")
	}
	if strings.TrimSpace(v) == "" {
		return "", usageErrorf("--user-code is empty")
	}
	return v, nil
}
