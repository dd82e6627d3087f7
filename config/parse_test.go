package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValidFile(t *testing.T) {
	c, err := parseLines(baseLines)
	require.NoError(t, err)
	assert.Equal(t, baseConfig(), exported(c))
	assert.Empty(t, c.Warnings)
	assert.NoError(t, c.Validate())
}

func TestDefault(t *testing.T) {
	d := Default()
	assert.Equal(t, "/api/v3/pay", d.ApiPathPay)
	assert.Equal(t, "/api/v1/pay", d.ApiPathPayV1)
	assert.Equal(t, "/api/v3/refund", d.ApiPathRefund)
	assert.Equal(t, "/api/v3/reverse", d.ApiPathReverse)
	assert.Equal(t, "/api/v3/confirm", d.ApiPathConfirm)
	assert.Equal(t, "/api/v1/confirm", d.ApiPathConfirmV1)
	assert.Equal(t, "/api/v3/deposit", d.ApiPathDeposit)
	assert.Equal(t, 100*time.Second, d.HttpTimeout)
	assert.False(t, d.IgnoreCertificateError)
	assert.Equal(t, "JAPAN", d.Locale)
	assert.Equal(t, "p9", d.TimeZone)
	assert.Equal(t, "JPY", d.CurrencyCode)
	assert.Equal(t, "windows-WbCPSPay-1.0", d.AppVersion)
	assert.False(t, d.PayConfirmPollingMode)
	assert.Equal(t, 5*time.Second, d.PayConfirmPollingWait)
	assert.Equal(t, 3*time.Second, d.PayConfirmPollingInterval)
	assert.Equal(t, 60*time.Second, d.PayConfirmPollingTimeout)
	assert.Equal(t, 24*time.Hour, d.ReverseWindow, "the simulator's reverse window")
	assert.Equal(t, 1*time.Second, d.RequestConfirmInterval)
	assert.Equal(t, 1, d.RequestConfirmNum)
	assert.Equal(t, LevelError, d.LogLevel)
	assert.Equal(t, 0, d.LogExpire)
	assert.False(t, d.AppTestMode)
	assert.Equal(t, 1*time.Second, d.TestSequenceDelay)
	assert.Zero(t, d.TestClassPay+d.TestClassRefund+d.TestClassReverse+d.TestClassDeposit)
	for _, s := range []string{d.ServerURL, d.PrivateKeyFile, d.PublicKeyFile, d.MerchantID, d.TerminalUniqueID, d.BranchCode, d.TerminalCode} {
		assert.Empty(t, s, "required fields start empty")
	}
}

// TestParseSyntax covers the file format: comments, spaces, BOM, CRLF,
// blank lines, case and the TerminalUniqueId alias.
func TestParseSyntax(t *testing.T) {
	full := strings.Join(baseLines, "\n")
	tests := []struct {
		name     string
		text     string
		check    func(t *testing.T, c *Config)
		warnings int
	}{
		{name: "LF", text: full + "\n"},
		{name: "no final newline", text: full},
		{name: "CRLF", text: strings.Join(baseLines, "\r\n") + "\r\n"},
		{name: "UTF-8 BOM", text: "\uFEFF" + full},
		{name: "BOM and CRLF", text: "\uFEFF" + strings.Join(baseLines, "\r\n")},
		{name: "comments and blank lines", text: "# header\n\n   \n\t\n" + strings.ReplaceAll(full, "\n", "   # trailing comment\n\n# full-line comment\n") + "\n#end"},
		{name: "no spaces around =", text: strings.ReplaceAll(full, " = ", "=")},
		{name: "tabs and many spaces", text: strings.ReplaceAll(full, " = ", " \t  =\t  ")},
		{name: "comment after a tab", text: full + "\nLogLevel = 3\t#Sequence",
			check: func(t *testing.T, c *Config) { assert.Equal(t, LevelSequence, c.LogLevel) }},
		{name: "Japanese in a comment", text: "# 支払の設定 (マーチャントID)\n" + full},
		{name: "value keeps inner spaces and =", text: strings.Replace(full, "PrivateKeyFile = private.pem", "PrivateKeyFile = keys dir/a=b.pem", 1),
			check: func(t *testing.T, c *Config) { assert.Equal(t, "keys dir/a=b.pem", c.PrivateKeyFile) }},
		{name: "TerminalUniqueId alias", text: strings.Replace(full, "TerminalUniquId =", "TerminalUniqueId =", 1),
			check: func(t *testing.T, c *Config) { assert.Equal(t, "1234501234561", c.TerminalUniqueID) }},
		{name: "key case differs: accepted with a warning", text: strings.Replace(full, "MerchantId =", "MERCHANTID =", 1), warnings: 1,
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, "123456789012", c.MerchantID)
				assert.Equal(t, Warning{Line: 10, Key: "MERCHANTID", Message: "key accepted, but the spec spells it MerchantId"}, c.Warnings[0])
			}},
		{name: "trailing slash of ServerURL dropped", text: strings.Replace(full, "example.jp", "example.jp/gw/", 1),
			check: func(t *testing.T, c *Config) { assert.Equal(t, "https://paytree.example.jp/gw", c.ServerURL) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.text), "")
			require.NoError(t, err)
			assert.Len(t, c.Warnings, tt.warnings, "warnings: %v", c.Warnings)
			if tt.check != nil {
				tt.check(t, c)
				return
			}
			assert.Equal(t, baseConfig(), exported(c))
		})
	}
}

// TestParseValues checks that each optional key is read into its field.
func TestParseValues(t *testing.T) {
	tests := []struct {
		line string
		get  func(c *Config) any
		want any
	}{
		{"ApiPathDeposit = /gw/deposit", func(c *Config) any { return c.ApiPathDeposit }, "/gw/deposit"},
		{"HttpTimeout = 15", func(c *Config) any { return c.HttpTimeout }, 15 * time.Second},
		{"HttpTimeout = 86400", func(c *Config) any { return c.HttpTimeout }, 86400 * time.Second},
		{"IgnoreCertificateError = YES", func(c *Config) any { return c.IgnoreCertificateError }, true},
		{"IgnoreCertificateError = No", func(c *Config) any { return c.IgnoreCertificateError }, false},
		{"PayConfirmPollingMode = yes", func(c *Config) any { return c.PayConfirmPollingMode }, true},
		{"PayConfirmPollingWait = 0", func(c *Config) any { return c.PayConfirmPollingWait }, time.Duration(0)},
		{"PayConfirmPollingInterval = 7", func(c *Config) any { return c.PayConfirmPollingInterval }, 7 * time.Second},
		{"PayConfirmPollingTimeout = 120", func(c *Config) any { return c.PayConfirmPollingTimeout }, 120 * time.Second},
		{"RequestConfirmInterval = 0", func(c *Config) any { return c.RequestConfirmInterval }, time.Duration(0)},
		{"RequestConfirmNum = 2", func(c *Config) any { return c.RequestConfirmNum }, 2},
		{"ReverseWindow = 3600", func(c *Config) any { return c.ReverseWindow }, time.Hour},
		{"ReverseWindow = 0", func(c *Config) any { return c.ReverseWindow }, time.Duration(0)},
		{"ReverseWindow = 2678400", func(c *Config) any { return c.ReverseWindow }, 31 * 24 * time.Hour},
		{"LogLevel = 4", func(c *Config) any { return c.LogLevel }, LevelTransaction},
		{"LogLevel = sequence", func(c *Config) any { return c.LogLevel }, LevelSequence},
		{"LogLevel = Basic", func(c *Config) any { return c.LogLevel }, LevelBasic},
		{"LogExpire = 30", func(c *Config) any { return c.LogExpire }, 30},
		{"LogExpire = 007", func(c *Config) any { return c.LogExpire }, 7},
		{"TestSequenceDelay = 0", func(c *Config) any { return c.TestSequenceDelay }, time.Duration(0)},
		{"TestClassPay = 7", func(c *Config) any { return c.TestClassPay }, 7},
		{"TestClassRefund = 1", func(c *Config) any { return c.TestClassRefund }, 1},
		{"TestClassReverse = 0", func(c *Config) any { return c.TestClassReverse }, 0},
		{"TestClassDeposit = 0", func(c *Config) any { return c.TestClassDeposit }, 0},
		{"Locale = JAPAN", func(c *Config) any { return c.Locale }, "JAPAN"},
		{"TimeZone = p9", func(c *Config) any { return c.TimeZone }, "p9"},
		{"CurrencyCode = JPY", func(c *Config) any { return c.CurrencyCode }, "JPY"},
		{"ServerURL = http://127.0.0.1:8080", func(c *Config) any { return c.ServerURL }, "http://127.0.0.1:8080"},
		{"ServerURL = http://127.9.8.7", func(c *Config) any { return c.ServerURL }, "http://127.9.8.7"},
		{"ServerURL = http://[::1]:8443/sim", func(c *Config) any { return c.ServerURL }, "http://[::1]:8443/sim"},
		{"ServerURL = http://LocalHost:80", func(c *Config) any { return c.ServerURL }, "http://LocalHost:80"},
		{"ServerURL = https://10.0.0.5:8443/paytree", func(c *Config) any { return c.ServerURL }, "https://10.0.0.5:8443/paytree"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			key := strings.TrimSpace(strings.SplitN(tt.line, "=", 2)[0])
			lines := append([]string(nil), baseLines...)
			if lineOfOrZero(lines, key) > 0 {
				lines = edit(t, lines, key, tt.line)
			} else {
				lines = append(lines, tt.line)
			}
			c, err := parseLines(lines)
			require.NoError(t, err)
			assert.Equal(t, tt.want, tt.get(c))
		})
	}
}

func lineOfOrZero(lines []string, key string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, key+" =") {
			return i + 1
		}
	}
	return 0
}

// TestParseRefusals has one case per rule: each file has exactly one problem,
// reported once, on its line, naming its key.
func TestParseRefusals(t *testing.T) {
	n := len(baseLines) + 1 // line of an appended key
	tests := []struct {
		name string
		key  string // key to replace; "" appends line
		line string // the offending line ("" deletes key)
		want string // the whole message
	}{
		// The example of the issue, byte for byte.
		{"merchant id too short", "MerchantId", "MerchantId = 1234", `WbCPSPay.conf:10: MerchantId: must be exactly 12 digits, got "1234"`},
		{"merchant id with a letter", "MerchantId", "MerchantId = 12345678901A", `WbCPSPay.conf:10: MerchantId: must be exactly 12 digits, got "12345678901A"`},
		{"merchant id too long", "MerchantId", "MerchantId = 1234567890123", `WbCPSPay.conf:10: MerchantId: must be exactly 12 digits, got "1234567890123"`},
		{"merchant id full-width digits", "MerchantId", "MerchantId = １２３４５６７８９０１２", `WbCPSPay.conf:10: MerchantId: must be exactly 12 digits, got "１２３４５６７８９０１２"`},
		{"merchant id missing", "MerchantId", "", `WbCPSPay.conf: MerchantId: required key missing`},
		{"terminal unique id 12 chars", "TerminalUniquId", "TerminalUniquId = 123450123456",
			`WbCPSPay.conf:11: TerminalUniquId: must be exactly 13 letters or digits (company 5 + "0" + store 6 + terminal 1), got "123450123456"`},
		{"terminal unique id with a dash", "TerminalUniquId", "TerminalUniquId = 12345-0123456",
			`WbCPSPay.conf:11: TerminalUniquId: must be exactly 13 letters or digits (company 5 + "0" + store 6 + terminal 1), got "12345-0123456"`},
		{"terminal unique id 6th not 0", "TerminalUniquId", "TerminalUniquId = 1234511234561",
			`WbCPSPay.conf:11: TerminalUniquId: 6th character must be "0" (company 5 + "0" + store 6 + terminal 1), got "1234511234561"`},
		{"terminal unique id alias, bad", "TerminalUniquId", "TerminalUniqueId = ABCDE1",
			`WbCPSPay.conf:11: TerminalUniqueId: must be exactly 13 letters or digits (company 5 + "0" + store 6 + terminal 1), got "ABCDE1"`},
		{"terminal unique id missing", "TerminalUniquId", "", `WbCPSPay.conf: TerminalUniquId: required key missing`},
		{"both spellings of terminal unique id", "", "TerminalUniqueId = 1234501234561",
			fmt.Sprintf(`WbCPSPay.conf:%d: TerminalUniqueId: duplicate key: already set on line 11 as TerminalUniquId`, n)},
		{"duplicate key", "", "BranchCode = B002", fmt.Sprintf(`WbCPSPay.conf:%d: BranchCode: duplicate key: already set on line 12 as BranchCode`, n)},
		{"duplicate key in another case", "", "branchcode = B002", fmt.Sprintf(`WbCPSPay.conf:%d: branchcode: duplicate key: already set on line 12 as BranchCode`, n)},
		{"branch code 33 chars", "BranchCode", "BranchCode = " + strings.Repeat("B", 33), `WbCPSPay.conf:12: BranchCode: must be 1-32 letters or digits, got "` + strings.Repeat("B", 33) + `"`},
		{"branch code with a dash", "BranchCode", "BranchCode = B-01", `WbCPSPay.conf:12: BranchCode: must be 1-32 letters or digits, got "B-01"`},
		{"branch code missing", "BranchCode", "", `WbCPSPay.conf: BranchCode: required key missing`},
		{"terminal code with Japanese", "TerminalCode", "TerminalCode = 端末1", `WbCPSPay.conf:13: TerminalCode: must be 1-32 letters or digits, got "端末1"`},
		{"terminal code missing", "TerminalCode", "", `WbCPSPay.conf: TerminalCode: required key missing`},
		{"terminal code empty value", "TerminalCode", "TerminalCode =", `WbCPSPay.conf:13: TerminalCode: empty value (delete the line to use the default)`},
		{"locale lower case", "", "Locale = japan", fmt.Sprintf(`WbCPSPay.conf:%d: Locale: must be JAPAN (fixed by the spec), got "japan"`, n)},
		{"locale too long", "", "Locale = " + strings.Repeat("J", 31), fmt.Sprintf(`WbCPSPay.conf:%d: Locale: must be at most 30 characters and must be JAPAN (fixed by the spec), got "%s"`, n, strings.Repeat("J", 31))},
		{"time zone other", "", "TimeZone = p8", fmt.Sprintf(`WbCPSPay.conf:%d: TimeZone: must be p9 (fixed by the spec), got "p8"`, n)},
		{"time zone too long", "", "TimeZone = UTC+9", fmt.Sprintf(`WbCPSPay.conf:%d: TimeZone: must be at most 4 characters and must be p9 (fixed by the spec), got "UTC+9"`, n)},
		{"currency other", "", "CurrencyCode = USD", fmt.Sprintf(`WbCPSPay.conf:%d: CurrencyCode: must be JPY (fixed by the spec), got "USD"`, n)},
		{"currency too long", "", "CurrencyCode = JAPANESEYEN", fmt.Sprintf(`WbCPSPay.conf:%d: CurrencyCode: must be at most 10 characters and must be JPY (fixed by the spec), got "JAPANESEYEN"`, n)},
		{"app version with a space", "", "AppVersion = windows WbCPSPay", fmt.Sprintf(`WbCPSPay.conf:%d: AppVersion: must be 1-64 printable ASCII characters without spaces, got "windows WbCPSPay"`, n)},
		{"flag true", "", "IgnoreCertificateError = true", fmt.Sprintf(`WbCPSPay.conf:%d: IgnoreCertificateError: must be yes or no, got "true"`, n)},
		{"flag 1", "", "AppTestMode = 1", fmt.Sprintf(`WbCPSPay.conf:%d: AppTestMode: must be yes or no, got "1"`, n)},
		{"flag y", "", "PayConfirmPollingMode = y", fmt.Sprintf(`WbCPSPay.conf:%d: PayConfirmPollingMode: must be yes or no, got "y"`, n)},
		{"seconds not a number", "", "HttpTimeout = abc", fmt.Sprintf(`WbCPSPay.conf:%d: HttpTimeout: must be a non-negative whole number of seconds, got "abc"`, n)},
		{"seconds negative", "", "RequestConfirmInterval = -1", fmt.Sprintf(`WbCPSPay.conf:%d: RequestConfirmInterval: must be a non-negative whole number of seconds, got "-1"`, n)},
		{"seconds with a sign", "", "PayConfirmPollingWait = +5", fmt.Sprintf(`WbCPSPay.conf:%d: PayConfirmPollingWait: must be a non-negative whole number of seconds, got "+5"`, n)},
		{"seconds fraction", "", "TestSequenceDelay = 1.5", fmt.Sprintf(`WbCPSPay.conf:%d: TestSequenceDelay: must be a non-negative whole number of seconds, got "1.5"`, n)},
		{"seconds with a unit", "", "HttpTimeout = 30s", fmt.Sprintf(`WbCPSPay.conf:%d: HttpTimeout: must be a non-negative whole number of seconds, got "30s"`, n)},
		{"seconds overflow", "", "HttpTimeout = 99999999999999999999999", fmt.Sprintf(`WbCPSPay.conf:%d: HttpTimeout: must be at most 86400 of seconds, got "99999999999999999999999"`, n)},
		{"seconds above a day", "", "PayConfirmPollingTimeout = 86401", fmt.Sprintf(`WbCPSPay.conf:%d: PayConfirmPollingTimeout: must be at most 86400 of seconds, got "86401"`, n)},
		{"http timeout below 15", "", "HttpTimeout = 14", fmt.Sprintf(`WbCPSPay.conf:%d: HttpTimeout: must be at least 15 seconds (name resolution alone may take 15 s, so the request could always time out); shorter only with AppTestMode = yes, got 14`, n)},
		{"http timeout 0", "", "HttpTimeout = 0", fmt.Sprintf(`WbCPSPay.conf:%d: HttpTimeout: must be between 1 and 86400 seconds, got 0`, n)},
		{"polling interval 0", "", "PayConfirmPollingInterval = 0", fmt.Sprintf(`WbCPSPay.conf:%d: PayConfirmPollingInterval: must be between 1 and 86400 seconds, got 0`, n)},
		{"polling timeout 0", "", "PayConfirmPollingTimeout = 0", fmt.Sprintf(`WbCPSPay.conf:%d: PayConfirmPollingTimeout: must be between 1 and 86400 seconds, got 0`, n)},
		{"count not a number", "", "RequestConfirmNum = two", fmt.Sprintf(`WbCPSPay.conf:%d: RequestConfirmNum: must be a non-negative whole number, got "two"`, n)},
		{"reverse window above 31 days", "", "ReverseWindow = 2678401", fmt.Sprintf(`WbCPSPay.conf:%d: ReverseWindow: must be at most 2678400 of seconds, got "2678401"`, n)},
		{"reverse window not a number", "", "ReverseWindow = 24h", fmt.Sprintf(`WbCPSPay.conf:%d: ReverseWindow: must be a non-negative whole number of seconds, got "24h"`, n)},
		{"confirm num 0", "", "RequestConfirmNum = 0", fmt.Sprintf(`WbCPSPay.conf:%d: RequestConfirmNum: must be between 1 and 1000000, got 0`, n)},
		{"log expire negative", "", "LogExpire = -1", fmt.Sprintf(`WbCPSPay.conf:%d: LogExpire: must be a non-negative whole number, got "-1"`, n)},
		{"log expire too large", "", "LogExpire = 1000001", fmt.Sprintf(`WbCPSPay.conf:%d: LogExpire: must be at most 1000000, got "1000001"`, n)},
		{"log level 5", "", "LogLevel = 5", fmt.Sprintf(`WbCPSPay.conf:%d: LogLevel: must be 0-4 or Basic, Error, Warning, Sequence or Transaction, got "5"`, n)},
		{"log level unknown name", "", "LogLevel = Verbose", fmt.Sprintf(`WbCPSPay.conf:%d: LogLevel: must be 0-4 or Basic, Error, Warning, Sequence or Transaction, got "Verbose"`, n)},
		{"test class pay 8", "", "TestClassPay = 8", fmt.Sprintf(`WbCPSPay.conf:%d: TestClassPay: must be between 0 and 7, got 8`, n)},
		{"test class refund 2", "", "TestClassRefund = 2", fmt.Sprintf(`WbCPSPay.conf:%d: TestClassRefund: must be between 0 and 1, got 2`, n)},
		{"test class reverse 1", "", "TestClassReverse = 1", fmt.Sprintf(`WbCPSPay.conf:%d: TestClassReverse: must be 0, got 1`, n)},
		{"test class deposit 1", "", "TestClassDeposit = 1", fmt.Sprintf(`WbCPSPay.conf:%d: TestClassDeposit: must be 0, got 1`, n)},
		{"server url plain http", "ServerURL", "ServerURL = http://paytree.example.jp",
			`WbCPSPay.conf:1: ServerURL: must use https (plain http only for a loopback host such as 127.0.0.1), got "http://paytree.example.jp"`},
		{"server url http on a LAN address", "ServerURL", "ServerURL = http://192.168.1.10:8080",
			`WbCPSPay.conf:1: ServerURL: must use https (plain http only for a loopback host such as 127.0.0.1), got "http://192.168.1.10:8080"`},
		{"server url http on localhost look-alike", "ServerURL", "ServerURL = http://localhost.example.com",
			`WbCPSPay.conf:1: ServerURL: must use https (plain http only for a loopback host such as 127.0.0.1), got "http://localhost.example.com"`},
		{"server url without scheme", "ServerURL", "ServerURL = paytree.example.jp", `WbCPSPay.conf:1: ServerURL: must be an absolute https URL, got "paytree.example.jp"`},
		{"server url ftp", "ServerURL", "ServerURL = ftp://paytree.example.jp", `WbCPSPay.conf:1: ServerURL: must be an absolute https URL, got "ftp://paytree.example.jp"`},
		{"server url without host", "ServerURL", "ServerURL = https:///api", `WbCPSPay.conf:1: ServerURL: must be an absolute URL with a host, got "https:///api"`},
		{"server url opaque", "ServerURL", "ServerURL = https:paytree.example.jp", `WbCPSPay.conf:1: ServerURL: must be an absolute URL with a host, got "https:paytree.example.jp"`},
		{"server url with a query", "ServerURL", "ServerURL = https://paytree.example.jp/?a=1", `WbCPSPay.conf:1: ServerURL: must not carry a query or fragment, got "https://paytree.example.jp/?a=1"`},
		{"server url with user info", "ServerURL", "ServerURL = https://user:pw@paytree.example.jp", `WbCPSPay.conf:1: ServerURL: must not carry user information, got "https://user:pw@paytree.example.jp"`},
		{"server url unparseable", "ServerURL", "ServerURL = https://[::1", `WbCPSPay.conf:1: ServerURL: not a URL: "https://[::1"`},
		{"server url missing", "ServerURL", "", `WbCPSPay.conf: ServerURL: required key missing`},
		{"api path relative", "ApiPathPay", "ApiPathPay = api/v3/pay", `WbCPSPay.conf:2: ApiPathPay: must start with a single /, got "api/v3/pay"`},
		{"api path protocol-relative", "ApiPathRefund", "ApiPathRefund = //evil.example/x", `WbCPSPay.conf:4: ApiPathRefund: must start with a single /, got "//evil.example/x"`},
		{"api path with a space", "ApiPathReverse", "ApiPathReverse = /api/v3/re verse", `WbCPSPay.conf:5: ApiPathReverse: must be a URL path of printable ASCII without spaces or '?', got "/api/v3/re verse"`},
		{"api path with a query", "ApiPathConfirm", "ApiPathConfirm = /api/v3/confirm?x=1", `WbCPSPay.conf:6: ApiPathConfirm: must be a URL path of printable ASCII without spaces or '?', got "/api/v3/confirm?x=1"`},
		{"api path deposit relative", "", "ApiPathDeposit = deposit", fmt.Sprintf(`WbCPSPay.conf:%d: ApiPathDeposit: must start with a single /, got "deposit"`, n)},
		{"api path pay missing", "ApiPathPay", "", `WbCPSPay.conf: ApiPathPay: required key missing`},
		{"api path pay v1 missing", "ApiPathPayV1", "", `WbCPSPay.conf: ApiPathPayV1: required key missing`},
		{"api path confirm v1 missing", "ApiPathConfirmV1", "", `WbCPSPay.conf: ApiPathConfirmV1: required key missing`},
		{"private key missing", "PrivateKeyFile", "", `WbCPSPay.conf: PrivateKeyFile: required key missing`},
		{"public key missing", "PublicKeyFile", "", `WbCPSPay.conf: PublicKeyFile: required key missing`},
		{"line without =", "", "MerchantId 123456789012", fmt.Sprintf(`WbCPSPay.conf:%d: expected Key = Value, got "MerchantId 123456789012"`, n)},
		{"ini section", "", "[WbPay]", fmt.Sprintf(`WbCPSPay.conf:%d: expected Key = Value, got "[WbPay]"`, n)},
		{"no key", "", "= 5", fmt.Sprintf(`WbCPSPay.conf:%d: missing key before '=' in "= 5"`, n)},
		{"key with a space", "", "Http Timeout = 30", fmt.Sprintf(`WbCPSPay.conf:%d: malformed key "Http Timeout" (letters, digits and _ only)`, n)},
		{"invalid UTF-8", "", "Remark = \xff\xfe", fmt.Sprintf(`WbCPSPay.conf:%d: line is not valid UTF-8`, n)},
		{"control character in value", "BranchCode", "BranchCode = B0\x0001", `WbCPSPay.conf:12: BranchCode: value contains a control character: "B0\x0001"`},
		{"empty optional value", "", "HttpTimeout =", fmt.Sprintf(`WbCPSPay.conf:%d: HttpTimeout: empty value (delete the line to use the default)`, n)},
		{"template placeholder left", "MerchantId", "MerchantId = <EDIT: 12-digit merchant ID from CPS>",
			`WbCPSPay.conf:10: MerchantId: template placeholder "<EDIT: 12-digit merchant ID from CPS>" not replaced`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			if tt.key != "" {
				lines = edit(t, baseLines, tt.key, tt.line)
			} else {
				lines = append(append([]string(nil), baseLines...), tt.line)
			}
			c, err := parseLines(lines)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalid)
			ps := problems(t, err)
			require.Len(t, ps, 1, "exactly one problem, reported once: %v", err)
			assert.Equal(t, tt.want, err.Error())
			assert.Equal(t, tt.want, ps[0].Error())
		})
	}
}

// TestParseReportsEveryError: one pass finds all problems, ordered by line,
// missing keys last.
func TestParseReportsEveryError(t *testing.T) {
	lines := edit(t, baseLines, "MerchantId", "MerchantId = 1234", "HttpTimeout = soon", "oops", "LogLevel = 9")
	lines = edit(t, lines, "BranchCode", "")
	lines = edit(t, lines, "ServerURL", "ServerURL = http://paytree.example.jp")
	_, err := parseLines(lines)
	require.ErrorIs(t, err, ErrInvalid)
	ps := problems(t, err)
	var got []string
	for _, p := range ps {
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Key))
	}
	assert.Equal(t, []string{"1 ServerURL", "10 MerchantId", "13 HttpTimeout", "14 ", "15 LogLevel", "0 BranchCode"}, got)
	assert.Len(t, strings.Split(err.Error(), "\n"), 6, "one line per problem")
	var pe *Error
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "WbCPSPay.conf", pe.File)
}

func TestParseName(t *testing.T) {
	_, err := Parse(strings.NewReader("MerchantId = 1\n"), "/etc/wbpay/WbCPSPay.conf")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `/etc/wbpay/WbCPSPay.conf:1: MerchantId: must be exactly 12 digits, got "1"`)
	assert.Contains(t, err.Error(), "/etc/wbpay/WbCPSPay.conf: BranchCode: required key missing")
}

func TestParseEmptyInput(t *testing.T) {
	_, err := Parse(strings.NewReader(""), "")
	require.ErrorIs(t, err, ErrInvalid)
	var keys []string
	for _, p := range problems(t, err) {
		assert.Equal(t, "required key missing", p.Message)
		assert.Zero(t, p.Line)
		keys = append(keys, p.Key)
	}
	assert.ElementsMatch(t, []string{"ServerURL", "ApiPathPay", "ApiPathPayV1", "ApiPathRefund", "ApiPathReverse",
		"ApiPathConfirm", "ApiPathConfirmV1", "PrivateKeyFile", "PublicKeyFile", "MerchantId", "TerminalUniquId",
		"BranchCode", "TerminalCode"}, keys)
}

func TestParseReadError(t *testing.T) {
	_, err := Parse(iotest.ErrReader(errors.New("disk on fire")), "x.conf")
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "read x.conf: disk on fire")
}

func TestParseOversized(t *testing.T) {
	big := strings.Repeat("# padding padding padding padding\n", MaxFileBytes/34+2)
	_, err := Parse(strings.NewReader(big), "")
	require.ErrorIs(t, err, ErrInvalid)
	assert.Equal(t, fmt.Sprintf("WbCPSPay.conf: file is larger than %d bytes", MaxFileBytes), err.Error())
}

func TestTestMode(t *testing.T) {
	t.Run("minimal file", func(t *testing.T) {
		c, err := parseLines(testModeLines)
		require.NoError(t, err)
		assert.True(t, c.AppTestMode)
		assert.Empty(t, c.ServerURL)
		assert.Empty(t, c.PublicKeyFile)
		d := Default()
		assert.Equal(t, []string{d.ApiPathPay, d.ApiPathPayV1, d.ApiPathRefund, d.ApiPathReverse, d.ApiPathConfirm, d.ApiPathConfirmV1, d.ApiPathDeposit},
			[]string{c.ApiPathPay, c.ApiPathPayV1, c.ApiPathRefund, c.ApiPathReverse, c.ApiPathConfirm, c.ApiPathConfirmV1, c.ApiPathDeposit})
		assert.Empty(t, c.Warnings)
	})
	t.Run("short http timeout allowed", func(t *testing.T) {
		c, err := parseLines(append(append([]string(nil), testModeLines...), "HttpTimeout = 2"))
		require.NoError(t, err)
		assert.Equal(t, 2*time.Second, c.HttpTimeout)
	})
	t.Run("zero http timeout refused", func(t *testing.T) {
		_, err := parseLines(append(append([]string(nil), testModeLines...), "HttpTimeout = 0"))
		require.ErrorIs(t, err, ErrInvalid)
		assert.Equal(t, "WbCPSPay.conf:7: HttpTimeout: must be between 1 and 86400 seconds, got 0", err.Error())
	})
	t.Run("ignore certificate error not warned", func(t *testing.T) {
		c, err := parseLines(append(append([]string(nil), testModeLines...), "IgnoreCertificateError = yes"))
		require.NoError(t, err)
		assert.Empty(t, c.Warnings)
	})
	t.Run("given values still validated", func(t *testing.T) {
		_, err := parseLines(append(append([]string(nil), testModeLines...), "ServerURL = http://example.jp", "ApiPathPay = pay"))
		require.ErrorIs(t, err, ErrInvalid)
		assert.Len(t, problems(t, err), 2)
	})
	for _, key := range []string{"PrivateKeyFile", "MerchantId", "TerminalUniquId", "BranchCode", "TerminalCode"} {
		t.Run(key+" still required", func(t *testing.T) {
			_, err := parseLines(edit(t, testModeLines, key, ""))
			require.ErrorIs(t, err, ErrInvalid)
			assert.Equal(t, "WbCPSPay.conf: "+key+": required key missing", err.Error())
		})
	}
	t.Run("test mode no: same file refused", func(t *testing.T) {
		_, err := parseLines(edit(t, testModeLines, "AppTestMode", "AppTestMode = no"))
		require.ErrorIs(t, err, ErrInvalid)
		assert.Len(t, problems(t, err), 8, "ServerURL, six ApiPaths, PublicKeyFile")
	})
}

func TestWarnings(t *testing.T) {
	n := len(baseLines) + 1
	tests := []struct {
		name  string
		extra []string
		want  []Warning
	}{
		{"unknown key with a suggestion", []string{"HttpTimout = 30"},
			[]Warning{{n, "HttpTimout", "unknown key, ignored; did you mean HttpTimeout?"}}},
		{"unknown key without a suggestion", []string{"Colour = blue"},
			[]Warning{{n, "Colour", "unknown key, ignored"}}},
		{"non-standard app version", []string{"AppVersion = linux-wbpay-2.0"},
			[]Warning{{n, "AppVersion", `the spec fixes windows-WbCPSPay-1.0; "linux-wbpay-2.0" is sent as configured`}}},
		{"confirm num 3", []string{"RequestConfirmNum = 3"},
			[]Warning{{n, "RequestConfirmNum", "3 confirms: " + requestConfirmCaution}}},
		{"ignore certificate errors in production", []string{"IgnoreCertificateError = yes"},
			[]Warning{{n, "IgnoreCertificateError", "yes: an untrusted gateway certificate is accepted; answers are still verified by signature"}}},
		{"polling timeout before first poll", []string{"PayConfirmPollingMode = yes", "PayConfirmPollingWait = 10", "PayConfirmPollingTimeout = 10"},
			[]Warning{{n + 2, "PayConfirmPollingTimeout", "10 s is not longer than PayConfirmPollingWait (10 s): the pay times out before the first poll"}}},
		{"polling timings ignored when polling is off", []string{"PayConfirmPollingWait = 10", "PayConfirmPollingTimeout = 10"}, nil},
		{"confirm num 2 is quiet", []string{"RequestConfirmNum = 2"}, nil},
		{"'#' inside a value", []string{"ApiPathDeposit = /v2/deposit#x"},
			[]Warning{{n, "ApiPathDeposit", `the value is cut at '#', which starts a comment: read as "/v2/deposit" (a value cannot contain '#')`}}},
		{"a comment after a blank is quiet", []string{"ApiPathDeposit = /v2/deposit # the default"}, nil},
		{"a comment line is quiet", []string{"#ApiPathRefund=/v2/refund"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseLines(append(append([]string(nil), baseLines...), tt.extra...))
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Warnings)
		})
	}
	assert.Contains(t, requestConfirmCaution, "3以上を設定する場合は、必ずPAYTREE様")
	assert.Equal(t, "line 3: Foo: unknown key, ignored", Warning{3, "Foo", "unknown key, ignored"}.String())
	assert.Equal(t, "AppVersion: odd", Warning{0, "AppVersion", "odd"}.String())
}

func TestValidateHandBuilt(t *testing.T) {
	t.Run("defaults lack the required keys", func(t *testing.T) {
		err := Default().Validate()
		require.ErrorIs(t, err, ErrInvalid)
		var keys []string
		for _, p := range problems(t, err) {
			assert.Equal(t, "required key missing", p.Message)
			keys = append(keys, p.Key)
		}
		assert.Equal(t, []string{"ServerURL", "PrivateKeyFile", "PublicKeyFile", "MerchantId", "TerminalUniquId", "BranchCode", "TerminalCode"}, keys)
	})
	t.Run("filled in", func(t *testing.T) {
		c := baseConfig()
		assert.NoError(t, c.Validate())
	})
	t.Run("test mode", func(t *testing.T) {
		c := baseConfig()
		c.AppTestMode, c.ServerURL, c.PublicKeyFile, c.HttpTimeout = true, "", "", 3*time.Second
		assert.NoError(t, c.Validate())
	})
	tests := []struct {
		name string
		mut  func(c *Config)
		want string
	}{
		{"negative duration", func(c *Config) { c.RequestConfirmInterval = -time.Second }, "WbCPSPay.conf: RequestConfirmInterval: must be between 0 and 86400 seconds, got -1"},
		{"fractional http timeout below 15", func(c *Config) { c.HttpTimeout = 1500 * time.Millisecond }, "WbCPSPay.conf: HttpTimeout: must be at least 15 seconds (name resolution alone may take 15 s, so the request could always time out); shorter only with AppTestMode = yes, got 1.5s"},
		{"invalid level", func(c *Config) { c.LogLevel = 9 }, "WbCPSPay.conf: LogLevel: must be 0-4 or Basic, Error, Warning, Sequence or Transaction, got 9"},
		{"negative log expire", func(c *Config) { c.LogExpire = -1 }, "WbCPSPay.conf: LogExpire: must be between 0 and 1000000, got -1"},
		{"negative test class", func(c *Config) { c.TestClassPay = -1 }, "WbCPSPay.conf: TestClassPay: must be between 0 and 7, got -1"},
		{"empty api path", func(c *Config) { c.ApiPathConfirm = "" }, "WbCPSPay.conf: ApiPathConfirm: required key missing"},
		{"empty deposit path", func(c *Config) { c.ApiPathDeposit = "" }, `WbCPSPay.conf: ApiPathDeposit: must start with a single /, got ""`},
		{"empty app version", func(c *Config) { c.AppVersion = "" }, `WbCPSPay.conf: AppVersion: must be 1-64 printable ASCII characters without spaces, got ""`},
		{"empty locale", func(c *Config) { c.Locale = "" }, `WbCPSPay.conf: Locale: must be JAPAN (fixed by the spec), got ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig()
			tt.mut(&c)
			err := c.Validate()
			require.ErrorIs(t, err, ErrInvalid)
			assert.Equal(t, tt.want, err.Error())
		})
	}
	t.Run("nil config", func(t *testing.T) {
		var c *Config
		assert.ErrorIs(t, c.Validate(), ErrInvalid)
	})
	t.Run("parsed config keeps its lines", func(t *testing.T) {
		c, err := parseLines(baseLines)
		require.NoError(t, err)
		c.MerchantID = "x"
		assert.Equal(t, `WbCPSPay.conf:10: MerchantId: must be exactly 12 digits, got "x"`, c.Validate().Error())
	})
}

func TestLevel(t *testing.T) {
	tests := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"0", LevelBasic, true}, {"1", LevelError, true}, {"2", LevelWarning, true}, {"3", LevelSequence, true}, {"4", LevelTransaction, true},
		{"Basic", LevelBasic, true}, {"error", LevelError, true}, {"WARNING", LevelWarning, true}, {"Sequence", LevelSequence, true},
		{"sequence", LevelSequence, true}, {" Transaction ", LevelTransaction, true},
		{"5", 0, false}, {"-1", 0, false}, {"", 0, false}, {"Seq", 0, false}, {"03", 0, false}, {"Debug", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseLevel(tt.in)
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.Equal(t, tt.want, got)
			}
		})
	}
	for l := LevelBasic; l <= LevelTransaction; l++ {
		back, ok := ParseLevel(l.String())
		assert.True(t, ok)
		assert.Equal(t, l, back, "String and ParseLevel round-trip")
		assert.True(t, l.Valid())
	}
	assert.Equal(t, "Sequence", LevelSequence.String())
	assert.Equal(t, "Level(7)", Level(7).String())
	assert.False(t, Level(-1).Valid())
}

// TestParseCapsReports: a garbled file yields a bounded report, not one
// message per line.
func TestParseCapsReports(t *testing.T) {
	t.Run("errors", func(t *testing.T) {
		_, err := Parse(strings.NewReader(strings.Repeat("garbage\n", 250)+strings.Join(baseLines, "\n")), "")
		require.ErrorIs(t, err, ErrInvalid)
		ps := problems(t, err)
		require.Len(t, ps, maxReported+1)
		assert.Equal(t, 1, ps[0].Line)
		assert.Equal(t, "WbCPSPay.conf: 150 more problems not shown", ps[maxReported].Error())
	})
	t.Run("warnings", func(t *testing.T) {
		c, err := Parse(strings.NewReader(strings.Join(baseLines, "\n")+strings.Repeat("\nUnknownKey_x = 1", 130)), "")
		require.NoError(t, err)
		require.Len(t, c.Warnings, maxReported+1)
		assert.Equal(t, Warning{Message: "30 more warnings not shown"}, c.Warnings[maxReported])
	})
}
