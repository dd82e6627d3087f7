package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: no input panics; every error wraps ErrInvalid and every
// accepted file validates and holds its required keys.
func FuzzParse(f *testing.F) {
	f.Add(Template())
	f.Add(strings.Join(baseLines, "\n"))
	f.Add(strings.Join(testModeLines, "\r\n"))
	f.Add("\uFEFF" + strings.Join(baseLines, "\r\n"))
	for _, s := range []string{
		"", "=", "==", "= =", "#", "\n\n\n", "\r", "\r\r\n", "\x00", "\xff\xfe\xfd",
		"\uFEFF", "\uFEFF\uFEFF", "MerchantId", "MerchantId=", "MerchantId = #", "MerchantId = 1 # 2",
		"HttpTimeout = 99999999999999999999999999", "HttpTimeout = -0", "LogLevel = ４",
		"TerminalUniquId = 1\nTerminalUniqueId = 2", "ServerURL = http://[::1]:99999",
		"ServerURL = https://%zz", "ServerURL = http://127.0.0.1\x7f", "ApiPathPay = /\u00e9",
		"AppTestMode = yes\nAppTestMode = yes", strings.Repeat("a=b\n", 1000), "k\u2028=v",
		"MerchantId = <EDIT", strings.Repeat("x", 5000) + " = " + strings.Repeat("y", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(strings.NewReader(in), "")
		if err != nil {
			if c != nil {
				t.Fatalf("error %v with a config", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty message")
			}
			return
		}
		if verr := c.Validate(); verr != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", verr)
		}
		if c.MerchantID == "" || c.TerminalUniqueID == "" || c.BranchCode == "" || c.TerminalCode == "" || c.PrivateKeyFile == "" {
			t.Fatalf("accepted without a required key: %+v", c)
		}
		if !c.AppTestMode && (c.ServerURL == "" || c.PublicKeyFile == "") {
			t.Fatalf("accepted a production file without ServerURL or PublicKeyFile: %+v", c)
		}
		for _, w := range c.Warnings {
			if w.Line < 0 || w.Message == "" {
				t.Fatalf("bad warning %+v", w)
			}
		}
	})
}
