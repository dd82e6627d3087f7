package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFileBytes caps the size of a configuration file; a longer one is refused.
const MaxFileBytes = 1 << 20

const placeholderPrefix = "<EDIT"

// maxReported caps the errors and the warnings kept from one file, so that a
// binary or garbled file yields a readable message; the rest are counted.
const maxReported = 100

// Parse reads a WbCPSPay.conf from r; name is used in messages
// ("WbCPSPay.conf:12: …"), FileName when empty. Absent optional keys get
// their defaults, then Validate runs. The error, if any, joins every problem
// found (each an *Error wrapping ErrInvalid); unknown keys and other
// non-fatal findings land in Config.Warnings. Parse never panics.
func Parse(r io.Reader, name string) (*Config, error) {
	if name == "" {
		name = FileName
	}
	c := Default()
	c.src = name
	c.lines = map[string]int{}
	c.names = map[string]string{}

	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrInvalid, name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, &Error{File: name, Message: fmt.Sprintf("file is larger than %d bytes", MaxFileBytes)}
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))

	p := parser{c: c, bad: map[string]bool{}}
	for i, line := range strings.Split(string(data), "\n") {
		p.line(i+1, line)
	}
	if u := c.ServerURL; strings.HasSuffix(u, "/") && !strings.HasSuffix(u, "//") {
		c.ServerURL = strings.TrimSuffix(u, "/") // ServerURL + ApiPath… must not give "//"
	}
	if !c.AppTestMode {
		// These have defaults (the simulator's paths), so presence is checked
		// here rather than by Validate.
		for i := range keyTable {
			d := &keyTable[i]
			// Keys without a default (ServerURL, PublicKeyFile) are left
			// empty and reported by Validate.
			if d.need == requiredLive && c.lines[d.name] == 0 && d.format(c) != "" {
				p.fail(0, d.name, "required key missing")
			}
		}
	}
	errs, warns := c.check(p.bad)
	p.errs = append(p.errs, errs...)
	c.Warnings = append(c.Warnings, warns...)
	if p.droppedErrs > 0 {
		p.errs = append(p.errs, &Error{File: name, Message: fmt.Sprintf("%d more problems not shown", p.droppedErrs)})
	}
	if p.droppedWarns > 0 {
		c.Warnings = append(c.Warnings, Warning{Message: fmt.Sprintf("%d more warnings not shown", p.droppedWarns)})
	}
	if len(p.errs) > 0 {
		return nil, joinSorted(p.errs)
	}
	return c, nil
}

type parser struct {
	c    *Config
	bad  map[string]bool // canonical keys already reported; Validate skips them
	errs []*Error

	droppedErrs, droppedWarns int
}

// fail records a problem of line (0: none) about key as the file spelled it.
func (p *parser) fail(line int, key, format string, args ...any) {
	if len(p.errs) >= maxReported {
		p.droppedErrs++
		return
	}
	p.errs = append(p.errs, &Error{File: p.c.src, Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) warn(line int, key, format string, args ...any) {
	if len(p.c.Warnings) >= maxReported {
		p.droppedWarns++
		return
	}
	p.c.Warnings = append(p.c.Warnings, Warning{Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

// line handles one line of the file.
func (p *parser) line(n int, s string) {
	s = strings.TrimSuffix(s, "\r")
	if !utf8.ValidString(s) {
		p.fail(n, "", "line is not valid UTF-8")
		return
	}
	// A '#' right after a value character (not after a blank) is most
	// likely part of the value that the comment cuts off: warn about it.
	cutAt := -1
	if i := strings.IndexByte(s, '#'); i >= 0 {
		if i > 0 && s[i-1] != ' ' && s[i-1] != '\t' {
			cutAt = i
		}
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		p.fail(n, "", "expected Key = Value, got %s", quote(s))
		return
	}
	key := strings.TrimSpace(s[:eq])
	val := strings.TrimSpace(s[eq+1:])
	if key == "" {
		p.fail(n, "", "missing key before '=' in %s", quote(s))
		return
	}
	if !validKeyName(key) {
		p.fail(n, "", "malformed key %s (letters, digits and _ only)", quote(key))
		return
	}
	if cutAt > eq && val != "" {
		p.warn(n, key, "the value is cut at '#', which starts a comment: read as %s (a value cannot contain '#')", quote(val))
	}
	d := lookupKey(key)
	if d == nil {
		if len(p.c.Warnings) >= maxReported {
			p.droppedWarns++ // skip the costly suggestion
			return
		}
		msg := "unknown key, ignored"
		if s := suggest(key); s != "" {
			msg += "; did you mean " + s + "?"
		}
		p.warn(n, key, "%s", msg)
		return
	}
	if first, dup := p.c.lines[d.name]; dup {
		p.fail(n, key, "duplicate key: already set on line %d as %s", first, p.c.names[d.name])
		return
	}
	p.c.lines[d.name] = n
	p.c.names[d.name] = key
	if !d.spelledAs(key) {
		p.warn(n, key, "key accepted, but the spec spells it %s", d.name)
	}
	var err error
	switch {
	case val == "":
		err = errors.New("empty value (delete the line to use the default)")
	case strings.HasPrefix(val, placeholderPrefix):
		err = fmt.Errorf("template placeholder %s not replaced", quote(val))
	case strings.IndexFunc(val, unicode.IsControl) >= 0:
		err = fmt.Errorf("value contains a control character: %s", quote(val))
	default:
		err = d.set(p.c, val)
	}
	if err != nil {
		p.fail(n, key, "%s", err.Error())
		p.bad[d.name] = true
	}
}

func validKeyName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return k != ""
}

// suggest returns the known key closest to an unknown one, if close enough
// to be a typo.
func suggest(key string) string {
	best, bestDist := "", 4
	lk := strings.ToLower(key)
	for i := range keyTable {
		d := distance(lk, strings.ToLower(keyTable[i].name))
		if d < bestDist {
			best, bestDist = keyTable[i].name, d
		}
	}
	return best
}

// distance is the Levenshtein distance of two short ASCII strings.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// joinSorted joins errs ordered by line, problems without a line last.
func joinSorted(errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		if (li == 0) != (lj == 0) {
			return lj == 0
		}
		return li < lj
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
