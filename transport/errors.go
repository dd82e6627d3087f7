package transport

import "errors"

// ErrOptions is returned (wrapped, naming the option) by New when an option
// is missing or invalid.
var ErrOptions = errors.New("transport: invalid options")

// ErrRequest is wrapped in Result.Err (outcome NotSent, code L0003 or L0002)
// when the path or the fields cannot be sent at all: bad path, invalid
// requestId or field name, body too large, signing failure.
var ErrRequest = errors.New("transport: invalid request")

// ErrNotSent is wrapped in Result.Err (code N0001) when the request provably
// never left the host.
var ErrNotSent = errors.New("transport: request not sent")

// ErrNoAnswer is wrapped in Result.Err (code N0002) when the request may have
// been sent but no answer arrived: timeout, connection closed, cancellation.
var ErrNoAnswer = errors.New("transport: no answer")

// ErrHTTPStatus is wrapped in Result.Err (code N0003) when the gateway
// answered with a status other than 200.
var ErrHTTPStatus = errors.New("transport: HTTP status not 200")

// ErrUnreadable is wrapped in Result.Err (code N0004) when the answer is
// truncated, oversized, not flat JSON, or its requestId is empty or wrong.
var ErrUnreadable = errors.New("transport: answer unreadable")

// ErrSignature is wrapped in Result.Err (code N0005) when the answer's sign
// is missing or does not verify with the gateway's key.
var ErrSignature = errors.New("transport: answer signature invalid")

// ErrCertificate is wrapped in Result.Err (code N0006) when the gateway's
// TLS certificate is not trusted.
var ErrCertificate = errors.New("transport: TLS certificate not trusted")
