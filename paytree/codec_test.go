package paytree

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeRefusals(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	tests := []struct {
		name string
		body string
		want string // the whole message
	}{
		{"empty body", "", "paytree: malformed message: empty body"},
		{"whitespace only", " \r\n\t", "paytree: malformed message: empty body"},
		{"nested object", `{"a":{"b":"c"}}`, `paytree: malformed message: field "a" is an object, not a string`},
		{"nested array", `{"a":["x"]}`, `paytree: malformed message: field "a" is an array, not a string`},
		{"number", `{"amount":1000}`, `paytree: malformed message: field "amount" is a number, not a string`},
		{"null", `{"a":null}`, `paytree: malformed message: field "a" is null, not a string`},
		{"bool", `{"a":true}`, `paytree: malformed message: field "a" is a boolean, not a string`},
		{"duplicate key", `{"a":"1","b":"2","a":"3"}`, `paytree: malformed message: duplicate field "a"`},
		{"duplicate key, same value", `{"a":"1","a":"1"}`, `paytree: malformed message: duplicate field "a"`},
		{"invalid UTF-8 in a value", "{\"a\":\"\xff\"}", "paytree: malformed message: body is not valid UTF-8"},
		{"invalid UTF-8 outside strings", "\xfe{\"a\":\"b\"}", "paytree: malformed message: body is not valid UTF-8"},
		{"oversized body", big, fmt.Sprintf("paytree: malformed message: body of %d bytes exceeds %d", len(big), MaxBodyBytes)},
		{"field name with a dash", `{"request-id":"x"}`, `paytree: malformed message: field name "request-id" is not [A-Za-z0-9]+`},
		{"field name with an underscore", `{"a_b":"x"}`, `paytree: malformed message: field name "a_b" is not [A-Za-z0-9]+`},
		{"field name Japanese", `{"金額":"1"}`, `paytree: malformed message: field name "金額" is not [A-Za-z0-9]+`},
		{"empty field name", `{"":"x"}`, `paytree: malformed message: field name "" is not [A-Za-z0-9]+`},
		{"trailing object", `{"a":"b"}{}`, "paytree: malformed message: data after the JSON object"},
		{"trailing garbage", `{"a":"b"} x`, "paytree: malformed message: data after the JSON object"},
		{"trailing string", `{"a":"b"}"c"`, "paytree: malformed message: data after the JSON object"},
		{"array", `["a","b"]`, "paytree: malformed message: body is not a JSON object"},
		{"string", `"a"`, "paytree: malformed message: body is not a JSON object"},
		{"number body", `42`, "paytree: malformed message: body is not a JSON object"},
		{"null body", `null`, "paytree: malformed message: body is not a JSON object"},
		{"truncated object", `{"a":"b"`, "paytree: malformed message: unexpected end of body (truncated JSON)"},
		{"truncated after key", `{"a":`, `paytree: malformed message: field "a": unexpected end of body (truncated JSON)`},
		{"only an opening brace", `{`, "paytree: malformed message: unexpected end of body (truncated JSON)"},
		{"trailing comma", `{"a":"b",}`, "paytree: malformed message: invalid character '}' looking for beginning of object key string"},
		{"missing comma", `{"a":"b" "c":"d"}`, `paytree: malformed message: invalid character '"' after object key:value pair`},
		{"unquoted key", `{a:"b"}`, "paytree: malformed message: invalid character 'a'"},
		{"single quotes", `{'a':'b'}`, "paytree: malformed message: invalid character '\\''"},
		{"not JSON", `amount=1000&sign=x`, "paytree: malformed message: invalid character 'a' looking for beginning of value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode([]byte(tt.body))
			require.Error(t, err)
			assert.Nil(t, f)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Fields
	}{
		{"empty object", `{}`, Fields{}},
		{"surrounding whitespace", " \n{ \"a\" : \"b\" }\r\n ", Fields{"a": "b"}},
		{"escapes", `{"a":"\u0026\u003d\"\\\/\n\u65e5"}`, Fields{"a": "&=\"\\/\n日"}},
		{"UTF-8 value", `{"remark":"返品 (袋破れ)"}`, Fields{"remark": "返品 (袋破れ)"}},
		{"empty value", `{"errorSubCode":""}`, Fields{"errorSubCode": ""}},
		{"digits in names", `{"a1":"x","9":"y"}`, Fields{"a1": "x", "9": "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.want, f)
		})
	}
	t.Run("exactly MaxBodyBytes", func(t *testing.T) {
		body := `{"a":"` + strings.Repeat("x", MaxBodyBytes-8) + `"}`
		require.Len(t, body, MaxBodyBytes)
		f, err := Decode([]byte(body))
		require.NoError(t, err)
		assert.Len(t, f["a"], MaxBodyBytes-8)
	})
}

func TestEncode(t *testing.T) {
	f := Fields{"zeta": "1", "alpha": "a&b=c%", "Beta": "日本語", "empty": "", "quote": "\"<>\n"}
	body, err := Encode(f)
	require.NoError(t, err)
	keys := []string{}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	_, _ = dec.Token()
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		_, err = dec.Token()
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"Beta", "alpha", "empty", "quote", "zeta"}, keys, "keys in byte order")

	again, err := Encode(f.Clone())
	require.NoError(t, err)
	assert.Equal(t, body, again, "deterministic")

	back, err := Decode(body)
	require.NoError(t, err)
	assert.Equal(t, f, back, "round trip")

	empty, err := Encode(Fields{})
	require.NoError(t, err)
	assert.Equal(t, "{}", string(empty))

	for _, bad := range []string{"", "a-b", "a b", "ä", "a_b"} {
		_, err := Encode(Fields{"ok": "1", bad: "x"})
		assert.ErrorIs(t, err, ErrMalformed, "name %q", bad)
		if err != nil {
			assert.Contains(t, err.Error(), fmt.Sprintf("field name %q", bad))
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   Fields
		want string
	}{
		{"empty", Fields{}, ""},
		{"nil", nil, ""},
		{"one field", Fields{"a": "b"}, "a=b"},
		{"sorted by byte", Fields{"b": "2", "B": "1", "a": "3", "1": "0"}, "1=0&B=1&a=3&b=2"},
		{"percent first", Fields{"a": "%26"}, "a=%2526"},
		{"ampersand", Fields{"a": "x&y"}, "a=x%26y"},
		{"equals", Fields{"a": "x=y"}, "a=x%3Dy"},
		{"all three in order", Fields{"a": "%&="}, "a=%25%26%3D"},
		{"already escaped text is escaped again", Fields{"a": "%3D%26%25"}, "a=%253D%2526%2525"},
		{"keys are not escaped", Fields{"k": "v"}, "k=v"},
		{"empty values left out", Fields{"a": "", "b": "1", "c": ""}, "b=1"},
		{"sign left out", Fields{"sign": "abc", "signType": "RSA"}, "signType=RSA"},
		{"other characters kept", Fields{"a": "+/ ?#\n日本"}, "a=+/ ?#\n日本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Canonical(tt.in))
		})
	}
	// The escaping makes the string unambiguous: values that would collide
	// unescaped give different strings.
	assert.NotEqual(t, Canonical(Fields{"a": "1&b=2"}), Canonical(Fields{"a": "1", "b": "2"}))
	assert.NotEqual(t, Canonical(Fields{"a": "%26"}), Canonical(Fields{"a": "&"}))
}

func TestFieldsHelpers(t *testing.T) {
	f := Fields{"a": "1"}
	c := f.Clone()
	c["a"] = "2"
	assert.Equal(t, "1", f.Get("a"), "Clone copies")
	assert.Equal(t, "", f.Get("missing"))
	assert.Empty(t, Fields(nil).Clone())
}

// FuzzDecode: Decode never panics; whatever it accepts encodes, and decodes
// again to the same map.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":"b"}`, `{"a":{"b":"c"}}`, `{"a":1}`, `{"a":"b","a":"c"}`, `[]`, ``, `{`, `{"a":"\ud800"}`,
		`{"a":"\u0000"}`, "{\"a\":\"\xff\"}", `{"remark":"返品 & =%"}`, `{"a":"b"} {}`, `{"a-b":"c"}`,
		strings.Repeat("[", 1000), `{"a":"` + strings.Repeat("x", 100) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := Decode(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			if got != nil {
				t.Fatalf("fields returned with an error")
			}
			return
		}
		enc, err := Encode(got)
		if err != nil {
			t.Fatalf("decoded fields do not encode: %v", err)
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded body does not decode: %v\n%q", err, enc)
		}
		if len(back) != len(got) {
			t.Fatalf("round trip changed the map: %q → %q", got, back)
		}
		for k, v := range got {
			if back[k] != v {
				t.Fatalf("round trip changed %q: %q → %q", k, v, back[k])
			}
		}
		_ = Canonical(got)
	})
}
