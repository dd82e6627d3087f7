package transport

import (
	"net/http"
	"sort"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wbpay/wbpay/paytree"
)

// report logs one Send: every exchange at Debug with its fields when
// LogExchanges is set, and every outcome other than Answered at Warn.
func (c *Client) report(path string, req, wire, answer paytree.Fields, res Result) {
	if c.logExchanges {
		sent := wire
		if sent == nil {
			sent = req
		}
		fs := []zap.Field{
			zap.String("method", http.MethodPost),
			zap.String("path", path),
			zap.Int("http-status", res.HTTPStatus),
			zap.Duration("duration", res.Duration),
			zap.Int("attempts", res.Attempts),
			zap.Stringer("outcome", res.Outcome),
			zap.Object("request", logFields(sent)),
		}
		if answer != nil {
			fs = append(fs, zap.Object("answer", logFields(answer)))
		}
		if res.Code != "" {
			fs = append(fs, zap.String("code", res.Code), zap.String("detail", res.Detail))
		}
		c.log.Debug("gateway exchange", fs...)
	}
	if res.Outcome != Answered {
		c.log.Warn("gateway exchange failed",
			zap.String("path", path),
			zap.String("request-id", req[paytree.FRequestID]),
			zap.Stringer("outcome", res.Outcome),
			zap.String("code", res.Code),
			zap.String("detail", res.Detail),
			zap.Int("attempts", res.Attempts),
			zap.Duration("duration", res.Duration),
			zap.Error(res.Err))
	}
}

// logFields marshals wire fields for a log line in key order, with userCode
// masked and sign left out.
type logFields paytree.Fields

// MarshalLogObject implements zapcore.ObjectMarshaler.
func (f logFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	keys := make([]string, 0, len(f))
	for k := range f {
		if k != paytree.FSign {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := f[k]
		if k == paytree.FUserCode {
			v = MaskUserCode(v)
		}
		enc.AddString(k, v)
	}
	return nil
}

// MaskUserCode keeps the first 2 and the last 4 characters of a customer's
// userCode and stars the rest; a code of 6 characters or fewer is starred
// whole, so no log line ever holds a full code.
func MaskUserCode(s string) string {
	r := []rune(s)
	if len(r) <= 6 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-6) + string(r[len(r)-4:])
}

// leveledLogger adapts zap to retryablehttp.LeveledLogger (its default writes
// to stderr). retryablehttp logs each attempt ("performing request", "request
// failed", "retrying request"); the transport reports each exchange's outcome
// itself, so these per-attempt lines all go to Debug, with their original
// level kept as a field.
type leveledLogger struct{ s *zap.SugaredLogger }

func (l leveledLogger) Error(msg string, kv ...interface{}) { l.log("error", msg, kv) }
func (l leveledLogger) Warn(msg string, kv ...interface{})  { l.log("warn", msg, kv) }
func (l leveledLogger) Info(msg string, kv ...interface{})  { l.log("info", msg, kv) }
func (l leveledLogger) Debug(msg string, kv ...interface{}) { l.log("debug", msg, kv) }

func (l leveledLogger) log(level, msg string, kv []interface{}) {
	l.s.Debugw(msg, append([]interface{}{"retryablehttp-level", level}, kv...)...)
}

// leveledLogger must satisfy retryablehttp, or it would panic on first use.
var _ retryablehttp.LeveledLogger = leveledLogger{}
