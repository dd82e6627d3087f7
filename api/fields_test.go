package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/api"
	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/internal/testgw"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
)

// fieldsEnv is a simulator on loopback TLS, a live engine talking to it,
// and the local API on that engine, in this process.
type fieldsEnv struct {
	gw    *testgw.Gateway
	eng   *wbpay.Engine
	api   *httptest.Server
	token string
	n     int
}

func newFieldsEnv(t *testing.T) *fieldsEnv {
	t.Helper()
	gw, err := testgw.StartGateway(sim.Config{}, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(gw.Close)
	home := t.TempDir()
	require.NoError(t, testgw.WriteConf(home, testgw.LiveConf(gw.URL())))
	require.NoError(t, testgw.WriteKeys(home))
	eng, err := wbpay.Open(context.Background(), wbpay.WithHome(home), wbpay.WithRootCAs(gw.Pool))
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	e := &fieldsEnv{gw: gw, eng: eng, token: strings.Repeat("f", 64)}
	srv, err := api.New(api.Options{Engine: eng, Token: e.token})
	require.NoError(t, err)
	e.api = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { e.api.Close(); srv.BeginClose() })
	return e
}

// simAnswer posts fields, completed with valid common fields and signed
// with the test client key, to the simulator's path, and returns its
// answer.
func (e *fieldsEnv) simAnswer(t *testing.T, path string, op, common paytree.Fields) paytree.Fields {
	t.Helper()
	e.n++
	f := paytree.Fields{
		paytree.FMerchantID: "123456789012", paytree.FTerminalUniqueID: "1234501234561",
		paytree.FBranchCode: "B001", paytree.FTerminalCode: "T01",
		paytree.FLocale: paytree.FixedLocale, paytree.FTimeZone: paytree.FixedTimeZone,
		paytree.FCurrencyCode: paytree.FixedCurrencyCode, paytree.FAppVersion: paytree.DefaultAppVersion,
		paytree.FRequestID: fmt.Sprintf("fields%d", e.n), paytree.FRequestTime: paytree.FormatTime(time.Now()),
		paytree.FSignType: paytree.SignTypeRSA,
	}
	for _, over := range []paytree.Fields{op, common} {
		for k, v := range over {
			f[k] = v
		}
	}
	client, _ := testgw.Keys()
	sig, err := keys.Sign(client, []byte(paytree.Canonical(f)))
	require.NoError(t, err)
	f[paytree.FSign] = sig
	body, err := paytree.Encode(f)
	require.NoError(t, err)
	resp, err := e.gw.Server.Client().Post(e.gw.URL()+path, "application/json; charset=utf-8", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	a, err := paytree.Decode(raw)
	require.NoError(t, err, "%s", raw)
	return a
}

// apiAnswer posts body to the local API's /v1/<op> and returns the status
// and the error object.
func (e *fieldsEnv) apiAnswer(t *testing.T, op string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, e.api.URL+"/v1/"+op, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.api.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Error map[string]any `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out.Error
}

// engineRequest builds the engine's request of op from wire fields.
func engineRequest(t *testing.T, op paytree.Operation, f paytree.Fields) wbpay.Request {
	t.Helper()
	amount := func(name string) int64 {
		n, err := strconv.ParseInt(f[name], 10, 64)
		require.NoError(t, err)
		return n
	}
	ch := func() wbpay.Channel {
		c, ok := paytree.ChannelFromCode(f[paytree.FPayType])
		require.True(t, ok, f[paytree.FPayType])
		return c
	}
	switch op {
	case paytree.OpPay:
		return &wbpay.PayRequest{PayType: ch(), Amount: amount(paytree.FAmount), UserCode: f[paytree.FUserCode],
			ReceiptNo: f[paytree.FReceiptNo], Remark: f[paytree.FRemark]}
	case paytree.OpRefund:
		return &wbpay.RefundRequest{OrderID: f[paytree.FOrderID], RefundAmount: amount(paytree.FRefundAmount),
			RefundReason: f[paytree.FRefundReason], Remark: f[paytree.FRemark]}
	case paytree.OpReverse:
		return &wbpay.ReverseRequest{OrderID: f[paytree.FOrderID]}
	case paytree.OpDeposit:
		return &wbpay.DepositRequest{PayType: ch(), ValueType: paytree.ValueType(f[paytree.FValueType]),
			Amount: amount(paytree.FAmount), UserCode: f[paytree.FUserCode], ReceiptNo: f[paytree.FReceiptNo]}
	}
	t.Fatalf("no request for %s", op)
	return nil
}

// apiBody is the local API's body of wire fields f (amounts as JSON
// integers).
func apiBody(f paytree.Fields) map[string]any {
	out := map[string]any{}
	for k, v := range f {
		if k == paytree.FAmount || k == paytree.FRefundAmount {
			out[k] = json.Number(v)
			continue
		}
		out[k] = v
	}
	return out
}

// TestOneRuleEveryUser: the same bad value of an operation's field is
// refused by the engine (L0003 naming the request field), the simulator
// (E1001 naming the wire field) and the local API (400 L0003 with the
// field), each with the problem of paytree's table; nothing is sent.
func TestOneRuleEveryUser(t *testing.T) {
	e := newFieldsEnv(t)
	paths := sim.DefaultPaths()
	order := "PT" + strings.Repeat("0", 29) + "1" // 32 characters
	good := map[paytree.Operation]paytree.Fields{
		paytree.OpPay:     {paytree.FPayType: "PAYPAY", paytree.FAmount: "100", paytree.FUserCode: "281234567890123456"},
		paytree.OpRefund:  {paytree.FOrderID: order, paytree.FRefundAmount: "10"},
		paytree.OpReverse: {paytree.FOrderID: order},
		paytree.OpDeposit: {paytree.FPayType: "LINE", paytree.FValueType: "BASIC", paytree.FAmount: "100", paytree.FUserCode: "3612345678"},
	}
	simPath := map[paytree.Operation]string{paytree.OpPay: paths.Pay, paytree.OpRefund: paths.Refund,
		paytree.OpReverse: paths.Reverse, paytree.OpDeposit: paths.Deposit}
	cases := []struct {
		op           paytree.Operation
		field, value string
		engineName   string // the request field L0003 names
	}{
		{paytree.OpPay, paytree.FUserCode, strings.Repeat("2", 513), "UserCode"},
		{paytree.OpPay, paytree.FRemark, strings.Repeat("メ", 129), "Remark"},
		{paytree.OpPay, paytree.FReceiptNo, strings.Repeat("r", 33), "ReceiptNo"},
		{paytree.OpPay, paytree.FAmount, "0", "Amount"},
		{paytree.OpPay, paytree.FAmount, "1000000000000000", "Amount"},
		{paytree.OpPay, paytree.FPayType, "JCB_ALIPAY", "PayType"},
		{paytree.OpRefund, paytree.FOrderID, strings.Repeat("o", 33), "OrderID"},
		{paytree.OpRefund, paytree.FRefundAmount, "0", "RefundAmount"},
		{paytree.OpRefund, paytree.FRefundReason, strings.Repeat("理", 257), "RefundReason"},
		{paytree.OpRefund, paytree.FRemark, strings.Repeat("x", 257), "Remark"},
		{paytree.OpReverse, paytree.FOrderID, strings.Repeat("1", 33), "OrderID"},
		{paytree.OpDeposit, paytree.FUserCode, strings.Repeat("3", 33), "UserCode"},
		{paytree.OpDeposit, paytree.FValueType, "BONUS", "ValueType"},
		{paytree.OpDeposit, paytree.FReceiptNo, strings.Repeat("r", 33), "ReceiptNo"},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s %s %.12s", c.op, c.field, c.value)
		t.Run(name, func(t *testing.T) {
			table, ok := paytree.RequestTable(c.op, false)
			require.True(t, ok)
			rule, ok := table.Rule(c.field)
			require.True(t, ok)
			verdict := rule.Check(c.value)
			require.NotNil(t, verdict, "the table refuses %q", c.value)
			f := good[c.op].Clone()
			f[c.field] = c.value

			_, err := e.eng.Submit(engineRequest(t, c.op, f))
			var we *wbpay.Error
			require.ErrorAs(t, err, &we)
			assert.Equal(t, paytree.L0003, we.Code)
			assert.Contains(t, we.Message, c.engineName)
			assert.Contains(t, we.Message, verdict.Problem)

			a := e.simAnswer(t, simPath[c.op], f, nil)
			assert.Equal(t, paytree.E1001, a[paytree.FErrorCode])
			assert.Equal(t, "invalid "+c.field+": "+verdict.Problem, a[paytree.FErrorMessage])

			status, eo := e.apiAnswer(t, c.op.String(), apiBody(f))
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, paytree.L0003, eo["code"])
			assert.Equal(t, c.field, eo["field"])
			assert.Contains(t, eo["message"], verdict.Problem)
		})
	}
	l := e.gw.Sim.Ledger()
	assert.Empty(t, l.Orders)
	assert.Len(t, l.Requests, len(cases), "only the test's own posts reached the simulator: the engine and the API sent nothing")
}

// TestOneRuleConfigAndSim: a bad value of a configuration key that goes on
// the wire is refused by the configuration, naming its file, line and key,
// and by the simulator (E1001 naming the wire field), with the same
// problem from paytree's table.
func TestOneRuleConfigAndSim(t *testing.T) {
	e := newFieldsEnv(t)
	cases := []struct{ key, field, value string }{
		{"MerchantId", paytree.FMerchantID, "12345678901"},
		{"TerminalUniquId", paytree.FTerminalUniqueID, "1234511234561"},
		{"TerminalUniquId", paytree.FTerminalUniqueID, "12345-0123456"},
		{"BranchCode", paytree.FBranchCode, "B-01"},
		{"TerminalCode", paytree.FTerminalCode, strings.Repeat("T", 33)},
		{"Locale", paytree.FLocale, "US"},
		{"CurrencyCode", paytree.FCurrencyCode, "JAPANESEYEN"},
		{"AppVersion", paytree.FAppVersion, "windows WbCPSPay"},
	}
	for _, c := range cases {
		t.Run(c.key+" "+c.value, func(t *testing.T) {
			rule, ok := paytree.CommonRule(c.field)
			require.True(t, ok)
			verdict := rule.Check(c.value)
			require.NotNil(t, verdict)

			home := t.TempDir()
			require.NoError(t, testgw.WriteConf(home, testgw.Merge(testgw.TestModeConf(), map[string]string{c.key: c.value})))
			path := filepath.Join(home, "WbCPSPay.conf")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			line := 0
			for i, l := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(l, c.key+" = ") {
					line = i + 1
				}
			}
			require.NotZero(t, line)
			_, err = config.Load(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("%s:%d: %s: %s, got %q", path, line, c.key, verdict.Problem, c.value))

			a := e.simAnswer(t, sim.DefaultPaths().Pay,
				paytree.Fields{paytree.FPayType: "PAYPAY", paytree.FAmount: "100", paytree.FUserCode: "281234567890123456"},
				paytree.Fields{c.field: c.value})
			assert.Equal(t, paytree.E1001, a[paytree.FErrorCode])
			assert.Equal(t, "invalid "+c.field+": "+verdict.Problem, a[paytree.FErrorMessage])
		})
	}
}
