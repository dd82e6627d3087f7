package command

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
)

func init() { verbs = append(verbs, newRefundCommand) }

func newRefundCommand(g *globals) *cobra.Command {
	var (
		amount                       amountFlag
		orderID, reason, remark, key string
	)
	cmd := &cobra.Command{
		Use:   "refund --order-id ID --amount YEN [--reason R] [--remark R]",
		Short: "Refund all or part of a paid order",
		Long: `refund returns all or part of a paid order to the customer and follows the
request to the end: when its answer is lost it is confirmed and resent with
the same request id — never sent again as a new refund — so the customer is
never refunded twice.

Exit code 0 when refunded, 3 when refused (nothing refunded, e.g. E3002: more
than the refundable amount), 4 when a person must act (escalated).`,
		Example: `  wbpay-engine refund --order-id 20261125090000123456789012345678 --amount 300
  wbpay-engine refund --order-id 20261125090000123456789012345678 --amount 700 --reason "returned goods" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if orderID == "" {
				return usageErrorf("--order-id is empty")
			}
			req := &wbpay.RefundRequest{OrderID: orderID, RefundAmount: amount.v, RefundReason: reason, Remark: remark, IdempotencyKey: key}
			return g.runRequest(cmd, req, func(ctx context.Context, eng *wbpay.Engine) (*wbpay.Result, error) {
				return eng.RefundSync(ctx, req)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&orderID, "order-id", "", "the paid order's id (orderId, from pay or history)")
	f.Var(&amount, "amount", "amount to refund in yen (a fraction is truncated)")
	f.StringVar(&reason, "reason", "", "refund reason (optional, at most 256 characters)")
	f.StringVar(&remark, "remark", "", "remark (optional, at most 256 characters)")
	f.StringVar(&key, "idempotency-key", "", idempotencyKeyHelp)
	addAgainFlag(cmd, g)
	_ = cmd.MarkFlagRequired("order-id")
	_ = cmd.MarkFlagRequired("amount")
	return cmd
}
