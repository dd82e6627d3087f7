package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// need says when a key must be present in the file.
type need int

const (
	optional     need = iota
	required          // always
	requiredLive      // unless AppTestMode = yes (the simulator stands in)
)

// keyDef describes one key of library spec 2.6: how it is parsed, where it
// is stored and how Template documents it.
type keyDef struct {
	name        string
	aliases     []string // other accepted spellings
	ja          string   // the spec's Japanese term
	help        string   // English, one or more sentences
	need        need
	placeholder string            // Template value of a key the user must edit
	field       func(*Config) any // pointer to the field: *string, *bool, *int, *time.Duration, *Level
	section     string            // Template section heading, set on a section's first key
	maxSec      int               // a duration's largest value in seconds; 0 = maxSeconds (a day)
}

// Limits on numeric values, so that no value overflows a time.Duration.
const (
	maxSeconds = 86400   // one day
	maxWindow  = 2678400 // 31 days: ReverseWindow
	maxCount   = 1000000 // counts and days
)

// keyTable lists every key in the spec's order.
var keyTable = []keyDef{
	{section: "Gateway connection (PAYTREE接続URL, required unless AppTestMode = yes)",
		name: "ServerURL", ja: "PAYTREEサーバURL", need: requiredLive,
		help:        "Base URL of the gateway, given by CPS. https only; plain http is accepted for a loopback host (127.0.0.1, ::1, localhost), i.e. a local simulator.",
		placeholder: "<EDIT: https URL of the PAYTREE gateway from CPS>",
		field:       func(c *Config) any { return &c.ServerURL }},

	{section: "API paths (各APIのPath, required unless AppTestMode = yes; each starts with /)",
		name: "ApiPathPay", ja: "支払API", need: requiredLive,
		help:        "Path of pay with an explicit channel. The simulator uses " + DefaultApiPathPay + ".",
		placeholder: "<EDIT: pay path, e.g. " + DefaultApiPathPay + ">",
		field:       func(c *Config) any { return &c.ApiPathPay }},
	{name: "ApiPathPayV1", ja: "支払(自動判別)API", need: requiredLive,
		help:        "Path of pay with the channel detected from the user code. The simulator uses " + DefaultApiPathPayV1 + ".",
		placeholder: "<EDIT: auto-detect pay path, e.g. " + DefaultApiPathPayV1 + ">",
		field:       func(c *Config) any { return &c.ApiPathPayV1 }},
	{name: "ApiPathRefund", ja: "返金API", need: requiredLive,
		help:        "Path of refund. The simulator uses " + DefaultApiPathRefund + ".",
		placeholder: "<EDIT: refund path, e.g. " + DefaultApiPathRefund + ">",
		field:       func(c *Config) any { return &c.ApiPathRefund }},
	{name: "ApiPathReverse", ja: "取消API", need: requiredLive,
		help:        "Path of reverse (cancel). The simulator uses " + DefaultApiPathReverse + ".",
		placeholder: "<EDIT: reverse path, e.g. " + DefaultApiPathReverse + ">",
		field:       func(c *Config) any { return &c.ApiPathReverse }},
	{name: "ApiPathConfirm", ja: "確認API", need: requiredLive,
		help:        "Path of confirm. The simulator uses " + DefaultApiPathConfirm + ".",
		placeholder: "<EDIT: confirm path, e.g. " + DefaultApiPathConfirm + ">",
		field:       func(c *Config) any { return &c.ApiPathConfirm }},
	{name: "ApiPathConfirmV1", ja: "確認(自動判別)API", need: requiredLive,
		help:        "Path of confirm of an auto-detected pay. The simulator uses " + DefaultApiPathConfirmV1 + ".",
		placeholder: "<EDIT: auto-detect confirm path, e.g. " + DefaultApiPathConfirmV1 + ">",
		field:       func(c *Config) any { return &c.ApiPathConfirmV1 }},
	{name: "ApiPathDeposit", ja: "入金API", need: optional,
		help:  "Path of deposit (charge). Optional: this project's addition to the spec.",
		field: func(c *Config) any { return &c.ApiPathDeposit }},

	{section: "HTTP (Http設定, optional)",
		name: "HttpTimeout", ja: "HTTPリクエストのタイムアウト時間",
		help:  "Seconds to wait for an answer, name resolution included. DNS alone may take 15 s, so values below 15 are refused (allowed only in test mode).",
		field: func(c *Config) any { return &c.HttpTimeout }},
	{name: "IgnoreCertificateError", ja: "SSL証明書エラーを無視する",
		help:  "yes accepts a gateway TLS certificate that is not trusted (answers are still verified by signature). Leave no in production.",
		field: func(c *Config) any { return &c.IgnoreCertificateError }},

	{section: "Signature keys (デジタル署名用の鍵ファイル; relative paths are relative to the application home)",
		name: "PrivateKeyFile", ja: "秘密鍵ファイル", need: required,
		help:        "PEM file of this terminal's RSA private key (2048 bits or more) that signs each request. Its public half is registered with CPS.",
		placeholder: "<EDIT: private key PEM file, e.g. private.pem>",
		field:       func(c *Config) any { return &c.PrivateKeyFile }},
	{name: "PublicKeyFile", ja: "公開鍵ファイル", need: requiredLive,
		help:        "PEM file of the gateway's RSA public key that verifies each answer, obtained from CPS.",
		placeholder: "<EDIT: gateway public key PEM file from CPS, e.g. paytree-public.pem>",
		field:       func(c *Config) any { return &c.PublicKeyFile }},

	{section: "Request parameters (リクエストパラメータ, required)",
		name: "MerchantId", ja: "マーチャントID", need: required,
		help:        "Exactly 12 digits, issued by CPS for each merchant.",
		placeholder: "<EDIT: 12-digit merchant ID from CPS>",
		field:       func(c *Config) any { return &c.MerchantID }},
	{name: "TerminalUniquId", aliases: []string{"TerminalUniqueId"}, ja: "端末識別番号", need: required,
		help:        "Exactly 13 letters or digits: company code (5) + \"0\" + store code (6) + terminal number (1). The spec spells the key TerminalUniquId; TerminalUniqueId is accepted too (not both).",
		placeholder: "<EDIT: 13 characters, company 5 + 0 + store 6 + terminal 1>",
		field:       func(c *Config) any { return &c.TerminalUniqueID }},
	{name: "BranchCode", ja: "店舗番号", need: required,
		help:        "1 to 32 letters or digits, registered with PAYTREE.",
		placeholder: "<EDIT: store code registered with PAYTREE>",
		field:       func(c *Config) any { return &c.BranchCode }},
	{name: "TerminalCode", ja: "端末番号", need: required,
		help:        "1 to 32 letters or digits.",
		placeholder: "<EDIT: terminal code>",
		field:       func(c *Config) any { return &c.TerminalCode }},
	{name: "Locale", ja: "国際化コード",
		help:  "Fixed JAPAN; do not change.",
		field: func(c *Config) any { return &c.Locale }},
	{name: "TimeZone", ja: "タイムゾーン",
		help:  "Fixed p9; do not change.",
		field: func(c *Config) any { return &c.TimeZone }},
	{name: "CurrencyCode", ja: "正札通貨",
		help:  "Fixed JPY; do not change.",
		field: func(c *Config) any { return &c.CurrencyCode }},
	{name: "AppVersion", ja: "サービス接続元のバージョン情報",
		help:  "Fixed windows-WbCPSPay-1.0; do not change (another value is sent but warned about).",
		field: func(c *Config) any { return &c.AppVersion }},

	{section: "Waiting for the customer's approval (支払顧客承認待ち動作設定, optional)",
		name: "PayConfirmPollingMode", ja: "顧客承認待ちポーリングモード",
		help:  "yes: while a pay waits for the customer's passcode, the engine polls the gateway itself; no: the application calls PayConfirm. Agree intervals with the gateway and the channels first.",
		field: func(c *Config) any { return &c.PayConfirmPollingMode }},
	{name: "PayConfirmPollingWait", ja: "顧客承認待ち確認待ち時間",
		help:  "Seconds before the first poll.",
		field: func(c *Config) any { return &c.PayConfirmPollingWait }},
	{name: "PayConfirmPollingInterval", ja: "顧客承認待ちポーリング時間間隔",
		help:  "Seconds between polls (at least 1).",
		field: func(c *Config) any { return &c.PayConfirmPollingInterval }},
	{name: "PayConfirmPollingTimeout", ja: "顧客承認待ちタイムアウト時間",
		help:  "Seconds after the WAITING answer when the engine gives up, reverses the pay and reports E2005 (at least 1).",
		field: func(c *Config) any { return &c.PayConfirmPollingTimeout }},

	{section: "Confirm after a communication error (通信エラー時の確認リクエスト繰り返し設定, optional)",
		name: "RequestConfirmInterval", ja: "確認リクエストの送信間隔",
		help:  "Seconds to wait before each confirm when an outcome is unknown.",
		field: func(c *Config) any { return &c.RequestConfirmInterval }},
	{name: "RequestConfirmNum", ja: "確認リクエストの送信回数",
		help:  "Confirms sent when an outcome is unknown (at least 1). Normally 1; channels may limit it, so agree 3 or more with PAYTREE and the channels first.",
		field: func(c *Config) any { return &c.RequestConfirmNum }},

	{section: "Reverse deadline (取消期限, optional)",
		name: "ReverseWindow", ja: "取消可能期間",
		help:   "Seconds after a pay or deposit during which the gateway accepts its reverse (取消); later only a refund (返金) undoes it. The engine states the deadline on each paid pay and deposit and refuses a later reverse before sending it. Default 86400 (24 h, the simulator's window); 0 turns the local check off (the gateway still decides). At most 2678400 (31 days).",
		maxSec: maxWindow,
		field:  func(c *Config) any { return &c.ReverseWindow }},

	{section: "Logging (ログ出力設定, optional)",
		name: "LogLevel", ja: "ログレベル",
		help:  "By value or name: 0 Basic, 1 Error, 2 Warning, 3 Sequence (recommended), 4 Transaction.",
		field: func(c *Config) any { return &c.LogLevel }},
	{name: "LogExpire", ja: "ログの有効期間",
		help:  "Days to keep daily log files; 0 keeps them all.",
		field: func(c *Config) any { return &c.LogExpire }},

	{section: "Local API daemon (wbpay-engine serve, optional; this project's addition)",
		name: "ServeListen", ja: "ローカルAPIの待ち受けアドレス",
		help:  "host:port where `wbpay-engine serve` listens (default " + DefaultServeListen + "). Only loopback addresses (127.0.0.0/8, ::1, localhost) are accepted; --listen overrides it.",
		field: func(c *Config) any { return &c.ServeListen }},

	{section: "Test mode (テストモード, optional)",
		name: "AppTestMode", ja: "テストモード",
		help:  "yes: requests go to the built-in simulator, never to a gateway; ServerURL, the ApiPath keys and PublicKeyFile are then optional.",
		field: func(c *Config) any { return &c.AppTestMode }},
	{name: "TestSequenceDelay", ja: "遅延時間",
		help:  "Seconds the simulator waits before answering; 0 for none.",
		field: func(c *Config) any { return &c.TestSequenceDelay }},
	{name: "TestClassPay", ja: "支払テストクラス",
		help:  "0 PAID, 1 WAITING then approved, 2 answer lost, 3 E2001, 4 E2002, 5 E2003, 6 WAITING then cancelled, 7 WAITING, never approved.",
		field: func(c *Config) any { return &c.TestClassPay }},
	{name: "TestClassRefund", ja: "返金テストクラス",
		help:  "0 success, 1 answer lost.",
		field: func(c *Config) any { return &c.TestClassRefund }},
	{name: "TestClassReverse", ja: "取消テストクラス",
		help:  "0 success (the only class).",
		field: func(c *Config) any { return &c.TestClassReverse }},
	{name: "TestClassDeposit", ja: "入金テストクラス",
		help:  "0 success (the only class).",
		field: func(c *Config) any { return &c.TestClassDeposit }},
}

// keyIndex maps every accepted spelling, lower-cased, to its keyDef.
var keyIndex = func() map[string]*keyDef {
	m := map[string]*keyDef{}
	for i := range keyTable {
		d := &keyTable[i]
		m[strings.ToLower(d.name)] = d
		for _, a := range d.aliases {
			m[strings.ToLower(a)] = d
		}
	}
	return m
}()

// lookupKey finds the definition of key, case-insensitively.
func lookupKey(key string) *keyDef { return keyIndex[strings.ToLower(key)] }

// spelledAs reports whether key is one of d's spellings, case included.
func (d *keyDef) spelledAs(key string) bool {
	if key == d.name {
		return true
	}
	for _, a := range d.aliases {
		if key == a {
			return true
		}
	}
	return false
}

// set parses v into d's field of c.
func (d *keyDef) set(c *Config, v string) error {
	switch p := d.field(c).(type) {
	case *string:
		*p = v
	case *bool:
		switch {
		case strings.EqualFold(v, "yes"):
			*p = true
		case strings.EqualFold(v, "no"):
			*p = false
		default:
			return fmt.Errorf("must be yes or no, got %s", quote(v))
		}
	case *time.Duration:
		limit := maxSeconds
		if d.maxSec > 0 {
			limit = d.maxSec
		}
		n, err := parseCount(v, limit, "seconds")
		if err != nil {
			return err
		}
		*p = time.Duration(n) * time.Second
	case *int:
		n, err := parseCount(v, maxCount, "")
		if err != nil {
			return err
		}
		*p = n
	case *Level:
		l, ok := ParseLevel(v)
		if !ok {
			return fmt.Errorf("must be 0-4 or Basic, Error, Warning, Sequence or Transaction, got %s", quote(v))
		}
		*p = l
	default:
		return fmt.Errorf("internal error: field of type %T", p)
	}
	return nil
}

// format writes d's field of c as the file would.
func (d *keyDef) format(c *Config) string {
	switch p := d.field(c).(type) {
	case *string:
		return *p
	case *bool:
		if *p {
			return "yes"
		}
		return "no"
	case *time.Duration:
		return formatSeconds(*p)
	case *int:
		return strconv.Itoa(*p)
	case *Level:
		return p.String()
	}
	return ""
}

// parseCount reads a non-negative decimal integer of at most max.
func parseCount(v string, max int, unit string) (int, error) {
	if v == "" {
		return 0, fmt.Errorf("must be a non-negative whole number, got %s", quote(v))
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("must be a non-negative whole number%s, got %s", unitSuffix(unit), quote(v))
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > max {
		return 0, fmt.Errorf("must be at most %d%s, got %s", max, unitSuffix(unit), quote(v))
	}
	return n, nil
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	return " of " + unit
}

// formatSeconds writes d as whole seconds when it is, else as a duration.
func formatSeconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return d.String()
}

// quote quotes v for a message, cut to a readable length.
func quote(v string) string {
	const max = 64
	if r := []rune(v); len(r) > max {
		v = string(r[:max]) + "…"
	}
	return strconv.Quote(v)
}
