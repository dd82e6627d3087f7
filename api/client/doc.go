// Package client is a Go client of the local API of wbpay-engine serve
// (docs/api/openapi.yaml): it finds the daemon of a home (serve.json and
// serve.token), sends request methods, follows /v1/events and reads the
// audit routes. The CLI uses it to go through a running daemon instead of
// failing with L0006. It keeps no state: after a crash of either side,
// reconnect and resume the event stream with the last event id seen.
package client
