package wbpay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
)

// Example pays 1000 yen with PayPay in test mode, where the engine talks to
// its in-process simulator through the same signing, journal and sequence
// code as in production.
func Example() {
	home, err := os.MkdirTemp("", "wbpay-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	pair, err := keys.NewPair()
	if err != nil {
		panic(err)
	}
	if err := layout.WriteKeyPair(filepath.Join(home, layout.ClientKeyFile), filepath.Join(home, layout.ClientPubFile), pair.PrivatePEM, pair.PublicPEM); err != nil {
		panic(err)
	}
	conf := config.Conf{Header: "test mode: no gateway, no network", Values: map[string]string{
		"AppTestMode":       "yes",
		"TestSequenceDelay": "0",
		"PrivateKeyFile":    layout.ClientKeyFile,
		"MerchantId":        "123456789012",
		"TerminalUniquId":   "1234501234561",
		"BranchCode":        "B001",
		"TerminalCode":      "T01",
	}}
	if err := config.Write(home, conf, true); err != nil {
		panic(err)
	}

	ctx := context.Background()
	eng, err := wbpay.Open(ctx, wbpay.WithHome(home))
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	eng.OnComplete(func(c wbpay.Completion) { fmt.Println("CompleteEvent:", c.Request, c.TransStatus, c.Amount) })
	eng.OnError(func(f wbpay.Failure) { fmt.Println("ErrorEvent:", f.Err.Code, f.Err.Action) })

	res, err := eng.PaySync(ctx, &wbpay.PayRequest{PayType: wbpay.PayPay, Amount: 1000, UserCode: "281234567890123456"})
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	eng.Close() // delivers pending events first
	fmt.Println("final state:", res.State, "amount:", res.Amount, "channel:", res.PayType)
	// Output:
	// CompleteEvent: pay PAID 1000
	// final state: paid amount: 1000 channel: PayPay
}
