package command

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
)

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown verb", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"history", "--frob"}, "unknown flag"},
		{"bad output", []string{"history", "-o", "yaml"}, `-o "yaml": want table or json`},
		{"extra argument", []string{"verify", "extra"}, "unknown command"},
		{"show without id", []string{"show"}, "accepts 1 arg"},
		{"config without sub-command", []string{"config"}, "config needs a sub-command"},
		{"negative http timeout", []string{"history", "--http-timeout", "-1s"}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBare(t, append(tc.args, "--home", t.TempDir())...)
			assert.Equal(t, ExitUsage, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
		})
	}
}

func TestRootHelpDocumentsExitCodes(t *testing.T) {
	r := runBare(t, "--help")
	assert.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, ExitCodesHelp)
	for _, v := range []string{"demo", "init", "pay", "refund", "reverse", "deposit", "confirm", "recover", "history", "show", "export", "verify", "config"} {
		assert.Contains(t, r.stdout, "\n  "+v+" ", "root help lists %s", v)
	}
}

// TestEveryVerbHasHelpWithExample walks the whole command tree.
func TestEveryVerbHasHelpWithExample(t *testing.T) {
	root := newRoot(&globals{stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: &syncBuffer{}})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			t.Run(sub.CommandPath(), func(t *testing.T) {
				assert.NotEmpty(t, sub.Short, "Short")
				assert.NotEmpty(t, sub.Example, "Example")
				args := append(strings.Fields(strings.TrimPrefix(sub.CommandPath(), "wbpay-engine ")), "--help")
				r := runBare(t, args...)
				assert.Equal(t, ExitOK, r.code)
				assert.Contains(t, r.stdout, "Examples:")
			})
			walk(sub)
		}
	}
	walk(root)
}

func TestDefaultHomeFollowsEnvironment(t *testing.T) {
	t.Setenv("WBPAY_HOME", "/srv/pos7")
	assert.Equal(t, "/srv/pos7", defaultHome())
	t.Setenv("WBPAY_HOME", "")
	assert.NotEmpty(t, defaultHome())
}
