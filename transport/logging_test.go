package transport

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/wbpay/wbpay/paytree"
)

// flatten renders an entry (message and every field, nested ones included)
// as one string to search for what must never be logged.
func flatten(e observer.LoggedEntry) string {
	return e.Message + " " + fmt.Sprint(e.ContextMap())
}

// TestLogExchanges: with LogExchanges every exchange is logged at Debug with
// method, path, status and the fields, but no line ever holds the full
// userCode or a signature.
func TestLogExchanges(t *testing.T) {
	g := newGateway(t, func(t testing.TB, w http.ResponseWriter, r *http.Request, req paytree.Fields) {
		if r.URL.Path == "/api/v3/fail" {
			reply(t, w, 500, paidAnswer(req, paytree.Fields{paytree.FUserCode: req[paytree.FUserCode]}))
			return
		}
		// An answer that (unusually) echoes the userCode: it is masked too.
		reply(t, w, 200, signed(t, gatewayKey, paidAnswer(req, paytree.Fields{paytree.FUserCode: req[paytree.FUserCode]})))
	})
	core, logs := observer.New(zapcore.DebugLevel)
	c := clientFor(t, g, func(o *Options) {
		o.Logger = zap.New(core)
		o.LogExchanges = true
	})

	ok := c.Send(context.Background(), payPath, payRequest(t))
	require.Equal(t, Answered, ok.Outcome, "detail %q", ok.Detail)
	reqSign := g.lastRequest()[paytree.FSign]
	ansSign := ok.Fields[paytree.FSign]
	require.NotEmpty(t, reqSign)
	require.NotEmpty(t, ansSign)
	bad := c.Send(context.Background(), "/api/v3/fail", payRequest(t))
	require.Equal(t, Unknown, bad.Outcome)

	all := logs.All()
	require.NotEmpty(t, all)
	for _, e := range all {
		s := flatten(e)
		assert.NotContains(t, s, testUserCode, "full userCode in %q", e.Message)
		assert.NotContains(t, s, reqSign, "request sign in %q", e.Message)
		assert.NotContains(t, s, ansSign, "answer sign in %q", e.Message)
		assert.NotContains(t, s, "sign:", "a sign field in %q", e.Message)
	}

	ex := logs.FilterMessage("gateway exchange").All()
	require.Len(t, ex, 2, "one exchange line per Send")
	first := ex[0]
	assert.Equal(t, zapcore.DebugLevel, first.Level)
	m := first.ContextMap()
	assert.Equal(t, "POST", m["method"])
	assert.Equal(t, payPath, m["path"])
	assert.EqualValues(t, 200, m["http-status"])
	assert.Contains(t, m, "duration")
	reqLog, okCast := m["request"].(map[string]interface{})
	require.True(t, okCast, "request fields logged as an object")
	assert.Equal(t, testUserCodeMasked, reqLog[paytree.FUserCode])
	assert.Equal(t, "1000", reqLog[paytree.FAmount])
	assert.Equal(t, paytree.SignTypeRSA, reqLog[paytree.FSignType])
	assert.NotContains(t, reqLog, paytree.FSign)
	ansLog, okCast := m["answer"].(map[string]interface{})
	require.True(t, okCast, "answer fields logged as an object")
	assert.Equal(t, testUserCodeMasked, ansLog[paytree.FUserCode])
	assert.NotContains(t, ansLog, paytree.FSign)

	second := ex[1].ContextMap()
	assert.EqualValues(t, 500, second["http-status"])
	assert.Equal(t, paytree.N0003, second["code"])

	failed := logs.FilterMessage("gateway exchange failed").All()
	require.Len(t, failed, 1, "the failed exchange is reported at Warn")
	assert.Equal(t, zapcore.WarnLevel, failed[0].Level)
	assert.Equal(t, paytree.N0003, failed[0].ContextMap()["code"])

	// retryablehttp's own lines come through the zap adapter, at Debug.
	rh := logs.FilterField(zap.String("retryablehttp-level", "debug")).All()
	assert.NotEmpty(t, rh, "retryablehttp logs through zap")
	for _, e := range rh {
		assert.Equal(t, zapcore.DebugLevel, e.Level)
	}
}

// TestNoExchangeLogByDefault: without LogExchanges no fields are logged.
func TestNoExchangeLogByDefault(t *testing.T) {
	g := newGateway(t, signedAnswer(nil))
	core, logs := observer.New(zapcore.DebugLevel)
	c := clientFor(t, g, func(o *Options) { o.Logger = zap.New(core) })
	res := c.Send(context.Background(), payPath, payRequest(t))
	require.Equal(t, Answered, res.Outcome)
	assert.Empty(t, logs.FilterMessage("gateway exchange").All())
	for _, e := range logs.All() {
		assert.NotContains(t, flatten(e), "userCode")
	}
}

func TestMaskUserCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"1", "*"},
		{"123456", "******"},
		{"1234567", "12*4567"},
		{testUserCode, testUserCodeMasked},
		{"あいうえおかきくけこ", "あい****きくけこ"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := MaskUserCode(tt.in)
			assert.Equal(t, tt.want, got)
			if tt.in != "" {
				assert.NotContains(t, got, tt.in, "the mask leaks the code")
			}
			assert.Equal(t, len([]rune(tt.in)), len([]rune(got)), "the mask keeps the length")
		})
	}
}
