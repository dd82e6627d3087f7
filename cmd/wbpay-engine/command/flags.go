package command

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/paytree"
)

// maxAmount is the largest amount of the wire contract.
const maxAmount = paytree.MaxAmount

// amountFlag is an amount in yen: digits, optionally with a fraction that is
// truncated (library spec: 小数点以下は切り捨て). Anything else — a sign,
// separators, an exponent, zero — is refused when the flag is parsed, which
// makes it a usage error.
type amountFlag struct {
	v   int64
	set bool
}

func (a *amountFlag) String() string {
	if !a.set {
		return ""
	}
	return strconv.FormatInt(a.v, 10)
}

func (a *amountFlag) Type() string { return "yen" }

func (a *amountFlag) Set(s string) error {
	v, err := parseAmount(s)
	if err != nil {
		return err
	}
	a.v, a.set = v, true
	return nil
}

// parseAmount reads "1000" or "1000.9" (→ 1000).
func parseAmount(s string) (int64, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasFrac && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%q is not an amount in yen (digits, optionally with a fraction that is truncated, e.g. 1000 or 1000.5)", s)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > paytree.MaxAmountDigits {
		return 0, fmt.Errorf("%q is more than %d digits (at most %d yen)", s, paytree.MaxAmountDigits, int64(maxAmount))
	}
	if whole == "" {
		return 0, fmt.Errorf("%q is less than 1 yen once the fraction is truncated", s)
	}
	v, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || v < 1 || v > maxAmount {
		return 0, fmt.Errorf("%q is not an amount from 1 to %d yen", s, int64(maxAmount))
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseChannel reads a --pay-type value (wire code or spec name, or auto).
func parseChannel(s string, autoOK bool) (paytree.Channel, error) {
	c, ok := paytree.ParseChannel(s)
	switch {
	case !ok:
		return 0, fmt.Errorf("--pay-type %q is not a channel (e.g. PAYPAY, LINE, RAKUTEN, DPAY, AUPAY, MERPAY%s)", s, map[bool]string{true: ", or auto", false: ""}[autoOK])
	case c == paytree.JCBAliPay:
		return 0, fmt.Errorf("--pay-type %s cannot be requested (it only appears in answers)", s)
	case c == paytree.AutoDetect && !autoOK:
		return 0, fmt.Errorf("--pay-type auto is not allowed here: name the channel, e.g. LINE")
	}
	return c, nil
}

// timeFlag is a point in time given as RFC 3339 or as a date YYYY-MM-DD in
// JST. A date means the start of that day for --since and its end (the next
// midnight, exclusive) for --until.
type timeFlag struct {
	t     time.Time
	until bool
	raw   string
}

func (f *timeFlag) String() string { return f.raw }
func (f *timeFlag) Type() string   { return "time" }

func (f *timeFlag) Set(s string) error {
	t, err := parseTime(s, f.until)
	if err != nil {
		return err
	}
	f.t, f.raw = t, s
	return nil
}

// parseTime reads RFC 3339 or a JST date; endOfDay moves a date to the next
// midnight.
func parseTime(s string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, paytree.JST)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-25T09:00:00+09:00) nor a date (2026-11-25, JST)", s)
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// parseState reads a --state value.
func parseState(s string) (wbpay.State, error) {
	for _, st := range wbpay.AllStates() {
		if strings.EqualFold(string(st), s) && st != wbpay.StateNew {
			return st, nil
		}
	}
	var names []string
	for _, st := range wbpay.AllStates() {
		if st != wbpay.StateNew {
			names = append(names, string(st))
		}
	}
	return "", fmt.Errorf("--state %q is not a state (want one of %s)", s, strings.Join(names, ", "))
}

// parseOp reads an --op value.
func parseOp(s string) (paytree.Operation, error) {
	op, ok := paytree.ParseOperation(strings.ToLower(s))
	if !ok || op == paytree.OpConfirm {
		return 0, fmt.Errorf("--op %q is not pay, refund, reverse or deposit", s)
	}
	return op, nil
}

// idempotencyKeyHelp is the help text of every request verb's
// --idempotency-key flag.
const idempotencyKeyHelp = "key that makes a retry safe (1-64 of A-Z a-z 0-9 _ -, e.g. the receipt number): the same key with the same request prints the transaction it started and sends nothing again; with another request it is refused (L0010)"

// addAgainFlag registers a request verb's --again.
func addAgainFlag(cmd *cobra.Command, g *globals) {
	cmd.Flags().BoolVar(&g.again, "again", false, "send the request even when the recovery that runs first has just finished the same one (by default that one's result is printed and nothing is sent)")
}
