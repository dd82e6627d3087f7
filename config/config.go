package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
)

// FileName is the configuration file's name in the application home.
const FileName = layout.ConfFile

// Default values of library spec 2.6 and of the wire contract (paths).
const (
	DefaultServerURL                 = ""
	DefaultApiPathPay                = "/api/v3/pay"
	DefaultApiPathPayV1              = "/api/v1/pay"
	DefaultApiPathRefund             = "/api/v3/refund"
	DefaultApiPathReverse            = "/api/v3/reverse"
	DefaultApiPathConfirm            = "/api/v3/confirm"
	DefaultApiPathConfirmV1          = "/api/v1/confirm"
	DefaultApiPathDeposit            = "/api/v3/deposit"
	DefaultServeListen               = "127.0.0.1:8791"
	DefaultHttpTimeout               = 100 * time.Second
	DefaultPayConfirmPollingWait     = 5 * time.Second
	DefaultPayConfirmPollingInterval = 3 * time.Second
	DefaultPayConfirmPollingTimeout  = 60 * time.Second
	DefaultRequestConfirmInterval    = 1 * time.Second
	DefaultRequestConfirmNum         = 1
	DefaultLogLevel                  = LevelError
	DefaultTestSequenceDelay         = 1 * time.Second
	DefaultShipStream                = "WBPAY_JOURNAL"
	DefaultReverseWindow             = 24 * time.Hour

	// MinHttpTimeout is the shortest HttpTimeout outside test mode: the spec
	// warns that DNS alone may take 15 s, so a shorter timeout may always fire.
	MinHttpTimeout = 15 * time.Second
)

// Config is the content of WbCPSPay.conf (library spec 2.6). Durations are
// written in the file as whole seconds. Parse fills every absent optional key
// with its default; Validate checks the values.
type Config struct {
	// ServerURL is the gateway's base URL (PAYTREE接続URL); the request URL is
	// ServerURL + ApiPath…. Parse drops one trailing "/".
	ServerURL string

	ApiPathPay       string // 支払API
	ApiPathPayV1     string // 支払(自動判別)API
	ApiPathRefund    string // 返金API
	ApiPathReverse   string // 取消API
	ApiPathConfirm   string // 確認API
	ApiPathConfirmV1 string // 確認(自動判別)API
	ApiPathDeposit   string // 入金API (this edition's addition)

	HttpTimeout            time.Duration // whole request, name resolution included
	IgnoreCertificateError bool          // accept an untrusted TLS certificate

	// PrivateKeyFile and PublicKeyFile are as written in the file; see
	// ResolvePath.
	PrivateKeyFile, PublicKeyFile string

	MerchantID       string // マーチャントID, 12 digits
	TerminalUniqueID string // 端末識別番号, 13 alphanumerics, 6th is '0'
	BranchCode       string // 店舗番号, 1–32 alphanumerics
	TerminalCode     string // 端末番号, 1–32 alphanumerics

	Locale, TimeZone, CurrencyCode, AppVersion string

	PayConfirmPollingMode     bool
	PayConfirmPollingWait     time.Duration
	PayConfirmPollingInterval time.Duration
	PayConfirmPollingTimeout  time.Duration

	RequestConfirmInterval time.Duration
	RequestConfirmNum      int

	// ReverseWindow (取消可能期間) is how long after a pay or deposit the
	// gateway accepts its reverse; 0 = no local deadline.
	ReverseWindow time.Duration

	LogLevel  Level
	LogExpire int // days; 0 keeps every log file

	// ShipURL is the HQ's NATS server list (comma-separated nats:// or
	// tls:// URLs); "" turns shipping off. The files are as written in the
	// file (see ResolvePath).
	ShipURL                   string
	ShipCredentialsFile       string
	ShipCAFile                string
	ShipCertFile, ShipKeyFile string
	ShipStream                string // JetStream stream name, DefaultShipStream

	ServeListen string // host:port of `wbpay-engine serve` (loopback only)

	AppTestMode       bool
	TestSequenceDelay time.Duration
	TestClassPay      int
	TestClassRefund   int
	TestClassReverse  int
	TestClassDeposit  int

	// Warnings lists what Parse accepted but found suspicious: unknown keys,
	// a non-standard AppVersion, RequestConfirmNum of 3 or more, …
	Warnings []Warning

	src   string         // file name for messages
	lines map[string]int // canonical key → line where it was set
	names map[string]string
}

// Warning is a problem that does not stop the engine; Line is 0 when the
// warning concerns no single line.
type Warning struct {
	Line    int
	Key     string
	Message string
}

// String formats w as "line N: Key: message".
func (w Warning) String() string {
	s := ""
	if w.Line > 0 {
		s = fmt.Sprintf("line %d: ", w.Line)
	}
	if w.Key != "" {
		s += w.Key + ": "
	}
	return s + w.Message
}

// Default returns a Config with every default filled in and the required
// fields (ServerURL, keys, merchant and terminal codes) empty.
func Default() *Config {
	return &Config{
		ApiPathPay:                DefaultApiPathPay,
		ApiPathPayV1:              DefaultApiPathPayV1,
		ApiPathRefund:             DefaultApiPathRefund,
		ApiPathReverse:            DefaultApiPathReverse,
		ApiPathConfirm:            DefaultApiPathConfirm,
		ApiPathConfirmV1:          DefaultApiPathConfirmV1,
		ApiPathDeposit:            DefaultApiPathDeposit,
		HttpTimeout:               DefaultHttpTimeout,
		Locale:                    paytree.FixedLocale,
		TimeZone:                  paytree.FixedTimeZone,
		CurrencyCode:              paytree.FixedCurrencyCode,
		AppVersion:                paytree.DefaultAppVersion,
		PayConfirmPollingWait:     DefaultPayConfirmPollingWait,
		PayConfirmPollingInterval: DefaultPayConfirmPollingInterval,
		PayConfirmPollingTimeout:  DefaultPayConfirmPollingTimeout,
		RequestConfirmInterval:    DefaultRequestConfirmInterval,
		RequestConfirmNum:         DefaultRequestConfirmNum,
		LogLevel:                  DefaultLogLevel,
		TestSequenceDelay:         DefaultTestSequenceDelay,
		ShipStream:                DefaultShipStream,
		ReverseWindow:             DefaultReverseWindow,
		ServeListen:               DefaultServeListen,
	}
}

// Load reads and parses the file at path (usually home/FileName). A missing
// or unreadable file is an error wrapping ErrInvalid that names the path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	defer f.Close()
	return Parse(f, path)
}

// ResolvePath returns file as an absolute or home-relative path: an absolute
// file is returned as is, a relative one is taken relative to home (the
// application home, where the spec says key files live). "" stays "".
func (c *Config) ResolvePath(home, file string) string {
	if file == "" || filepath.IsAbs(file) || home == "" {
		return file
	}
	return filepath.Join(home, file)
}

// Paths returns the API path of each operation. The V1 paths of an
// auto-detected pay and its confirm are ApiPathPayV1 and ApiPathConfirmV1.
func (c *Config) Paths() map[paytree.Operation]string {
	return map[paytree.Operation]string{
		paytree.OpPay:     c.ApiPathPay,
		paytree.OpRefund:  c.ApiPathRefund,
		paytree.OpReverse: c.ApiPathReverse,
		paytree.OpConfirm: c.ApiPathConfirm,
		paytree.OpDeposit: c.ApiPathDeposit,
	}
}

// lineOf returns the line where key was set, 0 when it was not.
func (c *Config) lineOf(key string) int { return c.lines[key] }

// nameOf returns key as the file spelled it, or its canonical spelling.
func (c *Config) nameOf(key string) string {
	if n, ok := c.names[key]; ok {
		return n
	}
	return key
}

func (c *Config) source() string {
	if c.src == "" {
		return FileName
	}
	return c.src
}
