package command

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
)

func init() { verbs = append(verbs, newReverseCommand) }

func newReverseCommand(g *globals) *cobra.Command {
	var orderID, key string
	cmd := &cobra.Command{
		Use:   "reverse --order-id ID",
		Short: "Cancel (取消) a pay or deposit by its order id",
		Long: `reverse cancels a whole pay or deposit by its order id and returns what was
taken. The gateway allows it for a limited time after the pay (else E3003:
use refund). A lost answer is confirmed and the reverse resent with the same
request id.

Exit code 0 when reversed, 3 when refused (the order is unchanged), 4 when a
person must act (escalated).`,
		Example: `  wbpay-engine reverse --order-id 20261125090000123456789012345678
  wbpay-engine reverse --order-id 20261125090000123456789012345678 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if orderID == "" {
				return usageErrorf("--order-id is empty")
			}
			req := &wbpay.ReverseRequest{OrderID: orderID, IdempotencyKey: key}
			return g.runRequest(cmd, req, func(ctx context.Context, eng *wbpay.Engine) (*wbpay.Result, error) {
				return eng.ReverseSync(ctx, req)
			})
		},
	}
	cmd.Flags().StringVar(&orderID, "order-id", "", "the order to cancel (orderId, from pay or history)")
	cmd.Flags().StringVar(&key, "idempotency-key", "", idempotencyKeyHelp)
	addAgainFlag(cmd, g)
	_ = cmd.MarkFlagRequired("order-id")
	return cmd
}
