package sim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// TestFieldValidation: each bad field gets a signed E1001 naming it, is
// recorded, and creates no order.
func TestFieldValidation(t *testing.T) {
	set := func(k, v string) func(paytree.Fields) { return func(f paytree.Fields) { f[k] = v } }
	del := func(k string) func(paytree.Fields) { return func(f paytree.Fields) { delete(f, k) } }
	tests := []struct {
		name  string
		path  string
		mod   func(paytree.Fields)
		field string
	}{
		{"merchantId 11 digits", paths.Pay, set(paytree.FMerchantID, "12345678901"), paytree.FMerchantID},
		{"merchantId letters", paths.Pay, set(paytree.FMerchantID, "12345678901A"), paytree.FMerchantID},
		{"merchantId missing", paths.Pay, del(paytree.FMerchantID), paytree.FMerchantID},
		{"terminal 12 chars", paths.Pay, set(paytree.FTerminalUniqueID, "ABCDE0123456"), paytree.FTerminalUniqueID},
		{"terminal symbol", paths.Pay, set(paytree.FTerminalUniqueID, "ABCDE012345-T"), paytree.FTerminalUniqueID},
		{"terminal 6th not 0", paths.Pay, set(paytree.FTerminalUniqueID, "ABCDE1123456T"), paytree.FTerminalUniqueID},
		{"branchCode missing", paths.Pay, del(paytree.FBranchCode), paytree.FBranchCode},
		{"branchCode 33", paths.Pay, set(paytree.FBranchCode, strings.Repeat("B", 33)), paytree.FBranchCode},
		{"terminalCode symbol", paths.Pay, set(paytree.FTerminalCode, "T-1"), paytree.FTerminalCode},
		{"requestTime short", paths.Pay, set(paytree.FRequestTime, "2025011510000"), paytree.FRequestTime},
		{"requestTime month 13", paths.Pay, set(paytree.FRequestTime, "20251315100000"), paytree.FRequestTime},
		{"requestTime missing", paths.Pay, del(paytree.FRequestTime), paytree.FRequestTime},
		{"signType", paths.Pay, set(paytree.FSignType, "DSA"), paytree.FSignType},
		{"locale", paths.Pay, set(paytree.FLocale, "US"), paytree.FLocale},
		{"timeZone", paths.Pay, del(paytree.FTimeZone), paytree.FTimeZone},
		{"currencyCode", paths.Pay, set(paytree.FCurrencyCode, "USD"), paytree.FCurrencyCode},
		{"appVersion missing", paths.Pay, del(paytree.FAppVersion), paytree.FAppVersion},
		{"amount zero", paths.Pay, set(paytree.FAmount, "0"), paytree.FAmount},
		{"amount leading zero", paths.Pay, set(paytree.FAmount, "0100"), paytree.FAmount},
		{"amount fraction", paths.Pay, set(paytree.FAmount, "100.5"), paytree.FAmount},
		{"amount negative", paths.Pay, set(paytree.FAmount, "-100"), paytree.FAmount},
		{"amount 16 digits", paths.Pay, set(paytree.FAmount, "1234567890123456"), paytree.FAmount},
		{"amount missing", paths.Pay, del(paytree.FAmount), paytree.FAmount},
		{"userCode missing", paths.Pay, del(paytree.FUserCode), paytree.FUserCode},
		{"userCode 513", paths.Pay, set(paytree.FUserCode, strings.Repeat("2", 513)), paytree.FUserCode},
		{"receiptNo 33", paths.Pay, set(paytree.FReceiptNo, strings.Repeat("r", 33)), paytree.FReceiptNo},
		{"remark 129", paths.Pay, set(paytree.FRemark, strings.Repeat("メ", 129)), paytree.FRemark},
		{"payType unknown", paths.Pay, set(paytree.FPayType, "VISA"), paytree.FPayType},
		{"payType lower case", paths.Pay, set(paytree.FPayType, "paypay"), paytree.FPayType},
		{"payType JCB_ALIPAY", paths.Pay, set(paytree.FPayType, "JCB_ALIPAY"), paytree.FPayType},
		{"payType missing on V3", paths.Pay, del(paytree.FPayType), paytree.FPayType},
		{"payType on V1", paths.PayV1, set(paytree.FPayType, "PAYPAY"), paytree.FPayType},
	}
	e := newEnv(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rid := e.id()
			f := e.payFields(rid, "PAYPAY", classCode(0), 100)
			tc.mod(f)
			a := e.post(tc.path, f)
			ok(t, a, rid)
			assert.Equal(t, paytree.E1001, a.code())
			assert.Contains(t, a.get(paytree.FErrorMessage), tc.field)
			_, held := e.order(rid)
			assert.False(t, held)
		})
	}
	t.Run("limits are inclusive", func(t *testing.T) {
		rid := e.id()
		f := e.payFields(rid, "PAYPAY", classCode(0), 100)
		f[paytree.FAmount] = "999999999999999"
		f[paytree.FReceiptNo] = strings.Repeat("r", 32)
		f[paytree.FRemark] = strings.Repeat("メ", 128)
		f[paytree.FBranchCode] = strings.Repeat("B", 32)
		a := ok(t, e.post(paths.Pay, f), rid)
		assert.Equal(t, paytree.CodeOK, a.code(), "%v", a.fields)
	})
	t.Run("refund fields", func(t *testing.T) {
		_, oid := e.payOK(100)
		for name, mod := range map[string]func(paytree.Fields){
			paytree.FRefundAmount: set(paytree.FRefundAmount, "1.0"),
			paytree.FRefundReason: set(paytree.FRefundReason, strings.Repeat("x", 257)),
			paytree.FRemark:       set(paytree.FRemark, strings.Repeat("x", 257)),
			paytree.FOrderID:      del(paytree.FOrderID),
		} {
			rid := e.id()
			f := e.refundFields(rid, oid, 10)
			mod(f)
			a := ok(t, e.post(paths.Refund, f), rid)
			assert.Equal(t, paytree.E1001, a.code(), name)
			assert.Contains(t, a.get(paytree.FErrorMessage), name)
		}
	})
	t.Run("unknown fields are ignored but signed", func(t *testing.T) {
		rid := e.id()
		f := e.payFields(rid, "PAYPAY", classCode(0), 100)
		f["futureField"] = "値&=%"
		a := ok(t, e.post(paths.Pay, f), rid)
		assert.Equal(t, paytree.CodeOK, a.code())
	})
}

// TestUnparseable: a body that is not one flat JSON object of strings gets a
// signed E1001 with an empty requestId, and is not recorded.
func TestUnparseable(t *testing.T) {
	bodies := map[string]string{
		"not json":  "amount=100",
		"nested":    `{"requestId":"r1","amount":{"v":"1"}}`,
		"number":    `{"requestId":"r1","amount":100}`,
		"null":      `{"requestId":"r1","amount":null}`,
		"duplicate": `{"requestId":"r1","requestId":"r2"}`,
		"array":     `["requestId"]`,
		"empty":     ``,
		"trailing":  `{"requestId":"r1"}{}`,
		"bad name":  `{"request_id":"r1"}`,
		"too big":   `{"requestId":"` + strings.Repeat("x", paytree.MaxBodyBytes) + `"}`,
	}
	e := newEnv(t, nil)
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			a := e.postRaw(context.Background(), paths.Pay, []byte(body))
			ok(t, a, "")
			assert.Equal(t, paytree.E1001, a.code())
			assert.Contains(t, a.get(paytree.FErrorMessage), "unparseable")
		})
	}
	assert.Empty(t, e.sim.Ledger().Requests)
}

// TestSignature: a bad, missing or foreign signature gets E1002, is not
// recorded, and a correctly signed resend is processed afresh.
func TestSignature(t *testing.T) {
	e := newEnv(t, nil)
	_, client, other := testKeys(t)
	rid := e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 100)

	tamper := func(body []byte) []byte {
		return []byte(strings.Replace(string(body), `"amount":"100"`, `"amount":"900"`, 1))
	}
	cases := map[string][]byte{
		"other key": signRequest(t, other, f),
		"tampered":  tamper(signRequest(t, client, f)),
		"missing": func() []byte {
			b, err := paytree.Encode(f)
			require.NoError(t, err)
			return b
		}(),
		"not base64": func() []byte {
			g := f.Clone()
			g[paytree.FSign] = "!!!"
			b, err := paytree.Encode(g)
			require.NoError(t, err)
			return b
		}(),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			a := e.postRaw(context.Background(), paths.Pay, body)
			ok(t, a, rid)
			assert.Equal(t, paytree.E1002, a.code())
		})
	}
	_, recorded := e.request(rid)
	assert.False(t, recorded, "E1002 is not recorded")
	assert.Empty(t, e.sim.Ledger().Orders)

	a := ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.CodeOK, a.code(), "the resend is processed afresh")
	r, _ := e.request(rid)
	assert.Equal(t, 1, r.Count)
}

// TestRegistration: E1003 when merchantId or terminalUniqueId is not in a
// non-empty allow-list.
func TestRegistration(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) {
		c.Merchants = []string{testMerchantID}
		c.Terminals = []string{testTerminalID}
	})
	rid, a := e.pay("PAYPAY", classCode(0), 100)
	ok(t, a, rid)
	assert.Equal(t, paytree.CodeOK, a.code())

	rid = e.id()
	f := e.payFields(rid, "PAYPAY", classCode(0), 100)
	f[paytree.FMerchantID] = "999999999999"
	a = ok(t, e.post(paths.Pay, f), rid)
	assert.Equal(t, paytree.E1003, a.code())
	assert.Contains(t, a.get(paytree.FErrorMessage), "merchantId")

	e.terminal = otherTerminalID
	rid, a = e.pay("PAYPAY", classCode(0), 100)
	ok(t, a, rid)
	assert.Equal(t, paytree.E1003, a.code())
	assert.Contains(t, a.get(paytree.FErrorMessage), "terminalUniqueId")
	assert.Len(t, e.sim.Ledger().Orders, 1)

	t.Run("empty lists accept everything", func(t *testing.T) {
		e := newEnv(t, nil)
		e.terminal = otherTerminalID
		rid, a := e.pay("PAYPAY", classCode(0), 100)
		ok(t, a, rid)
		assert.Equal(t, paytree.CodeOK, a.code())
	})
}

// TestHTTPRouting: unknown paths 404, wrong methods 405.
func TestHTTPRouting(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, paths.Pay, http.StatusMethodNotAllowed},
		{http.MethodPut, paths.Confirm, http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/v2/pay", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusNotFound},
		{http.MethodPost, sim.LedgerPath, http.StatusMethodNotAllowed},
		{http.MethodGet, sim.LedgerPath, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader("{}"))
			require.NoError(t, err)
			resp, err := e.hc.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

// TestCustomPaths serves configured paths instead of the defaults.
func TestCustomPaths(t *testing.T) {
	e := newEnv(t, func(c *sim.Config) { c.Paths = sim.Paths{Pay: "/gw/pay"} })
	rid := e.id()
	a := ok(t, e.post("/gw/pay", e.payFields(rid, "PAYPAY", classCode(0), 100)), rid)
	assert.Equal(t, paytree.CodeOK, a.code())
	a = e.post(paths.Pay, e.payFields(e.id(), "PAYPAY", classCode(0), 100))
	assert.Equal(t, http.StatusNotFound, a.status)
	cid, c := e.confirm(rid, false) // default confirm path kept
	ok(t, c, cid)
	assert.Equal(t, paytree.CodeOK, c.code())
}
