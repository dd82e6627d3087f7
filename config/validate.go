package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/wbpay/wbpay/paytree"
)

// requestConfirmCaution is the spec's caution on RequestConfirmNum (2.6).
const requestConfirmCaution = "通常1を設定します。決済プラットフォームにより回数制限がある場合がありますので、3以上を設定する場合は、必ずPAYTREE様、決済プラットフォーム様と相談の上設定してください。" +
	" (Normally 1; channels may limit confirms, so agree 3 or more with PAYTREE and the channels first.)"

// Validate checks every value of c and the rules between them: formats of
// the merchant and terminal codes, fixed values, ranges, the ServerURL
// scheme, and the keys required outside test mode. It returns nil or the
// joined problems, each an *Error wrapping ErrInvalid that names the key (and
// its line when c came from Parse). Parse runs it; Validate leaves
// c.Warnings alone.
func (c *Config) Validate() error {
	if c == nil {
		return &Error{File: FileName, Message: "no configuration"}
	}
	errs, _ := c.check(nil)
	if len(errs) == 0 {
		return nil
	}
	return joinSorted(errs)
}

// validator collects the findings of one check run.
type validator struct {
	c     *Config
	skip  map[string]bool
	errs  []*Error
	warns []Warning
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.c.source(), Line: v.c.lineOf(key), Key: v.c.nameOf(key), Message: fmt.Sprintf(format, args...)})
}

func (v *validator) warn(key, format string, args ...any) {
	v.warns = append(v.warns, Warning{Line: v.c.lineOf(key), Key: v.c.nameOf(key), Message: fmt.Sprintf(format, args...)})
}

// check runs every rule, skipping the keys in skip (already reported).
func (c *Config) check(skip map[string]bool) ([]*Error, []Warning) {
	v := &validator{c: c, skip: skip}
	live := !c.AppTestMode
	for _, r := range rules {
		if skip[r.key] {
			continue
		}
		if err := r.check(c, live, v); err != nil {
			v.fail(r.key, "%s", err.Error())
		}
	}
	return v.errs, v.warns
}

var errMissing = errors.New("required key missing")

type rule struct {
	key   string
	check func(c *Config, live bool, v *validator) error
}

// rules are run in the order of keyTable.
var rules = []rule{
	{"ServerURL", func(c *Config, live bool, _ *validator) error {
		if c.ServerURL == "" {
			if live {
				return errMissing
			}
			return nil
		}
		return checkServerURL(c.ServerURL)
	}},
	{"ApiPathPay", apiPath(func(c *Config) string { return c.ApiPathPay })},
	{"ApiPathPayV1", apiPath(func(c *Config) string { return c.ApiPathPayV1 })},
	{"ApiPathRefund", apiPath(func(c *Config) string { return c.ApiPathRefund })},
	{"ApiPathReverse", apiPath(func(c *Config) string { return c.ApiPathReverse })},
	{"ApiPathConfirm", apiPath(func(c *Config) string { return c.ApiPathConfirm })},
	{"ApiPathConfirmV1", apiPath(func(c *Config) string { return c.ApiPathConfirmV1 })},
	{"ApiPathDeposit", func(c *Config, _ bool, _ *validator) error { return checkPath(c.ApiPathDeposit) }},
	{"HttpTimeout", func(c *Config, live bool, _ *validator) error {
		if err := seconds(c.HttpTimeout, time.Second); err != nil {
			return err
		}
		if live && c.HttpTimeout < MinHttpTimeout {
			return fmt.Errorf("must be at least %d seconds (name resolution alone may take 15 s, so the request could always time out); shorter only with AppTestMode = yes, got %s",
				MinHttpTimeout/time.Second, formatSeconds(c.HttpTimeout))
		}
		return nil
	}},
	{"IgnoreCertificateError", func(c *Config, live bool, v *validator) error {
		if c.IgnoreCertificateError && live {
			v.warn("IgnoreCertificateError", "yes: an untrusted gateway certificate is accepted; answers are still verified by signature")
		}
		return nil
	}},
	{"PrivateKeyFile", func(c *Config, _ bool, _ *validator) error { return nonEmpty(c.PrivateKeyFile, true) }},
	{"PublicKeyFile", func(c *Config, live bool, _ *validator) error { return nonEmpty(c.PublicKeyFile, live) }},
	{"MerchantId", wireKey(paytree.FMerchantID, func(c *Config) string { return c.MerchantID }, true)},
	{"TerminalUniquId", wireKey(paytree.FTerminalUniqueID, func(c *Config) string { return c.TerminalUniqueID }, true)},
	{"BranchCode", wireKey(paytree.FBranchCode, func(c *Config) string { return c.BranchCode }, true)},
	{"TerminalCode", wireKey(paytree.FTerminalCode, func(c *Config) string { return c.TerminalCode }, true)},
	{"Locale", wireKey(paytree.FLocale, func(c *Config) string { return c.Locale }, false)},
	{"TimeZone", wireKey(paytree.FTimeZone, func(c *Config) string { return c.TimeZone }, false)},
	{"CurrencyCode", wireKey(paytree.FCurrencyCode, func(c *Config) string { return c.CurrencyCode }, false)},
	{"AppVersion", func(c *Config, live bool, v *validator) error {
		if err := wireKey(paytree.FAppVersion, func(c *Config) string { return c.AppVersion }, false)(c, live, v); err != nil {
			return err
		}
		if c.AppVersion != paytree.DefaultAppVersion {
			v.warn("AppVersion", "the spec fixes %s; %s is sent as configured", paytree.DefaultAppVersion, quote(c.AppVersion))
		}
		return nil
	}},
	{"PayConfirmPollingWait", func(c *Config, _ bool, _ *validator) error { return seconds(c.PayConfirmPollingWait, 0) }},
	{"PayConfirmPollingInterval", func(c *Config, _ bool, _ *validator) error {
		return seconds(c.PayConfirmPollingInterval, time.Second)
	}},
	{"PayConfirmPollingTimeout", func(c *Config, _ bool, v *validator) error {
		if err := seconds(c.PayConfirmPollingTimeout, time.Second); err != nil {
			return err
		}
		if c.PayConfirmPollingMode && c.PayConfirmPollingTimeout <= c.PayConfirmPollingWait {
			v.warn("PayConfirmPollingTimeout", "%s s is not longer than PayConfirmPollingWait (%s s): the pay times out before the first poll",
				formatSeconds(c.PayConfirmPollingTimeout), formatSeconds(c.PayConfirmPollingWait))
		}
		return nil
	}},
	{"RequestConfirmInterval", func(c *Config, _ bool, _ *validator) error { return seconds(c.RequestConfirmInterval, 0) }},
	{"RequestConfirmNum", func(c *Config, _ bool, v *validator) error {
		n := c.RequestConfirmNum
		if n < 1 || n > maxCount {
			return fmt.Errorf("must be between 1 and %d, got %d", maxCount, n)
		}
		if n >= 3 {
			v.warn("RequestConfirmNum", "%d confirms: %s", n, requestConfirmCaution)
		}
		return nil
	}},
	{"ReverseWindow", func(c *Config, _ bool, _ *validator) error {
		if c.ReverseWindow < 0 || c.ReverseWindow > maxWindow*time.Second || c.ReverseWindow%time.Second != 0 {
			return fmt.Errorf("must be between 0 and %d whole seconds, got %s", maxWindow, formatSeconds(c.ReverseWindow))
		}
		return nil
	}},
	{"LogLevel", func(c *Config, _ bool, _ *validator) error {
		if !c.LogLevel.Valid() {
			return fmt.Errorf("must be 0-4 or Basic, Error, Warning, Sequence or Transaction, got %d", int(c.LogLevel))
		}
		return nil
	}},
	{"LogExpire", func(c *Config, _ bool, _ *validator) error { return between(c.LogExpire, 0, maxCount) }},
	{"ShipURL", func(c *Config, _ bool, _ *validator) error { return checkShipURL(c.ShipURL) }},
	{"ShipCredentialsFile", func(c *Config, _ bool, _ *validator) error { return shipOnly(c, c.ShipCredentialsFile) }},
	{"ShipCAFile", func(c *Config, _ bool, _ *validator) error { return shipOnly(c, c.ShipCAFile) }},
	{"ShipCertFile", func(c *Config, _ bool, _ *validator) error {
		if err := shipOnly(c, c.ShipCertFile); err != nil {
			return err
		}
		if c.ShipCertFile == "" && c.ShipKeyFile != "" {
			return errors.New("required with ShipKeyFile (a client certificate and its key go together)")
		}
		return nil
	}},
	{"ShipKeyFile", func(c *Config, _ bool, _ *validator) error {
		if err := shipOnly(c, c.ShipKeyFile); err != nil {
			return err
		}
		if c.ShipKeyFile == "" && c.ShipCertFile != "" {
			return errors.New("required with ShipCertFile (a client certificate and its key go together)")
		}
		return nil
	}},
	{"ShipStream", func(c *Config, _ bool, _ *validator) error { return checkStreamName(c.ShipStream) }},
	{"TestSequenceDelay", func(c *Config, _ bool, _ *validator) error { return seconds(c.TestSequenceDelay, 0) }},
	{"TestClassPay", func(c *Config, _ bool, _ *validator) error { return between(c.TestClassPay, 0, 7) }},
	{"TestClassRefund", func(c *Config, _ bool, _ *validator) error { return between(c.TestClassRefund, 0, 1) }},
	{"TestClassReverse", func(c *Config, _ bool, _ *validator) error { return between(c.TestClassReverse, 0, 0) }},
	{"TestClassDeposit", func(c *Config, _ bool, _ *validator) error { return between(c.TestClassDeposit, 0, 0) }},
}

func apiPath(get func(*Config) string) func(*Config, bool, *validator) error {
	return func(c *Config, live bool, _ *validator) error {
		p := get(c)
		if p == "" && live {
			return errMissing
		}
		return checkPath(p)
	}
}

// wireKey checks the value of a key that is sent on the wire as field, by
// paytree's rule of that field (contract section 3). An empty value of a
// key without a default is a missing key.
func wireKey(field string, get func(*Config) string, noDefault bool) func(*Config, bool, *validator) error {
	rule, ok := paytree.CommonRule(field)
	if !ok {
		panic("config: no wire rule for " + field)
	}
	return func(c *Config, _ bool, _ *validator) error {
		s := get(c)
		fe := rule.Check(s)
		switch {
		case fe == nil:
			return nil
		case fe.Reason == paytree.Missing && noDefault:
			return errMissing
		case fe.Reason == paytree.Missing:
			return fmt.Errorf("must be %s, got %s", rule.Describe(), quote(s))
		}
		return fmt.Errorf("%s, got %s", fe.Problem, quote(s))
	}
}

// checkPath accepts an absolute URL path of printable ASCII without a query.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return fmt.Errorf("must start with a single /, got %s", quote(p))
	}
	if strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r > '~' || r == '?' }) >= 0 {
		return fmt.Errorf("must be a URL path of printable ASCII without spaces or '?', got %s", quote(p))
	}
	return nil
}

// checkServerURL accepts an absolute https URL, or http on a loopback host.
func checkServerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %s", quote(s))
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("must be an absolute https URL, got %s", quote(s))
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("must be an absolute URL with a host, got %s", quote(s))
	case u.User != nil:
		return fmt.Errorf("must not carry user information, got %s", quote(s))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("must not carry a query or fragment, got %s", quote(s))
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("must use https (plain http only for a loopback host such as 127.0.0.1), got %s", quote(s))
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func nonEmpty(s string, needed bool) error {
	if s == "" && needed {
		return errMissing
	}
	return nil
}

func seconds(d, min time.Duration) error {
	if d < min || d > maxSeconds*time.Second {
		return fmt.Errorf("must be between %s and %d seconds, got %s", formatSeconds(min), maxSeconds, formatSeconds(d))
	}
	return nil
}

func between(n, lo, hi int) error {
	if n < lo || n > hi {
		if lo == hi {
			return fmt.Errorf("must be %d, got %d", lo, n)
		}
		return fmt.Errorf("must be between %d and %d, got %d", lo, hi, n)
	}
	return nil
}

// checkShipURL accepts "" (shipping off) or comma-separated nats:// or
// tls:// URLs with a host and nothing after the port.
func checkShipURL(s string) error {
	if s == "" {
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		u, err := url.Parse(part)
		switch {
		case part == "":
			return fmt.Errorf("empty server in the list, got %s", quote(s))
		case err != nil:
			return fmt.Errorf("not a URL: %s", quote(part))
		case u.Scheme != "nats" && u.Scheme != "tls":
			return fmt.Errorf("must be nats://host:port or tls://host:port, got %s", quote(part))
		case u.Opaque != "" || u.Hostname() == "":
			return fmt.Errorf("must name a host, got %s", quote(part))
		case u.User != nil:
			return fmt.Errorf("must not carry user information (use ShipCredentialsFile), got %s", quote(part))
		case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
			return fmt.Errorf("must not carry a path, query or fragment, got %s", quote(part))
		}
	}
	return nil
}

// shipOnly refuses a shipping option while ShipURL is empty: it would be
// silently ignored.
func shipOnly(c *Config, v string) error {
	if v != "" && c.ShipURL == "" {
		return errors.New("set but ShipURL is empty (shipping is off)")
	}
	return nil
}

// checkStreamName accepts a JetStream stream name: 1-64 letters, digits,
// '-' or '_'.
func checkStreamName(s string) error {
	if s == "" || len(s) > 64 || strings.IndexFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_'
	}) >= 0 {
		return fmt.Errorf("must be 1-64 letters, digits, '-' or '_', got %s", quote(s))
	}
	return nil
}
