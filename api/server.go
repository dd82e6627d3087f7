package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/wbpay/wbpay"
	"github.com/wbpay/wbpay/fsm"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/paytree"
)

// Defaults of Options.
const (
	DefaultKeepAlive    = 15 * time.Second
	DefaultClientBuffer = 1024
	DefaultWriteTimeout = 30 * time.Second
	// MaxWait is the longest ?wait= in seconds.
	MaxWait = 300
)

// Options configure a Server.
type Options struct {
	Engine  *wbpay.Engine // required, open
	Token   string        // required: the content of serve.token
	Logger  *zap.Logger   // nil: no logging
	Version string        // reported by /v1/health
	// KeepAlive is the interval of ": keep-alive" comments on /v1/events
	// (default 15 s).
	KeepAlive time.Duration
	// ClientBuffer is how many events an SSE client may lag behind before
	// it is dropped (default 1024).
	ClientBuffer int
	// WriteTimeout bounds each write to a client (default 30 s): a client
	// that stops reading is disconnected after it.
	WriteTimeout time.Duration
	// Damaged, when set, reports a damaged journal for /v1/health
	// ("damaged"); serve passes Engine.Damaged.
	Damaged func() error
}

// Server is the local API of local-api.md on one open Engine. It drives the
// engine only through its public API. Safe for concurrent use.
type Server struct {
	opts Options
	eng  *wbpay.Engine
	log  *zap.Logger
	hub  *hub
	mux  *http.ServeMux

	closing   atomic.Bool
	confirmMu sync.Mutex // one pay-confirm at a time
}

// recoveredNow reports whether start-up recovery has finished.
func (s *Server) recoveredNow() bool { return s.eng.IsRecovered() }

// New builds the server and starts following the engine's event stream.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, errors.New("api: no engine")
	}
	if len(opts.Token) != 64 {
		return nil, ErrBadToken
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	if opts.ClientBuffer <= 0 {
		opts.ClientBuffer = DefaultClientBuffer
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	s := &Server{opts: opts, eng: opts.Engine, log: opts.Logger}
	h, err := newHub(s.eng, s.log, opts.ClientBuffer)
	if err != nil {
		return nil, fmt.Errorf("api: follow the event stream: %w", err)
	}
	s.hub = h
	s.routes()
	return s, nil
}

// Handler returns the API's handler (auth and host checks included).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// BeginClose makes every new request answer 503 L0005 (health: closing)
// and ends the event streams. Call it before closing the engine.
func (s *Server) BeginClose() {
	s.closing.Store(true)
	s.hub.close()
}

func (s *Server) routes() {
	m := http.NewServeMux()
	for _, op := range []string{"pay", "refund", "reverse", "deposit"} {
		m.HandleFunc("POST /v1/"+op, func(w http.ResponseWriter, r *http.Request) { s.serveRequest(w, r, op) })
	}
	m.HandleFunc("POST /v1/pay-confirm", s.servePayConfirm)
	m.HandleFunc("GET /v1/transactions/{id}", s.serveTxn)
	m.HandleFunc("GET /v1/transactions/{id}/entries", s.serveEntries)
	m.HandleFunc("GET /v1/transactions/{id}/receipt", s.serveReceipt)
	m.HandleFunc("POST /v1/transactions/{id}/receipt", s.servePrint)
	m.HandleFunc("POST /v1/transactions/{id}/resolve", s.serveResolve)
	m.HandleFunc("GET /v1/reports/interim", func(w http.ResponseWriter, r *http.Request) { s.serveReport(w, r, wbpay.ReportInterim) })
	m.HandleFunc("POST /v1/reports/daily", func(w http.ResponseWriter, r *http.Request) { s.serveReport(w, r, wbpay.ReportDaily) })
	m.HandleFunc("GET /v1/transactions", s.serveList)
	m.HandleFunc("GET /v1/verify", s.serveVerify)
	m.HandleFunc("GET /v1/export", s.serveExport)
	m.HandleFunc("GET /v1/health", s.serveHealth)
	m.HandleFunc("GET /v1/events", s.serveEvents)
	s.mux = m
}

// loopbackHost reports whether a Host header names this host: a loopback
// IP or localhost, with or without a port.
func loopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		s.fail(w, r, newAPIError(http.StatusForbidden, codeAuth, "the Host header must name a loopback address or localhost"))
		return
	}
	if _, ok := r.Header["Origin"]; ok {
		s.fail(w, r, newAPIError(http.StatusForbidden, codeAuth, "requests with an Origin header (from a browser) are refused"))
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wbpay"`)
		s.fail(w, r, newAPIError(http.StatusUnauthorized, codeAuth, "send Authorization: Bearer with the content of serve.token in the home"))
		return
	}
	if s.closing.Load() && r.URL.Path != "/v1/health" {
		s.fail(w, r, newAPIError(http.StatusServiceUnavailable, codeClosed, "the daemon is stopping"))
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.notRouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r) // sets the path values
}

// notRouted answers 404, or 405 with Allow for a known path.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			w.Header().Set("Allow", m)
			s.fail(w, r, newAPIError(http.StatusMethodNotAllowed, codeBadField, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, m)))
			return
		}
	}
	s.fail(w, r, newAPIError(http.StatusNotFound, codeBadField, "no such route "+r.URL.Path))
}

// authorized compares the bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(a, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}

// writeJSONAnswer writes v with status.
func writeJSONAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	s.log.Info("api: refused", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Int("status", e.status), zap.String("code", e.body.Code), zap.String("field", e.body.Field))
	writeJSONAnswer(w, e.status, struct {
		Error ErrorObject `json:"error"`
	}{e.body})
}

// onlyParams refuses query parameters other than names (a typo must not
// pass silently).
func onlyParams(r *http.Request, names ...string) *apiError {
	for k := range r.URL.Query() {
		found := false
		for _, n := range names {
			if k == n {
				found = true
			}
		}
		if !found {
			return badField(k, fmt.Sprintf("unknown query parameter %q", k))
		}
	}
	return nil
}

// waitParam reads ?wait=SECONDS (0 when absent).
func waitParam(r *http.Request) (time.Duration, *apiError) {
	q := r.URL.Query()
	if !q.Has("wait") {
		return 0, nil
	}
	n, err := strconv.Atoi(q.Get("wait"))
	if err != nil || n < 0 || n > MaxWait {
		return 0, badField("wait", fmt.Sprintf("wait must be a whole number of seconds from 0 to %d", MaxWait))
	}
	return time.Duration(n) * time.Second, nil
}

// settled reports whether a ?wait ends at t: terminal, or waiting for the
// customer.
func settled(t *journal.Txn) bool { return t.State.Terminal() || t.State == fsm.StateWaiting }

// waitTxn waits up to d until done(t) for transaction id, following the
// journal's commits, and returns its latest snapshot.
func (s *Server) waitTxn(ctx context.Context, id string, d time.Duration, done func(*journal.Txn) bool) (*journal.Txn, error) {
	if d == 0 {
		return s.eng.Audit().Get(id)
	}
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		changed := s.eng.StreamChanged()
		t, err := s.eng.Audit().Get(id)
		if err != nil || done(t) {
			return t, err
		}
		select {
		case <-changed:
		case <-deadline.C:
			return s.eng.Audit().Get(id)
		case <-ctx.Done():
			return s.eng.Audit().Get(id)
		}
	}
}

// serveRequest is POST /v1/{pay,refund,reverse,deposit}.
func (s *Server) serveRequest(w http.ResponseWriter, r *http.Request, op string) {
	if e := onlyParams(r, "wait"); e != nil {
		s.fail(w, r, e)
		return
	}
	wait, e := waitParam(r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	key, e := idempotencyKey(r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	body, e := readBody(w, r, op)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	req, e := request(op, body, key)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	if !s.recoveredNow() {
		s.fail(w, r, newAPIError(http.StatusServiceUnavailable, codeBusy, "start-up recovery has not finished (see /v1/health)"))
		return
	}
	ticket, err := s.submit(req)
	if err != nil {
		s.fail(w, r, fromEngine(err, !s.recoveredNow()))
		return
	}
	status := http.StatusAccepted
	if replayed(ticket) {
		status = http.StatusOK
	} else {
		// Submit has journaled the request and started its sequence in a
		// new goroutine: let the sequence run now, on this thread, and
		// write the answer wherever the scheduler puts this goroutine
		// next (Gosched wakes an idle processor for it). Otherwise the
		// sequence waits until the answer is written and this goroutine
		// parks on the connection: 0.07–0.08 ms added to every pay (the
		// profile in BENCHMARKS.md, "The daemon").
		runtime.Gosched()
	}
	s.log.Info("api: request accepted", zap.String("op", op), zap.String("txn-id", ticket.TransactionID), zap.Bool("replayed", status == http.StatusOK))
	s.answerTxn(w, r, ticket.TransactionID, status, wait, settled)
}

// submit is Engine.Submit, retried for a moment while the engine is busy
// with a sequence whose transaction the journal already has terminal: the
// engine journals the final transition (and its events) a moment before it
// takes the next request, and a POS that got the final event or a ?wait
// answer must not see L0004 for that.
func (s *Server) submit(req wbpay.Request) (wbpay.Ticket, error) {
	deadline := time.Now().Add(100 * time.Millisecond)
	for i := 0; ; i++ {
		t, err := s.eng.Submit(req)
		var we *wbpay.Error
		if err == nil || !errors.As(err, &we) || we.Code != codeBusy || time.Now().After(deadline) {
			return t, err
		}
		st, serr := s.eng.Audit().Stats()
		if serr != nil || st.Unfinished > 0 {
			return t, err
		}
		// The release follows the final commit within microseconds.
		if i < 20 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// answerTxn answers with transaction id: at once with status, or after
// waiting up to wait for done with 200.
func (s *Server) answerTxn(w http.ResponseWriter, r *http.Request, id string, status int, wait time.Duration, done func(*journal.Txn) bool) {
	if wait > 0 {
		status = http.StatusOK
	}
	t, err := s.waitTxn(r.Context(), id, wait, done)
	if err != nil {
		s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "read the transaction: "+err.Error()))
		return
	}
	w.Header().Set("Location", "/v1/transactions/"+id)
	writeJSONAnswer(w, status, txnOf(s.eng, t))
}

// servePayConfirm is POST /v1/pay-confirm.
func (s *Server) servePayConfirm(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r, "wait"); e != nil {
		s.fail(w, r, e)
		return
	}
	wait, e := waitParam(r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	if _, e := idempotencyKey(r); e != nil {
		s.fail(w, r, e)
		return
	}
	body, e := readBody(w, r, "pay-confirm")
	if e != nil {
		s.fail(w, r, e)
		return
	}
	s.confirmMu.Lock()
	defer s.confirmMu.Unlock()
	waiting, err := s.eng.Audit().List(journal.Query{State: fsm.StateWaiting, Op: paytree.OpPay, Limit: 1})
	if err != nil {
		s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "read the journal: "+err.Error()))
		return
	}
	var from uint64
	if seq, err := s.eng.Audit().LastSeq(); err == nil {
		from = wbpay.StreamID(seq, 7)
	}
	if err := s.eng.PayConfirm(body.values["confirm"].(bool)); err != nil {
		s.fail(w, r, fromEngine(err, !s.recoveredNow()))
		return
	}
	if len(waiting) == 0 {
		// The engine took the confirm while the journal showed no waiting
		// pay (it was between two polls): answer with the newest pay.
		if waiting, err = s.eng.Audit().List(journal.Query{Op: paytree.OpPay, Limit: 1}); err != nil || len(waiting) == 0 {
			s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "the confirmed pay is not in the journal"))
			return
		}
	}
	id := waiting[0].ID
	s.answerTxn(w, r, id, http.StatusAccepted, wait, func(t *journal.Txn) bool {
		return t.State.Terminal() || s.raisedSince(id, from)
	})
}

// raisedSince reports whether the engine raised a CompleteEvent or
// ErrorEvent for txn id after stream id from.
func (s *Server) raisedSince(id string, from uint64) bool {
	found := false
	_ = s.eng.StreamAfter(from, func(ev wbpay.StreamEvent) error {
		if ev.Entry.TxnID == id && ev.Kind != wbpay.StreamState {
			found = true
			return errClientGone
		}
		return nil
	})
	return found
}

// serveTxn is GET /v1/transactions/{id}.
func (s *Server) serveTxn(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r, "wait", "state"); e != nil {
		s.fail(w, r, e)
		return
	}
	wait, e := waitParam(r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	id := r.PathValue("id")
	if _, err := s.eng.Audit().Get(id); err != nil {
		s.failRead(w, r, id, err)
		return
	}
	done := settled
	if r.URL.Query().Has("state") {
		st, e := stateParam(r.URL.Query().Get("state"))
		if e != nil {
			s.fail(w, r, e)
			return
		}
		done = func(t *journal.Txn) bool { return t.State != st }
	}
	s.answerTxn(w, r, id, http.StatusOK, wait, done)
}

// failRead answers a failed read of transaction id: 404 when unknown.
func (s *Server) failRead(w http.ResponseWriter, r *http.Request, id string, err error) {
	if errors.Is(err, journal.ErrNotFound) {
		e := newAPIError(http.StatusNotFound, codeBadField, fmt.Sprintf("no transaction %q in the journal", clip(id)))
		e.body.Field = "id"
		s.fail(w, r, e)
		return
	}
	s.fail(w, r, newAPIError(http.StatusInternalServerError, codeJournal, "read the journal: "+err.Error()))
}

// stateParam parses a state name.
func stateParam(v string) (fsm.State, *apiError) {
	for _, st := range fsm.AllStates() {
		if string(st) == v && st != fsm.StateNew {
			return st, nil
		}
	}
	return "", badField("state", fmt.Sprintf("state %q is not a state name (paid, waiting, failed, …)", clip(v)))
}

// healthBody is /v1/health.
type healthBody struct {
	State                   string  `json:"state"`
	Unfinished              uint64  `json:"unfinished"`
	GatewayUnreachableSince *string `json:"gatewayUnreachableSince"`
	Version                 string  `json:"version"`
}

// serveHealth is GET /v1/health.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if e := onlyParams(r); e != nil {
		s.fail(w, r, e)
		return
	}
	b := healthBody{State: "ready", Version: s.opts.Version}
	st, err := s.eng.Audit().Stats()
	if err == nil {
		b.Unfinished = st.Unfinished
	}
	since, down := s.eng.GatewayUnreachableSince()
	if down {
		b.GatewayUnreachableSince = strPtr(rfc3339(since))
	}
	switch {
	case s.closing.Load():
		b.State = "closing"
	case err != nil || (s.opts.Damaged != nil && s.opts.Damaged() != nil):
		b.State = "damaged"
	case down:
		b.State = "waiting-for-gateway"
	case !s.recoveredNow():
		b.State = "recovering"
	}
	writeJSONAnswer(w, http.StatusOK, b)
}
