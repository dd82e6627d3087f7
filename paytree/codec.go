package paytree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes caps a request or answer body; anything longer is refused
// before it is parsed.
const MaxBodyBytes = 64 << 10

// Fields is one flat wire message: field name → string value.
type Fields map[string]string

// Get returns the value of name, "" when absent.
func (f Fields) Get(name string) string { return f[name] }

// Clone returns a copy of f.
func (f Fields) Clone() Fields {
	out := make(Fields, len(f))
	for k, v := range f {
		out[k] = v
	}
	return out
}

// Decode parses body as one flat JSON object of string values. It refuses,
// with an error wrapping ErrMalformed, an empty or oversized body, invalid
// UTF-8, a value that is not a string (nested, number, null, bool), a
// duplicate key, a field name outside [A-Za-z0-9] and trailing data.
func Decode(body []byte) (Fields, error) {
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrMalformed, len(body), MaxBodyBytes)
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, syntaxDetail(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrMalformed)
	}
	out := Fields{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrMalformed, syntaxDetail(err))
		}
		key, _ := tok.(string)
		if !validFieldName(key) {
			return nil, fmt.Errorf("%w: field name %q is not [A-Za-z0-9]+", ErrMalformed, key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: duplicate field %q", ErrMalformed, key)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: field %q: %s", ErrMalformed, key, syntaxDetail(err))
		}
		val, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: field %q is %s, not a string", ErrMalformed, key, jsonKind(tok))
		}
		out[key] = val
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("%w: %s", ErrMalformed, syntaxDetail(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	return out, nil
}

// jsonKind names the kind of a non-string JSON value token.
func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", tok)
}

// syntaxDetail describes a JSON tokenizer error, naming a truncated body as
// such rather than as a bare "EOF".
func syntaxDetail(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of body (truncated JSON)"
	}
	return err.Error()
}

// Encode writes f as one flat JSON object with keys in ascending order, so
// the same fields always give the same bytes. Invalid field names are
// refused with ErrMalformed.
func Encode(f Fields) ([]byte, error) {
	keys := sortedKeys(f)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if !validFieldName(k) {
			return nil, fmt.Errorf("%w: field name %q is not [A-Za-z0-9]+", ErrMalformed, k)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(f[k])
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var canonicalEscaper = strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D")

// Canonical returns the string that the signature covers (contract section
// 2): every non-empty field except sign, sorted by key in byte order, as
// key=value joined by '&', with '%', '&' and '=' escaped in values.
func Canonical(f Fields) string {
	keys := sortedKeys(f)
	var b strings.Builder
	for _, k := range keys {
		v := f[k]
		if k == FSign || v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(canonicalEscaper.Replace(v))
	}
	return b.String()
}

func sortedKeys(f Fields) []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validFieldName(s string) bool { return IsAlnum(s) }
