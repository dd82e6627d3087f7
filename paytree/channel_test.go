package paytree

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contractChannels is contract section 6, copied by hand, in library spec
// order.
var contractChannels = []struct{ name, code string }{
	{"LinePay", "LINE"}, {"RegionalElectricMony", "REGIONAL"}, {"OrigamiPay", "ORIGAMI"},
	{"RakutenPay", "RAKUTEN"}, {"PayPay", "PAYPAY"}, {"dPayment", "DPAY"}, {"CpayAlipay", "CPAY_ALIPAY"},
	{"CpayWechat", "CPAY_WECHAT"}, {"MerPay", "MERPAY"}, {"AuPay", "AUPAY"}, {"JCBAliPay", "JCB_ALIPAY"},
	{"QUOCardPay", "QUO"}, {"YuchoPay", "YUCHO"}, {"KPlus", "KPLUS"}, {"ResonaWallet", "RESONA"},
	{"EPOSPay", "EPOS"}, {"JCoinPay", "JCOIN"}, {"pring", "PRING"}, {"atone", "ATONE"}, {"aftee", "AFTEE"},
	{"BankPay", "BANKPAY"}, {"OnepayAlipay", "ONEPAY_ALIPAY"}, {"OnepayWechat", "ONEPAY_WECHAT"},
	{"OnepayGNAlipay", "ONEPAY_GN_ALIPAY"}, {"OnepayGNAlipayHK", "ONEPAY_GN_ALIPAYHK"},
	{"OnepayGNkakaopay", "ONEPAY_GN_KAKAOPAY"}, {"SmartCode", "SMARTCODE"},
}

func TestChannelTable(t *testing.T) {
	all := Channels()
	require.Len(t, contractChannels, 27)
	require.Len(t, all, 28, "27 channels and AutoDetect")
	assert.Equal(t, AutoDetect, all[0])
	assert.Equal(t, Channel(0), AutoDetect, "the zero value is AutoDetect")
	assert.Equal(t, "AutoDetect", AutoDetect.String())
	assert.Equal(t, "", AutoDetect.Code())

	names, codes := map[string]bool{}, map[string]bool{}
	for i, want := range contractChannels {
		c := all[i+1]
		t.Run(want.name, func(t *testing.T) {
			assert.True(t, c.Valid())
			assert.Equal(t, want.name, c.String())
			assert.Equal(t, want.code, c.Code())
			assert.False(t, names[c.String()], "name unique")
			assert.False(t, codes[c.Code()], "code unique")
			names[c.String()], codes[c.Code()] = true, true

			got, ok := ChannelFromCode(want.code)
			assert.True(t, ok)
			assert.Equal(t, c, got)
			_, ok = ChannelFromCode(strings.ToLower(want.code))
			assert.False(t, ok, "ChannelFromCode is exact")

			for _, s := range []string{want.name, want.code, strings.ToLower(want.name), strings.ToUpper(want.name),
				strings.ToLower(want.code), " " + want.code + " "} {
				got, ok := ParseChannel(s)
				assert.True(t, ok, "ParseChannel(%q)", s)
				assert.Equal(t, c, got, "ParseChannel(%q)", s)
			}
		})
	}
}

func TestChannelEdges(t *testing.T) {
	for _, s := range []string{"auto", "AUTO", "AutoDetect", "autodetect"} {
		c, ok := ParseChannel(s)
		assert.True(t, ok, s)
		assert.Equal(t, AutoDetect, c, s)
	}
	for _, s := range []string{"", "VISA", "PAY PAY", "LINE_PAY"} {
		_, ok := ParseChannel(s)
		assert.False(t, ok, "ParseChannel(%q)", s)
	}
	_, ok := ChannelFromCode("")
	assert.False(t, ok, "AutoDetect has no wire code")
	_, ok = ChannelFromCode("BITCOIN")
	assert.False(t, ok)
	for _, c := range []Channel{-1, 28, 1000} {
		assert.False(t, c.Valid())
		assert.Equal(t, "", c.Code())
		assert.Contains(t, c.String(), "Channel(")
	}
}

func TestAutoDetectPrefixes(t *testing.T) {
	assert.Equal(t, map[string]Channel{
		"28": PayPay, "36": LinePay, "31": RakutenPay, "22": DPayment, "27": AuPay, "29": MerPay,
	}, AutoDetectPrefixes)
}

func TestJapaneseName(t *testing.T) {
	for _, tc := range []struct {
		c    Channel
		want string
	}{{PayPay, "PayPay"}, {LinePay, "LINE Pay"}, {RakutenPay, "楽天ペイ"}, {DPayment, "d払い"}, {AuPay, "au PAY"}, {MerPay, "メルペイ"},
		{RegionalElectricMony, "RegionalElectricMony"}, {AutoDetect, ""}, {Channel(99), ""}} {
		t.Run(tc.c.String(), func(t *testing.T) {
			assert.Equal(t, tc.want, tc.c.JapaneseName())
		})
	}
	for _, c := range Channels()[1:] {
		assert.NotEmpty(t, c.JapaneseName(), "channel %s has no receipt name", c)
	}
}
