package command

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
)

func init() { verbs = append(verbs, newDepositCommand) }

func newDepositCommand(g *globals) *cobra.Command {
	var (
		amount                          amountFlag
		userCode, payType, receipt, key string
	)
	cmd := &cobra.Command{
		Use:   "deposit --amount YEN --user-code CODE --pay-type LINE [--receipt-no R]",
		Short: "Charge (入金) cash onto a customer's wallet",
		Long: `deposit charges an amount onto the customer's wallet (only LINE Pay serves
deposits today) and follows it to the end like pay: a lost answer is
confirmed, and reversed when the outcome stays unknown.

--user-code is the wallet's card number (1-32 characters); "-" reads it from
stdin.

Exit code 0 when deposited, 3 when refused or undone (nothing charged), 4 when
a person must act (escalated).`,
		Example: `  wbpay-engine deposit --amount 5000 --user-code 3612345678901234 --pay-type LINE
  wbpay-engine deposit --amount 5000 --user-code - --pay-type LINE -o json < card.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			code, err := g.userCode(userCode)
			if err != nil {
				return err
			}
			ch, err := parseChannel(payType, false)
			if err != nil {
				return withExit(ExitUsage, err)
			}
			req := &wbpay.DepositRequest{PayType: ch, Amount: amount.v, UserCode: code, ReceiptNo: receipt, IdempotencyKey: key}
			return g.runRequest(cmd, req, func(ctx context.Context, eng *wbpay.Engine) (*wbpay.Result, error) {
				return eng.DepositSync(ctx, req)
			})
		},
	}
	f := cmd.Flags()
	f.Var(&amount, "amount", "amount to deposit in yen (a fraction is truncated)")
	f.StringVar(&userCode, "user-code", "", `the wallet's card number ("-" reads it from stdin)`)
	f.StringVar(&payType, "pay-type", "", "channel: LINE (the only one serving deposits)")
	f.StringVar(&receipt, "receipt-no", "", "receipt number (optional, at most 32 characters)")
	f.StringVar(&key, "idempotency-key", "", idempotencyKeyHelp)
	addAgainFlag(cmd, g)
	_ = cmd.MarkFlagRequired("amount")
	_ = cmd.MarkFlagRequired("user-code")
	_ = cmd.MarkFlagRequired("pay-type")
	return cmd
}
