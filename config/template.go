package config

import (
	"strings"
)

// Template returns a commented WbCPSPay.conf that lists every key with its
// meaning (in English, with the spec's Japanese term) and its default. The
// keys the user must set carry placeholders ("<EDIT: …>") that Parse refuses
// until they are replaced; every other key is written with its default
// value, so the file parses to Default() once the placeholders are filled.
func Template() string {
	def := Default()
	var b strings.Builder
	b.WriteString(`# WbCPSPay.conf — configuration of the wbpay engine (library spec 2.6).
#
# Format: one "Key = Value" per line, UTF-8. "#" starts a comment that runs
# to the end of the line, so no value may contain "#". Blank lines are
# ignored. Durations are whole seconds. Flags are yes or no.
#
# Replace every "<EDIT: …>" value before use: the engine refuses to start
# while one is left. Keys marked "required" must be present; the others may
# be deleted to use the default shown. With AppTestMode = yes the keys marked
# "required unless AppTestMode = yes" may be deleted instead of edited.
`)
	for i := range keyTable {
		d := &keyTable[i]
		if d.section != "" {
			b.WriteString("\n# ---- " + d.section + " ----\n")
		}
		b.WriteString("\n# " + d.name + " — " + d.ja)
		switch d.need {
		case required:
			b.WriteString(" (required)")
		case requiredLive:
			b.WriteString(" (required unless AppTestMode = yes)")
		}
		b.WriteByte('\n')
		for _, l := range wrap(d.help, 74) {
			b.WriteString("# " + l + "\n")
		}
		v := d.format(def)
		if d.example != "" && v == "" {
			b.WriteString("# Default: (none)\n")
			b.WriteString("# " + d.name + " = " + d.example + "\n")
			continue
		}
		if d.placeholder != "" {
			if v != "" {
				b.WriteString("# Default when deleted in test mode: " + v + "\n")
			}
			v = d.placeholder
		} else {
			b.WriteString("# Default: " + v + "\n")
		}
		b.WriteString(d.name + " = " + v + "\n")
	}
	return b.String()
}

// wrap splits s into lines of at most width bytes, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
