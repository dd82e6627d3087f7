package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// baseLines is a minimal valid production configuration, one key per line.
var baseLines = []string{
	"ServerURL = https://paytree.example.jp",
	"ApiPathPay = /api/v3/pay",
	"ApiPathPayV1 = /api/v1/pay",
	"ApiPathRefund = /api/v3/refund",
	"ApiPathReverse = /api/v3/reverse",
	"ApiPathConfirm = /api/v3/confirm",
	"ApiPathConfirmV1 = /api/v1/confirm",
	"PrivateKeyFile = private.pem",
	"PublicKeyFile = paytree-public.pem",
	"MerchantId = 123456789012",
	"TerminalUniquId = 1234501234561",
	"BranchCode = B001",
	"TerminalCode = T01",
}

// testModeLines is a minimal valid test-mode configuration.
var testModeLines = []string{
	"AppTestMode = yes",
	"PrivateKeyFile = private.pem",
	"MerchantId = 123456789012",
	"TerminalUniquId = 1234501234561",
	"BranchCode = B001",
	"TerminalCode = T01",
}

// edit returns lines with the line of key replaced by repl ("" deletes it);
// extra lines are appended. The key must exist.
func edit(t *testing.T, lines []string, key, repl string, extra ...string) []string {
	t.Helper()
	out := make([]string, 0, len(lines)+len(extra))
	found := false
	for _, l := range lines {
		if strings.HasPrefix(l, key+" =") {
			found = true
			if repl != "" {
				out = append(out, repl)
			}
			continue
		}
		out = append(out, l)
	}
	require.True(t, found, "key %s not in the base file", key)
	return append(out, extra...)
}

func parseLines(lines []string) (*Config, error) {
	return Parse(strings.NewReader(strings.Join(lines, "\n")+"\n"), "")
}

// problems lists the *Error values joined in err.
func problems(t *testing.T, err error) []*Error {
	t.Helper()
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var pe *Error
		if errors.As(e, &pe) {
			out = append(out, pe)
		}
	}
	walk(err)
	return out
}

// exported returns a copy of c without its unexported bookkeeping, for
// comparison with a hand-built Config.
func exported(c *Config) Config {
	cp := *c
	cp.src, cp.lines, cp.names = "", nil, nil
	return cp
}

// baseConfig is what baseLines parses to.
func baseConfig() Config {
	c := Default()
	c.ServerURL = "https://paytree.example.jp"
	c.PrivateKeyFile = "private.pem"
	c.PublicKeyFile = "paytree-public.pem"
	c.MerchantID = "123456789012"
	c.TerminalUniqueID = "1234501234561"
	c.BranchCode = "B001"
	c.TerminalCode = "T01"
	return *c
}
