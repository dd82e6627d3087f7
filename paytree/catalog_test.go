package paytree

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contractErrors is the table of contract section 8, copied by hand: code,
// type, action column.
var contractErrors = []struct {
	code   string
	typ    ErrorType
	action string
}{
	{"N0001", 2, "Retry"},
	{"N0002", 2, "Retry (after reverse) / CPSCall"},
	{"N0003", 2, "Retry / CPSCall"},
	{"N0004", 2, "Retry / CPSCall"},
	{"N0005", 2, "VendorCall"},
	{"N0006", 2, "VendorCall"},
	{"L0001", 5, "VendorCall"},
	{"L0002", 5, "VendorCall"},
	{"L0003", 5, "VendorCall"},
	{"L0004", 5, "Retry"},
	{"L0005", 5, "VendorCall"},
	{"L0006", 5, "VendorCall"},
	{"L0007", 5, "VendorCall"},
	{"L0008", 5, "VendorCall"},
	{"P0001", 6, "CPSCall"},
	{"P0002", 6, "CPSCall"},
	{"E1001", 9, "VendorCall"},
	{"E1002", 9, "VendorCall"},
	{"E1003", 9, "CPSCall"},
	{"E2001", 9, "Customer"},
	{"E2002", 9, "Customer"},
	{"E2003", 9, "CPSCall"},
	{"E2004", 9, "Customer"},
	{"E2005", 9, "Customer"},
	{"E2006", 9, "Customer"},
	{"E3001", 9, "VendorCall"},
	{"E3002", 9, "VendorCall"},
	{"E3003", 9, "VendorCall"},
	{"E3004", 9, "VendorCall"},
	{"E3005", 9, "VendorCall"},
	{"E3006", 9, "VendorCall"},
	{"E9001", 9, "CPSCall"},
	{"E9002", 9, "Retry"},
	// Added in contract v1.1.
	{"N0007", 2, "Retry (pay, deposit: it will be undone) / VendorCall (refund, reverse: wait for the outcome)"},
	{"L0009", 5, "VendorCall"},
	{"L0010", 5, "VendorCall"},
	{"L0011", 5, "VendorCall"},
	{"L0012", 5, "CPSCall"},
	{"W0001", 9, "Customer"},
}

// projectErrors are this project's additions to the contract's catalog;
// adding a code means adding it here, on purpose (contract v1.1 took in
// W0001, the only one so far).
var projectErrors = map[string]bool{}

func TestCatalogMatchesContract(t *testing.T) {
	all := Errors()
	count := map[string]int{}
	for _, d := range all {
		count[d.Code]++
	}
	for _, want := range contractErrors {
		t.Run(want.code, func(t *testing.T) {
			assert.Equal(t, 1, count[want.code], "present exactly once")
			d, ok := LookupError(want.code)
			require.True(t, ok)
			assert.Equal(t, want.code, d.Code)
			assert.Equal(t, want.typ, d.Type)
			assert.Equal(t, want.action, d.ActionText)
			first := strings.Fields(want.action)[0]
			a, ok := ParseAction(first)
			require.True(t, ok, "action %q", first)
			assert.Equal(t, a, d.Action, "default action is the first of the column")
		})
	}
	contract := map[string]bool{}
	for _, c := range contractErrors {
		contract[c.code] = true
	}
	for _, d := range all {
		assert.True(t, contract[d.Code] || projectErrors[d.Code], "code %s is neither in the contract nor a declared project addition", d.Code)
	}
	assert.Len(t, all, len(contractErrors)+len(projectErrors))
}

func TestCatalogEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Errors() {
		t.Run(d.Code, func(t *testing.T) {
			assert.False(t, seen[d.Code], "unique")
			seen[d.Code] = true
			assert.Regexp(t, `^[NLPEW][0-9]{4}$`, d.Code)
			assert.NotEmpty(t, d.Message, "English message")
			assert.NotEmpty(t, d.MessageJA, "Japanese message")
			assert.True(t, strings.IndexFunc(d.MessageJA, func(r rune) bool {
				return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han)
			}) >= 0, "Japanese message is Japanese: %q", d.MessageJA)
			assert.NotEqual(t, ActionNone, d.Action)
			assert.Contains(t, d.ActionText, d.Action.String())
			assert.Contains(t, []ErrorType{TypeNetwork, TypeLibrary, TypePostProcess, TypePaytree}, d.Type)
		})
	}
	_, ok := LookupError("E0000")
	assert.False(t, ok)
	_, ok = LookupError("")
	assert.False(t, ok)
	_, ok = LookupError(CodeOK)
	assert.False(t, ok, "0000 is success, not an error")
}

func TestErrorsReturnsACopy(t *testing.T) {
	a := Errors()
	a[0].Message = "changed"
	d, ok := LookupError(a[0].Code)
	require.True(t, ok)
	assert.NotEqual(t, "changed", d.Message)
	assert.NotEqual(t, "changed", Errors()[0].Message)
}

func TestCodeConstants(t *testing.T) {
	consts := []string{N0001, N0002, N0003, N0004, N0005, N0006, N0007, L0001, L0002, L0003, L0004, L0005, L0006, L0007, L0008,
		L0009, L0010, L0011, L0012,
		P0001, P0002, E1001, E1002, E1003, E2001, E2002, E2003, E2004, E2005, E2006, E3001, E3002, E3003, E3004, E3005,
		E3006, E9001, E9002, W0001}
	for _, c := range consts {
		_, ok := LookupError(c)
		assert.True(t, ok, "constant %s is in the catalog", c)
	}
	assert.Len(t, consts, len(Errors()), "one constant per catalog code")
	assert.Equal(t, "0000", CodeOK)
}

func TestErrorTypeAndAction(t *testing.T) {
	assert.Equal(t, "network", TypeNetwork.String())
	assert.Equal(t, "library", TypeLibrary.String())
	assert.Equal(t, "post-process", TypePostProcess.String())
	assert.Equal(t, "paytree", TypePaytree.String())
	assert.Equal(t, "ErrorType(3)", ErrorType(3).String())

	for _, a := range []Action{Retry, Customer, VendorCall, CPSCall} {
		back, ok := ParseAction(a.String())
		assert.True(t, ok)
		assert.Equal(t, a, back)
		back, ok = ParseAction(strings.ToLower(a.String()))
		assert.True(t, ok, "case-insensitive")
		assert.Equal(t, a, back)
	}
	assert.Equal(t, "CPSCall", CPSCall.String())
	assert.Equal(t, "", ActionNone.String())
	assert.Equal(t, "Action(9)", Action(9).String())
	assert.Equal(t, "Action(-1)", Action(-1).String())
	_, ok := ParseAction("")
	assert.False(t, ok, "the empty name is not an action")
	_, ok = ParseAction("Police")
	assert.False(t, ok)
}
