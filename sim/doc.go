// Package sim is the PAYTREE simulator: a stand-in for the gateway that
// implements the whole wire contract (shared/spec/paytree-wire-contract.md)
// as a server. It serves the contract's paths over HTTP (Sim is an
// http.Handler) and in process (Sim.RoundTripper), through the same code, so
// the engine's test mode exercises the production path. It imports only the
// wire vocabulary (paytree), keys and internal/atomicfile; it never imports
// the engine.
//
// # What survives
//
// Without Config.Store, nothing: the history (orders, recorded requests,
// tombstones) lives in memory as long as the Sim does, and a simulator
// started afresh forgets every order, so a later confirm of an old request
// answers E3001.
//
// With Config.Store (wbpay-engine sim --store FILE), the history is kept in
// that file, a JSON document with a "version" (StoreVersion): every order
// with its status, refundedTotal and pending approval or settle (a WAITING
// pay still settles after a restart, at the time set when it was made);
// every recorded request with its normalized fields, its first answer, its
// count and the order it refers to, so a resend after a restart still gets
// the first answer and other content still gets E3005; and every tombstone.
// New loads it (a missing file is an empty history and is created at once);
// every request that changed the history rewrites it atomically (temporary
// file, fsync, rename, fsync of the directory) before its answer is sent or
// lost on purpose, so an answer that a client saw is never forgotten. A file
// that cannot be read, is not JSON, is truncated, is of another version or
// is inconsistent makes New fail with an error wrapping ErrStore that names
// it, and is left untouched. If a write fails, the request, processed in
// memory, is answered HTTP 500 (outcome unknown: confirm). The fault rules,
// their firing counts and the generator are not kept. Order ids are random
// and checked against every order held, restored ones included.
//
// # Requests
//
// Every API request must be a POST of one flat JSON object (paytree.Decode)
// to a known path; other methods get HTTP 405, unknown paths 404. Checks, in
// order, each answered with a signed message whose resultCode equals the
// errorCode and whose requestId echoes the request's:
//
//   - unparseable body: E1001 with an empty requestId (not recorded);
//   - signature (SHA1withRSA with Config.ClientPublicKey): E1002 (not recorded);
//   - faults acting before processing (500-before, e9002, delay-before);
//   - idempotency on (terminalUniqueId, requestId): the same operation and
//     path with the same fields (sign and requestTime excepted, empty values
//     ignored) gets the first answer again with a fresh responseTime and
//     signature; other content gets E3005 (not recorded);
//   - common fields, by paytree.CommonRules (the one table the engine, the
//     config and the daemon check too): merchantId 12 digits,
//     terminalUniqueId 13 [0-9A-Za-z] with "0" as 6th character,
//     branchCode/terminalCode 1–32 [0-9A-Za-z], requestId, requestTime
//     yyyyMMddHHmmss, signType RSA, locale JAPAN, timeZone p9, currencyCode
//     JPY, appVersion 1–64 printable ASCII without spaces: E1001 with an
//     errorMessage "invalid <field>: <rule broken>";
//   - registration: E1003 when Config.Merchants is not empty and does not
//     hold the merchantId, or Config.Terminals is not empty and does not hold
//     the terminalUniqueId (empty lists register everything);
//   - the operation's own fields (contract section 4, paytree.RequestTable):
//     E1001 naming the field.
//
// Answers that were processed, including refusals (E1001, E1003, E2xxx,
// E3001–E3004, E3006), are recorded under their key; the ledger's Request
// counts how many times each key was received. A request without a usable
// key (a malformed terminalUniqueId or requestId) gets its E1001 unrecorded.
//
// # Operations and test classes
//
// pay: on the V3 path payType must be a channel code (not JCB_ALIPAY); the V1
// path auto-detects the channel from the userCode prefix (28 PAYPAY, 36
// LINE, 31 RAKUTEN, 22 DPAY, 27 AUPAY, 29 MERPAY, else E2001). The class is
// Config.Classes.Pay, or on V3 the digit N of a userCode "99" + 15 zeros + N
// (N = 8 or 9: E2001). Class 0 PAID; 1 WAITING, PAID ApproveAfter later; 2
// PAID but every answer about it lost for ever (its resends and each confirm
// of it; a reverse of it is answered); 3 E2001; 4 E2002; 5 E2003; 6
// WAITING, CANCELLED ApproveAfter later; 7 WAITING, EXPIRED ApprovalTimeout
// later. Refusals create no order. Order ids are 32 characters.
//
// refund: the order must be the terminal's (else E3001); a deposit E3006; a
// REVERSED order E3004; any other status than PAID or PARTIALLY_REFUNDED,
// or more than amount − refundedTotal, E3002. Class 1 processes a refund and
// loses its first answer; a resend with the same requestId gets the stored
// answer.
//
// reverse (by orderId or targetRequestId, exactly one): WAITING, PROCESSING,
// PAID and DEPOSITED orders are reversed (PAID/DEPOSITED only within
// ReverseWindow of the pay, else E3003); REFUNDED and PARTIALLY_REFUNDED
// E3003. Nothing held (FAILED, CANCELLED, EXPIRED, REVERSED, a refused pay)
// answers success with amount 0. A targetRequestId never received answers
// success with amount 0 and an empty orderId, and leaves a tombstone: a pay
// or deposit with that requestId arriving later gets E3004 and takes no
// money.
//
// confirm: the target (pay, refund, reverse or deposit of the same terminal)
// unknown: E3001. A V1 pay is confirmed on the ConfirmV1 path, everything
// else on the Confirm path; the wrong path gets E1001. A refused target
// answers 0000 with targetResultCode = its code (plus orderId/transStatus
// when an order exists); a processed one answers 0000, targetResultCode 0000
// and the operation's fields with the order's current transStatus; an
// accepted pay or deposit that then ended without money reports the reason
// as targetResultCode beside its transStatus: FAILED (4) E2006, CANCELLED
// (5) E2004, EXPIRED (6) E2005. Approval timers and settles are evaluated lazily against
// Config.Clock on every access, so a fake clock drives them.
//
// deposit: payType LINE only (another channel E3006), valueType BASIC
// (BONUS, COUPON, POINT: E1001), userCode 1–32; DEPOSITED (10).
//
// # Faults
//
// Config.Faults (or SetFaults) inject the faults of contract section 10,
// drawn from a math/rand generator seeded with Config.Seed so a run replays.
// The CLI syntax, read by ParseFaults, is a comma-separated list of
// KIND:OP[:OPTION...]:
//
//	KIND    lost, hold, delay-before, delay-after, 500-before, 500-after,
//	        bad-sign, e9001, e9002, extra-field, processing
//	OP      pay, refund, reverse, deposit, confirm, or any
//	OPTION  p=FLOAT     fire with this probability (0 < p <= 1)
//	        count=N     fire at most N times (alone: the next N matching requests)
//	        delay=DUR   delay-before/delay-after: the wait (required);
//	                    hold: the longest hold, then the answer is lost
//	        settle=DUR  processing: confirms answer 3 for this long (default 0)
//	        fail        processing: settle FAILED (E2006) instead of PAID
//
// for example "lost:pay:count=1,500-after:refund:p=0.3,processing:pay:settle=5s:fail".
// Without p and count a rule fires on every matching request. A lost answer
// closes the connection (over HTTP by hijacking it; in process the
// RoundTripper returns an error wrapping ErrAnswerLost). A client that gives
// up during delay-before leaves the request unprocessed. E9001, 500-after,
// bad-sign and extra-field record the real answer, so a resend with the same
// requestId gets it. Config.Delay (TestSequenceDelay) waits before every
// answer.
//
// # Use
//
//	s, err := sim.New(sim.Config{PrivateKey: gwKey, ClientPublicKey: &clientKey.PublicKey})
//	srv := httptest.NewServer(s)           // over HTTP, or:
//	hc := &http.Client{Transport: s.RoundTripper()}
//	…
//	l := s.Ledger()                        // also GET /_sim/ledger
//	o, ok := l.OrderByRequestID(payID)
package sim
