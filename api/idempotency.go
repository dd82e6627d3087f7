package api

import (
	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/journal"
)

// withKey puts the Idempotency-Key into req. The engine keeps it in the
// journal; until its request structs carry the key (the lead's change on
// main), a request with a key is refused by the server (see keySupported).
func withKey(req wbpay.Request, key string) wbpay.Request {
	_ = key
	return req
}

// keySupported reports whether the engine journals Idempotency-Keys.
const keySupported = false

// txnKey returns the Idempotency-Key a transaction was started with.
func txnKey(t *journal.Txn) string {
	_ = t
	return ""
}

// replayed reports whether Submit found the key's transaction instead of
// starting one (answered 200, not 202).
func replayed(t wbpay.Ticket) bool {
	_ = t
	return false
}

// byKey returns the transactions started with key (the list filter).
func byKey(eng *wbpay.Engine, key string) ([]*journal.Txn, error) {
	_, _ = eng, key
	return nil, nil
}
