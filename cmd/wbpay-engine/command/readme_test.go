package command

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/paytree"
)

// readmePath is the repository's README, from this package's directory.
var readmePath = filepath.Join("..", "..", "..", "README.md")

// TestREADMEGeneratedSections keeps the README's generated sections — the
// error code table, the configuration reference, the exit codes and the CLI
// reference — equal to what the code says. WBPAY_UPDATE_README=1 rewrites
// them in place.
func TestREADMEGeneratedSections(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	readme := string(data)
	updated := readme
	for _, s := range []struct{ name, body string }{
		{"errors", errorTable()},
		{"config", configReference()},
		{"exit-codes", "```\n" + ExitCodesHelp + "\n```\n"},
		{"cli", cliReference()},
	} {
		var err error
		updated, err = replaceSection(updated, s.name, "\n"+s.body+"\n")
		require.NoError(t, err)
	}
	if os.Getenv("WBPAY_UPDATE_README") == "1" {
		if updated != readme {
			require.NoError(t, os.WriteFile(readmePath, []byte(updated), 0o644))
			t.Log("README.md rewritten")
		}
		return
	}
	if updated != readme {
		t.Errorf("README.md's generated sections are stale; refresh them with: WBPAY_UPDATE_README=1 go test ./cmd/wbpay-engine/command/ -run TestREADME\n%s", firstDiff(readme, updated))
	}
}

// TestREADMESetUpCommands pins the two set-up commands: .ci/run reads the
// first indented `go test` line as the test command.
func TestREADMESetUpCommands(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	var indented []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "    ") && strings.TrimSpace(l) != "" {
			indented = append(indented, l)
		}
	}
	require.GreaterOrEqual(t, len(indented), 2)
	assert.Equal(t, []string{"    go run ./cmd/wbpay-engine demo", "    go test -race ./..."}, indented[:2])
}

func TestREADMELinksExist(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	links := regexp.MustCompile(`\]\(((?:docs|cmd|[a-z]+)/[^)#\s]*)\)`).FindAllStringSubmatch(string(data), -1)
	require.NotEmpty(t, links)
	for _, m := range links {
		_, err := os.Stat(filepath.Join("..", "..", "..", filepath.FromSlash(m[1])))
		assert.NoError(t, err, "README links to %s", m[1])
	}
}

// replaceSection replaces what lies between <!-- name:begin --> and
// <!-- name:end --> with body.
func replaceSection(doc, name, body string) (string, error) {
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return doc, fmt.Errorf("README.md has no %q ... %q markers", strings.TrimSpace(begin), end)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  README:    %s\n  generated: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: README %d lines, generated %d lines", len(al), len(bl))
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// errorTable is the catalog of paytree.Errors as a Markdown table.
func errorTable() string {
	var b strings.Builder
	b.WriteString("| Code | Type | Action (whom to call) | Meaning | 意味 |\n|---|---|---|---|---|\n")
	for _, e := range paytree.Errors() {
		fmt.Fprintf(&b, "| %s | %d %s | %s | %s | %s |\n", e.Code, int(e.Type), e.Type, cell(e.ActionText), cell(e.Message), cell(e.MessageJA))
	}
	return b.String()
}

// configRow is one key of config.Template.
type configRow struct {
	section, key, ja, need, help, def string
}

var (
	sectionLine = regexp.MustCompile(`^# ---- (.*) ----$`)
	headerLine  = regexp.MustCompile(`^# ([A-Za-z][A-Za-z0-9]*) — (.*?)(?: \((required[^)]*)\))?$`)
	defaultLine = regexp.MustCompile(`^# Default(?: when deleted in test mode)?: (.*)$`)
)

// configRows reads the keys of a configuration template: the section, the
// key's Japanese term, whether it is required, its help and its default.
func configRows(tmpl string) []configRow {
	var rows []configRow
	section := ""
	var cur *configRow
	for _, l := range strings.Split(tmpl, "\n") {
		switch {
		case sectionLine.MatchString(l):
			section = sectionLine.FindStringSubmatch(l)[1]
		case headerLine.MatchString(l):
			m := headerLine.FindStringSubmatch(l)
			rows = append(rows, configRow{section: section, key: m[1], ja: m[2], need: m[3]})
			cur = &rows[len(rows)-1]
		case cur == nil:
		case defaultLine.MatchString(l):
			cur.def = defaultLine.FindStringSubmatch(l)[1]
		case strings.HasPrefix(l, "# ") && !strings.Contains(l, " = "):
			cur.help = strings.TrimSpace(cur.help + " " + strings.TrimPrefix(l, "# "))
		case strings.TrimSpace(l) == "":
			cur = nil
		}
	}
	return rows
}

// configReference is config.Template as Markdown tables, one per section.
func configReference() string {
	var b strings.Builder
	section := "\x00"
	for _, r := range configRows(config.Template()) {
		if r.section != section {
			section = r.section
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "**%s**\n\n| Key | 項目 | Default | Meaning |\n|---|---|---|---|\n", section)
		}
		def := "`" + r.def + "`"
		switch {
		case r.def == "" && r.need != "":
			def = r.need
		case r.def == "":
			def = "(empty)"
		case r.need != "":
			def += " (" + r.need + ")"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.key, cell(r.ja), cell(def), cell(r.help))
	}
	return b.String()
}

// cliReference lists every verb with its usage and summary.
func cliReference() string {
	root := newRoot(&globals{stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: &syncBuffer{}})
	var b strings.Builder
	b.WriteString("| Command | What it does |\n|---|---|\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			use := strings.TrimPrefix(c.CommandPath()+" "+sub.Use, "wbpay-engine ")
			fmt.Fprintf(&b, "| `%s` | %s |\n", cell(use), cell(sub.Short))
			walk(sub)
		}
	}
	walk(root)
	b.WriteString("\nGlobal flags: `--home DIR` (default `$WBPAY_HOME`, else `C:\\Wellba\\WbPay` on Windows, `$XDG_DATA_HOME/wbpay` or `~/.local/share/wbpay` elsewhere), `-o table|json`, `--gateway-ca FILE`, `-v` (the engine's log, at its LogLevel, also on stderr).\n")
	return b.String()
}
