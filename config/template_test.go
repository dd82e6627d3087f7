package config

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specKeys is every key of library spec 2.6 plus ApiPathDeposit and
// ReverseWindow (this project's additions), written out
// here independently of keyTable so a key dropped from the table is noticed.
var specKeys = []string{
	"ServerURL", "ApiPathPay", "ApiPathPayV1", "ApiPathRefund", "ApiPathReverse", "ApiPathConfirm",
	"ApiPathConfirmV1", "ApiPathDeposit", "HttpTimeout", "IgnoreCertificateError", "PrivateKeyFile",
	"PublicKeyFile", "MerchantId", "TerminalUniquId", "BranchCode", "TerminalCode", "Locale", "TimeZone",
	"CurrencyCode", "AppVersion", "PayConfirmPollingMode", "PayConfirmPollingWait",
	"PayConfirmPollingInterval", "PayConfirmPollingTimeout", "RequestConfirmInterval",
	"RequestConfirmNum", "ReverseWindow", "LogLevel", "LogExpire", "AppTestMode", "TestSequenceDelay", "TestClassPay",
	"TestClassRefund", "TestClassReverse", "TestClassDeposit", "ServeListen",
}

// filled are real values for the template's placeholders.
var filled = map[string]string{
	"ServerURL":        "https://paytree.example.jp",
	"ApiPathPay":       "/gw/v3/pay",
	"ApiPathPayV1":     "/gw/v1/pay",
	"ApiPathRefund":    "/gw/v3/refund",
	"ApiPathReverse":   "/gw/v3/reverse",
	"ApiPathConfirm":   "/gw/v3/confirm",
	"ApiPathConfirmV1": "/gw/v1/confirm",
	"PrivateKeyFile":   "private.pem",
	"PublicKeyFile":    "paytree-public.pem",
	"MerchantId":       "123456789012",
	"TerminalUniquId":  "1234501234561",
	"BranchCode":       "B001",
	"TerminalCode":     "T01",
}

var placeholderLine = regexp.MustCompile(`(?m)^(\w+) = <EDIT:[^>]*>$`)

func fillTemplate(t *testing.T, tpl string, placeholders int) string {
	t.Helper()
	seen := map[string]bool{}
	out := placeholderLine.ReplaceAllStringFunc(tpl, func(line string) string {
		key := placeholderLine.FindStringSubmatch(line)[1]
		v, ok := filled[key]
		require.True(t, ok, "no value for placeholder of %s", key)
		seen[key] = true
		return key + " = " + v
	})
	assert.Len(t, seen, placeholders, "placeholders found")
	return out
}

func TestTemplateListsEveryKey(t *testing.T) {
	tpl := Template()
	assert.Equal(t, len(specKeys), len(keyTable), "keyTable and the spec's key list agree")
	for _, k := range specKeys {
		active := regexp.MustCompile(`(?m)^` + k + ` = \S`)
		assert.Regexp(t, active, tpl, "key %s is written as an active line", k)
		assert.Contains(t, tpl, "# "+k+" — ", "key %s is documented", k)
	}
	for i := range keyTable {
		d := &keyTable[i]
		assert.Contains(t, tpl, d.ja, "Japanese term of %s", d.name)
		if d.placeholder == "" {
			assert.Contains(t, tpl, "\n"+d.name+" = "+d.format(Default())+"\n", "default of %s", d.name)
		}
	}
	assert.Contains(t, tpl, "マーチャントID")
	assert.Contains(t, tpl, "TerminalUniqueId is accepted too")
	assert.NotContains(t, tpl, "\r")
}

func TestTemplateUneditedIsRefused(t *testing.T) {
	_, err := Parse(strings.NewReader(Template()), "")
	require.ErrorIs(t, err, ErrInvalid)
	var keys []string
	for _, p := range problems(t, err) {
		assert.Contains(t, p.Message, "template placeholder")
		assert.NotZero(t, p.Line)
		keys = append(keys, p.Key)
	}
	var want []string
	for k := range filled {
		want = append(want, k)
	}
	assert.ElementsMatch(t, want, keys)
}

func TestTemplateFilledParsesToDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader(fillTemplate(t, Template(), len(filled))), "")
	require.NoError(t, err)
	assert.Empty(t, c.Warnings)
	want := Default()
	want.ServerURL = filled["ServerURL"]
	want.ApiPathPay, want.ApiPathPayV1 = filled["ApiPathPay"], filled["ApiPathPayV1"]
	want.ApiPathRefund, want.ApiPathReverse = filled["ApiPathRefund"], filled["ApiPathReverse"]
	want.ApiPathConfirm, want.ApiPathConfirmV1 = filled["ApiPathConfirm"], filled["ApiPathConfirmV1"]
	want.PrivateKeyFile, want.PublicKeyFile = filled["PrivateKeyFile"], filled["PublicKeyFile"]
	want.MerchantID, want.TerminalUniqueID = filled["MerchantId"], filled["TerminalUniquId"]
	want.BranchCode, want.TerminalCode = filled["BranchCode"], filled["TerminalCode"]
	assert.Equal(t, *want, exported(c))
}

// TestTemplateTestMode: in test mode the lines of the keys required only in
// production may be deleted instead of edited.
func TestTemplateTestMode(t *testing.T) {
	tpl := strings.Replace(Template(), "AppTestMode = no", "AppTestMode = yes", 1)
	for i := range keyTable {
		d := &keyTable[i]
		if d.need == requiredLive {
			tpl = regexp.MustCompile(`(?m)^`+d.name+` = .*$`).ReplaceAllString(tpl, "")
		}
	}
	// Left: PrivateKeyFile and the four merchant and terminal codes.
	c, err := Parse(strings.NewReader(fillTemplate(t, tpl, 5)), "")
	require.NoError(t, err)
	assert.True(t, c.AppTestMode)
	assert.Equal(t, DefaultApiPathPay, c.ApiPathPay)
}
