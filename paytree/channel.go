package paytree

import (
	"strconv"
	"strings"
)

// Channel is a payment channel (決済プラットフォーム), the library spec's
// WbCPSPayType. Its zero value is AutoDetect.
type Channel int

// Channels in the order of library spec 3.2.
const (
	AutoDetect Channel = iota
	LinePay
	RegionalElectricMony
	OrigamiPay
	RakutenPay
	PayPay
	DPayment
	CpayAlipay
	CpayWechat
	MerPay
	AuPay
	JCBAliPay
	QUOCardPay
	YuchoPay
	KPlus
	ResonaWallet
	EPOSPay
	JCoinPay
	Pring
	Atone
	Aftee
	BankPay
	OnepayAlipay
	OnepayWechat
	OnepayGNAlipay
	OnepayGNAlipayHK
	OnepayGNkakaopay
	SmartCode
	channelCount
)

// channelTable holds each channel's library-spec name and wire code
// (contract section 6). AutoDetect has no wire code: it selects the V1 path.
var channelTable = [channelCount]struct{ name, code string }{
	AutoDetect:           {"AutoDetect", ""},
	LinePay:              {"LinePay", "LINE"},
	RegionalElectricMony: {"RegionalElectricMony", "REGIONAL"},
	OrigamiPay:           {"OrigamiPay", "ORIGAMI"},
	RakutenPay:           {"RakutenPay", "RAKUTEN"},
	PayPay:               {"PayPay", "PAYPAY"},
	DPayment:             {"dPayment", "DPAY"},
	CpayAlipay:           {"CpayAlipay", "CPAY_ALIPAY"},
	CpayWechat:           {"CpayWechat", "CPAY_WECHAT"},
	MerPay:               {"MerPay", "MERPAY"},
	AuPay:                {"AuPay", "AUPAY"},
	JCBAliPay:            {"JCBAliPay", "JCB_ALIPAY"},
	QUOCardPay:           {"QUOCardPay", "QUO"},
	YuchoPay:             {"YuchoPay", "YUCHO"},
	KPlus:                {"KPlus", "KPLUS"},
	ResonaWallet:         {"ResonaWallet", "RESONA"},
	EPOSPay:              {"EPOSPay", "EPOS"},
	JCoinPay:             {"JCoinPay", "JCOIN"},
	Pring:                {"pring", "PRING"},
	Atone:                {"atone", "ATONE"},
	Aftee:                {"aftee", "AFTEE"},
	BankPay:              {"BankPay", "BANKPAY"},
	OnepayAlipay:         {"OnepayAlipay", "ONEPAY_ALIPAY"},
	OnepayWechat:         {"OnepayWechat", "ONEPAY_WECHAT"},
	OnepayGNAlipay:       {"OnepayGNAlipay", "ONEPAY_GN_ALIPAY"},
	OnepayGNAlipayHK:     {"OnepayGNAlipayHK", "ONEPAY_GN_ALIPAYHK"},
	OnepayGNkakaopay:     {"OnepayGNkakaopay", "ONEPAY_GN_KAKAOPAY"},
	SmartCode:            {"SmartCode", "SMARTCODE"},
}

// Channels returns every channel, AutoDetect first, in library spec order.
func Channels() []Channel {
	out := make([]Channel, channelCount)
	for i := range out {
		out[i] = Channel(i)
	}
	return out
}

// Valid reports whether c is one of the defined channels.
func (c Channel) Valid() bool { return c >= 0 && c < channelCount }

// String returns the library spec's name of c (e.g. "PayPay").
func (c Channel) String() string {
	if !c.Valid() {
		return "Channel(" + strconv.Itoa(int(c)) + ")"
	}
	return channelTable[c].name
}

// Code returns the wire code of c (e.g. "PAYPAY"); "" for AutoDetect.
func (c Channel) Code() string {
	if !c.Valid() {
		return ""
	}
	return channelTable[c].code
}

// ChannelFromCode returns the channel whose wire code is code (exact match).
func ChannelFromCode(code string) (Channel, bool) {
	if code == "" {
		return AutoDetect, false
	}
	for i, e := range channelTable {
		if e.code == code {
			return Channel(i), true
		}
	}
	return AutoDetect, false
}

// ParseChannel accepts a library-spec name or a wire code, case-insensitively;
// "auto" and "AutoDetect" both mean AutoDetect.
func ParseChannel(s string) (Channel, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "auto") {
		return AutoDetect, true
	}
	for i, e := range channelTable {
		if strings.EqualFold(e.name, s) || (e.code != "" && strings.EqualFold(e.code, s)) {
			return Channel(i), true
		}
	}
	return AutoDetect, false
}

// AutoDetectPrefixes is the simulator's auto-detect rule (contract section 6):
// a userCode starting with the key is paid on the channel.
var AutoDetectPrefixes = map[string]Channel{
	"28": PayPay, "36": LinePay, "31": RakutenPay, "22": DPayment, "27": AuPay, "29": MerPay,
}

// japaneseNames are the brand names printed on Japanese receipts, for the
// channels a store commonly takes; the others print their spec name.
var japaneseNames = map[Channel]string{
	LinePay:          "LINE Pay",
	RakutenPay:       "楽天ペイ",
	PayPay:           "PayPay",
	DPayment:         "d払い",
	MerPay:           "メルペイ",
	AuPay:            "au PAY",
	CpayAlipay:       "Alipay",
	CpayWechat:       "WeChat Pay",
	JCBAliPay:        "Alipay+",
	QUOCardPay:       "QUOカードPay",
	YuchoPay:         "ゆうちょPay",
	KPlus:            "K PLUS",
	ResonaWallet:     "りそなウォレット",
	EPOSPay:          "エポスPay",
	JCoinPay:         "J-Coin Pay",
	Pring:            "pring",
	Atone:            "atone",
	Aftee:            "AFTEE",
	BankPay:          "Bank Pay",
	OrigamiPay:       "Origami Pay",
	OnepayAlipay:     "Alipay",
	OnepayWechat:     "WeChat Pay",
	OnepayGNAlipay:   "Alipay",
	OnepayGNAlipayHK: "AlipayHK",
	OnepayGNkakaopay: "カカオペイ",
	SmartCode:        "Smart Code",
}

// JapaneseName returns the brand name a Japanese receipt prints for c
// (PayPay, LINE Pay, 楽天ペイ, d払い, au PAY, メルペイ, …); the spec name for
// a channel without one, "" for AutoDetect.
func (c Channel) JapaneseName() string {
	if c == AutoDetect || !c.Valid() {
		return ""
	}
	if n, ok := japaneseNames[c]; ok {
		return n
	}
	return c.String()
}
