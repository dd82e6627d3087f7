// Package api is the local API of wbpay-engine serve (the daemon), as
// fixed by the shared spec local-api.md and described in
// docs/api/openapi.yaml: HTTP/1.1 and JSON on a loopback address, so that a
// POS written in any language can pay, refund, reverse and deposit, follow
// each outcome as Server-Sent Events and audit the journal while the daemon
// holds the home.
//
// The store-day routes (storeday.go) serve the engine's Report, Receipt,
// PrintReceipt (with package slip's layout) and Resolve; their report and
// receipt objects are the engine's own JSON forms, so the CLI prints the
// same through the daemon as without it.
//
// The server drives the root Engine only through its public API (Submit,
// PayConfirm, StreamAfter/StreamChanged, Journal reads, Report, Receipt,
// PrintReceipt, Resolve); it never writes
// the journal itself and keeps no state of its own that a crash could lose:
//
//   - A request method answers once the engine has journaled the first
//     step (202 + Location); nothing was sent when it answers an error.
//   - /v1/events is the engine's durable stream: event ids are
//     Seq<<3 | i of the journal entry that carries the event, so they
//     increase, are never reused and are the same after a restart. A
//     client reconnecting with Last-Event-ID (or ?after=) first gets every
//     event after that id from the journal, then live ones, with no gap
//     and no duplicate. One goroutine follows the stream and fans the
//     events out through bounded per-client buffers: a client that stops
//     reading is dropped, the engine never waits for a client.
//   - serve.json (url, pid, startedAt) and serve.token (64 hex digits) are
//     written atomically with mode 0600 in the home (package layout);
//     the token is compared in constant time and never logged.
//
// Security: Listen accepts loopback addresses only; every request needs
// "Authorization: Bearer TOKEN" (401 L0011), a Host naming a loopback
// address or localhost and no Origin header (403 L0011). Request bodies
// are limited to MaxBodyBytes and never logged (a pay's body carries the
// customer's full userCode); answers and events carry only its masked form.
//
// Use:
//
//	srv, err := api.New(api.Options{Engine: eng, Token: tok})
//	http.Serve(ln, srv.Handler())
//	…
//	srv.BeginClose() // then eng.Close()
package api
