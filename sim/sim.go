package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/paytree"
)

// Sim is the simulated PAYTREE gateway. It is an http.Handler (ServeHTTP)
// and, through RoundTripper, an in-process http.RoundTripper; both run the
// same code. It is safe for concurrent use: one mutex guards its state, and
// no lock is held while a request waits (delays, holds) or is signed. With
// Config.Store, the history is serialized under that mutex and written
// under a second one, newest snapshot last.
type Sim struct {
	cfg       Config
	routes    map[string]route
	clock     clockwork.Clock
	log       *zap.Logger
	merchants map[string]bool
	terminals map[string]bool

	mu         sync.Mutex
	classes    Classes
	faults     []*faultState
	rng        *rand.Rand
	records    map[reqKey]*record
	recordList []*record
	orders     map[string]*order
	orderList  []*order
	tombstones map[reqKey]bool
	gen        uint64 // counts the snapshots staged for the store

	saveMu   sync.Mutex // orders the writes of the store
	savedGen uint64     // the latest snapshot written (under saveMu)
}

// reqKey is the idempotency key of contract section 3.
type reqKey struct{ terminal, requestID string }

// record is one recorded request and its first answer.
type record struct {
	key             reqKey
	rt              route
	fields          paytree.Fields // the request without sign, requestTime and empty values
	answer          paytree.Fields // the first answer, unsigned, without responseTime
	count           int
	lostForever     bool   // pay class 2 and every confirm of it: no answer ever reaches the client
	loseFirst       bool   // refund class 1: the first answer is lost
	order           *order // created (pay, deposit) or acted on (refund, reverse)
	targetRequestID string
	amount          int64  // requested (pay, deposit, refund) or returned (reverse)
	transTime       string // refund and reverse: when it took effect
}

// order is one accepted pay or deposit.
type order struct {
	id, requestID, terminal string
	op                      paytree.Operation
	payType                 string
	amount, refunded        int64
	status                  paytree.TransStatus
	settleAt                time.Time           // WAITING/PROCESSING: when settleTo takes over (zero: never)
	settleTo                paytree.TransStatus // the status after settleAt
	createdAt               time.Time
	transTime               string
}

// current returns o's status at now, applying a due approval or settle.
func (o *order) current(now time.Time) paytree.TransStatus {
	if (o.status == paytree.StatusWaiting || o.status == paytree.StatusProcessing) &&
		!o.settleAt.IsZero() && !now.Before(o.settleAt) {
		o.status = o.settleTo
		o.settleAt = time.Time{}
	}
	return o.status
}

// New returns a simulator for cfg, or an error wrapping ErrConfig. With
// cfg.Store set it first loads the history kept there (see Config.Store);
// a file it cannot use is an error wrapping ErrStore.
func New(cfg Config) (*Sim, error) {
	cfg, routes, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:        cfg,
		routes:     routes,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		merchants:  set(cfg.Merchants),
		terminals:  set(cfg.Terminals),
		classes:    cfg.Classes,
		rng:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		records:    map[reqKey]*record{},
		orders:     map[string]*order{},
		tombstones: map[reqKey]bool{},
	}
	s.faults = states(cfg.Faults)
	if cfg.Store != "" {
		if err := s.openStore(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func set(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}

func states(faults []Fault) []*faultState {
	out := make([]*faultState, 0, len(faults))
	for _, f := range faults {
		out = append(out, &faultState{Fault: f})
	}
	return out
}

// SetFaults replaces the fault rules at run time, with fresh firing counts.
// Invalid rules are dropped (and logged).
func (s *Sim) SetFaults(f []Fault) {
	valid := make([]Fault, 0, len(f))
	for i, ff := range f {
		if err := ff.validate(); err != nil {
			s.log.Warn("sim: fault dropped", zap.Int("index", i), zap.Error(err))
			continue
		}
		valid = append(valid, ff)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = states(valid)
}

// SetClasses replaces the test classes at run time. A pay class outside 0–7
// answers E2001 (like the override codes 99…8 and 99…9); a refund class
// other than 1 behaves as 0.
func (s *Sim) SetClasses(c Classes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.classes = c
}

// Ledger returns a snapshot of the orders and recorded requests.
func (s *Sim) Ledger() Ledger {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	l := Ledger{Orders: make([]Order, 0, len(s.orderList)), Requests: make([]Request, 0, len(s.recordList))}
	for _, o := range s.orderList {
		l.Orders = append(l.Orders, Order{
			OrderID: o.id, RequestID: o.requestID, Operation: o.op.String(), PayType: o.payType,
			Amount: o.amount, TransStatus: int(o.current(now)), RefundedTotal: o.refunded, CreatedAt: o.createdAt,
		})
	}
	for _, r := range s.recordList {
		q := Request{
			RequestID: r.key.requestID, Operation: r.rt.op.String(), ResultCode: r.answer[paytree.FResultCode],
			TargetRequestID: r.targetRequestID, Amount: r.amount, Count: r.count,
		}
		if r.order != nil {
			q.OrderID = r.order.id
		}
		l.Requests = append(l.Requests, q)
	}
	return l
}

// reply is what the simulator sends back. A non-nil drop means: close the
// connection without an answer; the RoundTripper returns drop as its error.
type reply struct {
	status int
	header http.Header
	body   []byte
	drop   error
}

func textReply(status int, msg string) reply {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	return reply{status: status, header: h, body: []byte(msg + "\n")}
}

// dropReply closes the connection without an answer; a nil err means the
// answer was lost on purpose (ErrAnswerLost).
func dropReply(err error) reply {
	if err == nil {
		err = fmt.Errorf("%w: %w", ErrAnswerLost, io.ErrUnexpectedEOF)
	}
	return reply{drop: err}
}

// ServeHTTP serves the contract's API paths (POST) and GET /_sim/ledger.
// A lost answer closes the connection (http.Hijacker), or aborts the
// handler with http.ErrAbortHandler when the writer cannot be hijacked.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, paytree.MaxBodyBytes+1))
	if err != nil {
		s.log.Debug("sim: request body unreadable", zap.Error(err))
		abort(w)
		return
	}
	rep := s.handle(r.Context(), r.Method, r.URL.Path, body)
	if rep.drop != nil {
		abort(w)
		return
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// abort closes the client's connection without writing an answer.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// RoundTripper returns an http.RoundTripper that calls the simulator in
// process, without a socket; any URL host is accepted. A lost answer is an
// error wrapping ErrAnswerLost returned after processing; a held answer
// blocks until the request's context is done and returns its error.
func (s *Sim) RoundTripper() http.RoundTripper { return roundTripper{s} }

type roundTripper struct{ s *Sim }

// RoundTrip implements http.RoundTripper.
func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, paytree.MaxBodyBytes+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sim: read request body: %w", err)
		}
		body = b
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rep := rt.s.handle(req.Context(), req.Method, req.URL.Path, body)
	if rep.drop != nil {
		return nil, rep.drop
	}
	rep.header.Set("Content-Length", strconv.Itoa(len(rep.body)))
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rep.status, http.StatusText(rep.status)),
		StatusCode:    rep.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rep.header,
		Body:          io.NopCloser(bytes.NewReader(rep.body)),
		ContentLength: int64(len(rep.body)),
		Request:       req,
	}, nil
}

// handle routes one request; both ServeHTTP and the RoundTripper call it.
func (s *Sim) handle(ctx context.Context, method, path string, body []byte) reply {
	if path == LedgerPath {
		if method != http.MethodGet {
			rep := textReply(http.StatusMethodNotAllowed, "method not allowed: use GET")
			rep.header.Set("Allow", http.MethodGet)
			return rep
		}
		b, err := json.MarshalIndent(s.Ledger(), "", "  ")
		if err != nil {
			return textReply(http.StatusInternalServerError, "ledger: "+err.Error())
		}
		h := http.Header{}
		h.Set("Content-Type", "application/json; charset=utf-8")
		return reply{status: http.StatusOK, header: h, body: append(b, '\n')}
	}
	rt, ok := s.routes[path]
	if !ok {
		return textReply(http.StatusNotFound, "not found: "+path)
	}
	if method != http.MethodPost {
		rep := textReply(http.StatusMethodNotAllowed, "method not allowed: use POST")
		rep.header.Set("Allow", http.MethodPost)
		return rep
	}
	rep := s.serveOp(ctx, rt, body)
	if rep.drop == nil && s.cfg.Delay > 0 && !s.wait(ctx, s.cfg.Delay) {
		return dropReply(ctx.Err())
	}
	return rep
}

// serveOp answers one API request: parse, verify, faults before, process,
// faults after, sign.
func (s *Sim) serveOp(ctx context.Context, rt route, body []byte) reply {
	f, err := paytree.Decode(body)
	if err != nil {
		s.log.Info("sim: unparseable request", zap.Stringer("op", rt.op), zap.Error(err))
		return s.sign(errFields("", paytree.E1001, "", "unparseable request: "+err.Error()), false)
	}
	rid := f[paytree.FRequestID]
	if err := keys.Verify(s.cfg.ClientPublicKey, []byte(paytree.Canonical(f)), f[paytree.FSign]); err != nil {
		s.log.Info("sim: bad request signature", zap.Stringer("op", rt.op), zap.String("request-id", rid), zap.Error(err))
		return s.sign(errFields(rid, paytree.E1002, "", "request signature invalid: "+err.Error()), false)
	}

	s.mu.Lock()
	before := s.pick(rt.op, phaseBefore)
	s.mu.Unlock()
	if before.answer != nil {
		s.log.Info("sim: fault before processing", zap.Stringer("op", rt.op), zap.String("request-id", rid), zap.Strings("faults", before.fired))
		if before.answer.Kind == Fault500Before {
			return textReply(http.StatusInternalServerError, "internal server error (simulated, not processed)")
		}
		return s.sign(errFields(rid, paytree.E9002, "", "gateway busy: request not processed"), false)
	}
	if before.delay > 0 && !s.wait(ctx, before.delay) {
		s.log.Info("sim: client gave up before processing", zap.Stringer("op", rt.op), zap.String("request-id", rid))
		return dropReply(ctx.Err())
	}

	s.mu.Lock()
	out := s.process(rt, f)
	var after plan
	if !out.drop {
		after = s.pick(rt.op, phaseAfter)
	}
	var st *staged
	if out.changed {
		st = s.stageLocked()
	}
	s.mu.Unlock()
	// The history is on disk before any answer leaves (or is lost on
	// purpose), so an answer a client saw is never forgotten by a restart.
	if err := s.commit(st); err != nil {
		s.log.Error("sim: request processed but not stored", zap.Stringer("op", rt.op), zap.String("request-id", rid), zap.Error(err))
		return textReply(http.StatusInternalServerError, "internal server error: the simulator could not save its store (processed in memory)")
	}

	fired := append(append(before.fired, out.fired...), after.fired...)
	s.log.Info("sim: request",
		zap.Stringer("op", rt.op), zap.String("request-id", rid),
		zap.String("result-code", out.ans[paytree.FResultCode]), zap.Bool("replay", out.replay),
		zap.Bool("answer-lost", out.drop), zap.Strings("faults", fired))
	if out.drop {
		return dropReply(nil)
	}
	ans := out.ans
	if after.answer != nil {
		switch after.answer.Kind {
		case FaultLost:
			return dropReply(nil)
		case FaultHold:
			if after.answer.Delay > 0 {
				if s.wait(ctx, after.answer.Delay) {
					return dropReply(nil)
				}
			} else {
				<-ctx.Done()
			}
			return dropReply(ctx.Err())
		case Fault500After:
			return textReply(http.StatusInternalServerError, "internal server error (simulated)")
		case FaultE9001:
			ans = errFields(rid, paytree.E9001, "", "gateway internal error: outcome unknown, confirm")
		}
	}
	if after.delay > 0 && !s.wait(ctx, after.delay) {
		return dropReply(ctx.Err())
	}
	if after.extraField {
		ans = ans.Clone()
		ans[ExtraFieldName] = ExtraFieldValue
	}
	return s.sign(ans, after.badSign)
}

// ExtraFieldName and ExtraFieldValue are the unknown field that the
// extra-field fault adds to an answer (signed like any other field).
const (
	ExtraFieldName  = "simExtraNote"
	ExtraFieldValue = "テスト a&b=c%d 100%"
)

// wait blocks for d on the clock; false when ctx ended first.
func (s *Sim) wait(ctx context.Context, d time.Duration) bool {
	t := s.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return true
	case <-ctx.Done():
		return false
	}
}

// sign stamps responseTime and signType on ans, signs it and encodes it.
func (s *Sim) sign(ans paytree.Fields, corrupt bool) reply {
	out := ans.Clone()
	delete(out, paytree.FSign)
	out[paytree.FResponseTime] = paytree.FormatTime(s.clock.Now())
	out[paytree.FSignType] = paytree.SignTypeRSA
	sig, err := keys.Sign(s.cfg.PrivateKey, []byte(paytree.Canonical(out)))
	if err != nil {
		s.log.Error("sim: sign answer", zap.Error(err))
		return textReply(http.StatusInternalServerError, "cannot sign the answer")
	}
	if corrupt {
		sig = corruptSignature(sig)
	}
	out[paytree.FSign] = sig
	body, err := paytree.Encode(out)
	if err != nil {
		s.log.Error("sim: encode answer", zap.Error(err))
		return textReply(http.StatusInternalServerError, "cannot encode the answer")
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return reply{status: http.StatusOK, header: h, body: body}
}

// corruptSignature flips one bit of sig, keeping it valid base64 of the
// right length, so only the cryptographic check can catch it.
func corruptSignature(sig string) string {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) == 0 {
		return "AAAA"
	}
	raw[len(raw)/2] ^= 0x01
	return base64.StdEncoding.EncodeToString(raw)
}

// errFields is an error answer: resultCode equals errorCode.
func errFields(rid, code, sub, msg string) paytree.Fields {
	return paytree.Fields{
		paytree.FRequestID:    rid,
		paytree.FResultCode:   code,
		paytree.FErrorCode:    code,
		paytree.FErrorSubCode: sub,
		paytree.FErrorMessage: msg,
	}
}

// okFields is a success answer carrying the operation's fields.
func okFields(rid string, extra paytree.Fields) paytree.Fields {
	out := paytree.Fields{paytree.FRequestID: rid, paytree.FResultCode: paytree.CodeOK}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
