// Package transport sends one signed request to the PAYTREE gateway over
// HTTP(S) and says what became of it: Answered (a verified answer), NotSent
// (provably never left the host) or Unknown (money may have moved; the engine
// must confirm). It is built on github.com/hashicorp/go-retryablehttp with a
// retry policy that never resends a request that may have reached the gateway.
//
// Wire format (contract sections 1 and 2): POST BaseURL+path, Content-Type
// "application/json; charset=utf-8", one flat JSON object of string values.
// Send adds signType=RSA and sign (SHA1withRSA over paytree.Canonical) to a
// copy of the caller's fields. An answer counts only when the status is 200,
// the body (at most paytree.MaxBodyBytes) decodes as flat JSON, its sign
// verifies with the gateway's key and its requestId echoes the request's.
//
// Retries: only a failure that provably happened before any byte of the
// request was written is retried (a dial error: connection refused, DNS
// failure, unreachable network), at most RetryMax times with exponential
// backoff on the injected clock. On the built-in network transport the proof
// is that net/http never handed a connection to the request (httptrace
// GotConn never fired); with a caller's RoundTripper it is the error itself
// (a *net.OpError with Op "dial" or a *net.DNSError). A timeout, a reset, a
// non-200 status, an unreadable or forged answer is never retried: it is
// reported Unknown. Redirects are not followed (a 307 would resend the pay).
//
// Codes (contract section 8) in Result.Code:
//
//	N0001 not sent: connect refused, DNS failure, connect or handshake timeout, cancelled before sending
//	N0002 no answer: timeout, connection closed or reset before any status, cancelled while waiting
//	N0003 HTTP status other than 200 (redirects included)
//	N0004 answer unreadable: truncated, oversized, not flat JSON, requestId empty or different
//	N0005 answer signature missing or invalid
//	N0006 TLS certificate not trusted (NotSent: the handshake fails before the request is written)
//	L0002 / L0003 the request could not be signed / encoded (NotSent; nothing was attempted)
//
// Crash points: "transport/send/before" just before the request goes out and
// "transport/receive/after" once an answer has been read, before it is
// verified. Nothing in this package survives a crash: the journal entry
// written before Send is what tells the engine to confirm.
//
// Use:
//
//	c, err := transport.New(transport.Options{BaseURL: url, Timeout: 100 * time.Second,
//		PrivateKey: priv, GatewayKey: gwPub, Logger: log})
//	defer c.Close()
//	res := c.Send(ctx, "/api/v3/pay", fields)
//	switch res.Outcome { case transport.Answered: …; case transport.NotSent: …; default: confirm }
//
// A Client is safe for concurrent use.
package transport
