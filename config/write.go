package config

import (
	"sort"
	"strings"

	"github.com/wbpay/wbpay/layout"
)

// Conf is the content of a WbCPSPay.conf for Render and Write: the one
// description every writer of the file (init, the demo, the bench, the
// tests) gives, so that the file is rendered and written in one place.
type Conf struct {
	// Template renders the commented template (Template: every key, its
	// meaning and default) with Values in place of the defaults and
	// placeholders; when Values sets AppTestMode = yes, the placeholders
	// left are commented out (test mode needs none of them). Without
	// Template, Header and then only the keys of Values are written, one
	// "Key = Value" line each, in key order.
	Template bool
	// Header is the file's opening comment without Template: each of its
	// lines is written after "# ".
	Header string
	// Values sets keys, Key → Value; a key with an empty value is left out.
	Values map[string]string
	// Notes gives a key's line an end-of-line comment.
	Notes map[string]string
}

// Render returns the file's text.
func (c Conf) Render() string {
	if c.Template {
		return c.renderTemplate()
	}
	var b strings.Builder
	if c.Header != "" {
		for _, l := range strings.Split(c.Header, "\n") {
			b.WriteString("# " + l + "\n")
		}
	}
	for _, k := range c.keys(nil) {
		b.WriteString(c.line(k))
	}
	return b.String()
}

// renderTemplate is Template with c's values and notes.
func (c Conf) renderTemplate() string {
	testMode := strings.EqualFold(c.Values["AppTestMode"], "yes")
	written := map[string]bool{}
	var b strings.Builder
	for _, line := range strings.SplitAfter(Template(), "\n") {
		key, val, ok := strings.Cut(strings.TrimRight(line, "\n"), " = ")
		if !ok || strings.HasPrefix(key, "#") {
			b.WriteString(line)
			continue
		}
		switch {
		case c.Values[key] != "":
			line = c.line(key)
			written[key] = true
		case testMode && strings.HasPrefix(val, "<EDIT"):
			line = "# " + line[:len(line)-1] + "   (not needed in test mode)\n"
		}
		b.WriteString(line)
	}
	for _, k := range c.keys(written) { // keys the template does not list
		b.WriteString(c.line(k))
	}
	return b.String()
}

// keys returns the keys of c.Values with a value, less skip, in order.
func (c Conf) keys(skip map[string]bool) []string {
	var names []string
	for k, v := range c.Values {
		if v != "" && !skip[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// line is key's "Key = Value" line, with its note.
func (c Conf) line(key string) string {
	l := key + " = " + c.Values[key]
	if n := c.Notes[key]; n != "" {
		l += "   # " + n
	}
	return l + "\n"
}

// Write renders c and writes it as the home's WbCPSPay.conf, atomically
// (temp file, fsync, rename, fsync the folder) with mode layout.ConfMode.
// With exclusive an existing file is never replaced (an error wrapping
// layout.ErrExists).
func Write(home string, c Conf, exclusive bool) error {
	return layout.Write(home, layout.ConfFile, []byte(c.Render()), exclusive)
}
