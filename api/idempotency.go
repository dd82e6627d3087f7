package api

import (
	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
)

// withKey puts the Idempotency-Key into req; the engine keeps it in the
// journal (it survives restarts) and answers a repeated key itself.
func withKey(req wbpay.Request, key string) wbpay.Request {
	switch r := req.(type) {
	case *wbpay.PayRequest:
		r.IdempotencyKey = key
	case *wbpay.RefundRequest:
		r.IdempotencyKey = key
	case *wbpay.ReverseRequest:
		r.IdempotencyKey = key
	case *wbpay.DepositRequest:
		r.IdempotencyKey = key
	}
	return req
}

// txnKey returns the Idempotency-Key a transaction was started with.
func txnKey(t *journal.Txn) string { return t.IdempotencyKey }

// replayed reports whether Submit found the key's transaction instead of
// starting one (answered 200, not 202).
func replayed(t wbpay.Ticket) bool { return t.Replayed }
