package slip

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/paytree"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 5, 0, paytree.JST)

// receipts are the slips pinned by the golden files: a paid pay still
// reversible, a partial refund on a brand with a Japanese name, and an
// escalated deposit.
func receipts() map[string]*wbpay.Receipt {
	store := func(r *wbpay.Receipt) *wbpay.Receipt {
		r.MerchantID, r.BranchCode, r.TerminalCode, r.TerminalUniqueID = "123456789012", "B001", "T01", "1234501234561"
		return r
	}
	return map[string]*wbpay.Receipt{
		"pay": store(&wbpay.Receipt{TransactionID: "0195f3a2b4c07d3e9a1b2c3d4e5f6071", Operation: "pay", OperationJa: "支払", State: fsm.StatePaid,
			Settled: true, Channel: "PayPay", ChannelJa: "PayPay", PayType: "PAYPAY", Amount: 1234567, OrderID: "20261201100005123456789012345678",
			TransTime: t0, ReceiptNo: "R-0001", UserCodeMasked: "28************1234", ReversibleUntil: t0.Add(24 * time.Hour)}),
		"refund": store(&wbpay.Receipt{TransactionID: "0195f3a2b4c07d3e9a1b2c3d4e5f6072", Operation: "refund", OperationJa: "返金", State: fsm.StateRefunded,
			Settled: true, Channel: "RakutenPay", ChannelJa: "楽天ペイ", PayType: "RAKUTEN", Amount: 300, OrderID: "ORD-42",
			TransTime: t0.Add(time.Hour), RefundedTotal: 500}),
		"deposit": store(&wbpay.Receipt{TransactionID: "0195f3a2b4c07d3e9a1b2c3d4e5f6073", Operation: "deposit", OperationJa: "入金", State: fsm.StateEscalated,
			Channel: "LinePay", ChannelJa: "LINE Pay", PayType: "LINE", Amount: 10000, TransTime: t0.Add(2 * time.Hour), UserCodeMasked: "3600********0001"}),
	}
}

func TestSlipGolden(t *testing.T) {
	for name, r := range receipts() {
		for _, c := range []wbpay.Copy{wbpay.CustomerCopy, wbpay.MerchantCopy} {
			for _, reprint := range []bool{false, true} {
				for _, width := range []int{Width32, Width42} {
					file := fmt.Sprintf("%s-%s-%d.txt", name, c, width)
					p := &wbpay.Printed{Receipt: r, Copy: c, Count: 1, At: t0.Add(3 * time.Hour), First: t0.Add(3 * time.Hour)}
					if reprint {
						file = fmt.Sprintf("%s-%s-reprint-%d.txt", name, c, width)
						p.Count, p.Reprint, p.At = 3, true, t0.Add(4*time.Hour)
					}
					if name != "pay" && reprint {
						continue // one reprint set suffices
					}
					t.Run(file, func(t *testing.T) {
						got, err := Render(p, width)
						require.NoError(t, err)
						for i, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
							assert.Equal(t, width, Columns(line), "line %d %q is %d columns", i+1, line, Columns(line))
						}
						assert.Equal(t, reprint, strings.Contains(got, "再発行"), "the reprint mark")
						path := filepath.Join("testdata", file)
						if os.Getenv("WBPAY_UPDATE_GOLDEN") == "1" {
							require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
						}
						want, err := os.ReadFile(path)
						require.NoError(t, err, "refresh with WBPAY_UPDATE_GOLDEN=1 go test ./slip/")
						assert.Equal(t, string(want), got)
					})
				}
			}
		}
	}
}

func TestRenderRejects(t *testing.T) {
	p := &wbpay.Printed{Receipt: receipts()["pay"], Copy: wbpay.CustomerCopy, Count: 1, At: t0}
	for _, w := range []int{0, 31, 40, 80} {
		_, err := Render(p, w)
		assert.ErrorIs(t, err, ErrWidth, "width %d", w)
	}
	_, err := Render(nil, Width32)
	assert.ErrorIs(t, err, ErrNoReceipt)
	_, err = Render(&wbpay.Printed{}, Width32)
	assert.ErrorIs(t, err, ErrNoReceipt)
}

func TestColumns(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{{"", 0}, {"abc", 3}, {"支払", 4}, {"PayPay", 6}, {"楽天ペイ", 8}, {"d払い", 5}, {"【お客様控え】", 14}, {"ｶﾀｶﾅ", 4}, {"¥1,000", 6}, {"Ａ", 2}} {
		assert.Equal(t, tc.want, Columns(tc.s), "%q", tc.s)
	}
	// A long value is broken without splitting a wide character.
	for _, part := range split(strings.Repeat("支", 17), 32) {
		assert.LessOrEqual(t, Columns(part), 32)
	}
}

// FuzzRender: any receipt text renders to lines of exactly the width.
func FuzzRender(f *testing.F) {
	f.Add("ORD-1", "28****1234", "楽天ペイ", int64(100))
	f.Add(strings.Repeat("注", 40), "", "", int64(-5))
	f.Fuzz(func(t *testing.T, order, masked, brand string, amount int64) {
		r := &wbpay.Receipt{Operation: "pay", OperationJa: "支払", OrderID: order, UserCodeMasked: masked, ChannelJa: brand, Channel: brand, Amount: amount}
		for _, w := range []int{Width32, Width42} {
			got, err := Render(&wbpay.Printed{Receipt: r, Copy: wbpay.MerchantCopy, Count: 2, Reprint: true}, w)
			require.NoError(t, err)
			for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				require.Equal(t, w, Columns(line), "line %q", line)
			}
		}
	})
}
