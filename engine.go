package wbpay

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/logging"
	"github.com/wbpay/wbpay/paytree"
	"github.com/wbpay/wbpay/sim"
	"github.com/wbpay/wbpay/transport"
)

// JournalFile is the journal's file name inside the home directory
// (package layout describes every file of a home).
const JournalFile = layout.JournalFile

// gateway is what the sequence driver needs of the network: one signed,
// verified exchange. transport.Client satisfies it, for production and, with
// the simulator's RoundTripper plugged in, for test mode.
type gateway interface {
	Send(ctx context.Context, path string, req paytree.Fields) transport.Result
	Reachable(ctx context.Context) error
	Close()
}

var _ gateway = (*transport.Client)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	home         string
	clock        clockwork.Clock
	tee          zapcore.Core
	rootCAs      *x509.CertPool
	roundTripper http.RoundTripper
	lockTimeout  time.Duration
	httpTimeout  time.Duration
	patience     time.Duration
	onComplete   func(Completion)
	onError      func(Failure)
	verify       bool           // WithBackgroundVerify
	verifyEvery  time.Duration  // WithBackgroundVerify
	onSimulator  func(*sim.Sim) // WithTestSimulator
}

// WithHome sets the home directory (WbCPSPay.conf, keys, journal, Log/).
func WithHome(dir string) Option { return func(o *options) { o.home = dir } }

// WithClock sets the clock of every wait, timeout and timestamp (tests).
func WithClock(c clockwork.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogTee also sends every log record to core (e.g. stderr, or a test's).
func WithLogTee(core zapcore.Core) Option { return func(o *options) { o.tee = core } }

// WithRootCAs trusts pool for the gateway's TLS certificate (tests, private CAs).
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.rootCAs = pool } }

// WithRoundTripper sends every request through rt instead of the network
// (the same signing, journal and sequence code still run).
func WithRoundTripper(rt http.RoundTripper) Option {
	return func(o *options) { o.roundTripper = rt }
}

// WithOnComplete registers the CompleteEvent handler before recovery starts,
// so the events of transactions resumed at Open reach it too.
func WithOnComplete(fn func(Completion)) Option { return func(o *options) { o.onComplete = fn } }

// WithOnError registers the ErrorEvent handler before recovery starts.
func WithOnError(fn func(Failure)) Option { return func(o *options) { o.onError = fn } }

// WithHTTPTimeout overrides HttpTimeout (whose floor in the file is 15 s
// outside test mode) for integration tests against a loopback gateway.
func WithHTTPTimeout(d time.Duration) Option { return func(o *options) { o.httpTimeout = d } }

// WithTestSimulator hands fn the in-process simulator that Open creates in
// test mode (AppTestMode = yes), before recovery starts, so that a test or
// the demo can read its ledger and set its faults. fn is never called
// outside test mode: production code has no way to reach a simulator.
func WithTestSimulator(fn func(*sim.Sim)) Option { return func(o *options) { o.onSimulator = fn } }

// WithRecoveryPatience bounds how long start-up recovery keeps waiting for
// an unreachable gateway: after d, it stops, leaving the transactions it
// could not reach the gateway for unfinished in the journal (the next Open
// resumes them), and request methods are accepted again. By default (d = 0)
// it waits until the gateway answers or the engine is closed; an
// unreachable gateway never escalates a transaction.
func WithRecoveryPatience(d time.Duration) Option { return func(o *options) { o.patience = d } }

// Engine is the spec's WbCPSPay: one per home directory, safe for concurrent
// use. Request methods return at once and report through the handlers; the
// Sync variants wait for the whole sequence.
type Engine struct {
	home    string
	cfg     *config.Config
	clock   clockwork.Clock
	log     *logging.Logger
	zl      *zap.Logger
	journal *journal.Journal
	gw      gateway
	priv    *rsa.PrivateKey

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	busy       string        // what runs now ("" = idle): "pay", "recovery", …
	owner      *run          // the request sequence that set busy (nil for recovery)
	waiting    *run          // the pay waiting for PayConfirm, if any
	recovered  chan struct{} // closed when start-up recovery has finished
	recoveries []Recovery
	patience   time.Duration // WithRecoveryPatience
	// unreachableSince: when recovery found the gateway unreachable, while
	// it waits for it (zero otherwise).
	unreachableSince time.Time
	resuming         bool // a background resumer waits for the gateway for parked transactions

	events *dispatcher
	stream eventStream // the volatile part of the durable event stream

	integ integrity // damage known in the journal, the userCode key (integrity.go)
}

// Open reads WbCPSPay.conf from the home, loads the keys, opens and locks the
// journal (a second Open of the same home fails with L0006 at once), starts
// logging and resumes every unfinished transaction in the background. Until
// that recovery has finished, request methods return L0004; WaitRecovered
// waits for it.
func Open(ctx context.Context, opts ...Option) (*Engine, error) {
	o := options{clock: clockwork.NewRealClock(), lockTimeout: 100 * time.Millisecond}
	for _, opt := range opts {
		opt(&o)
	}
	if o.home == "" {
		return nil, errorf(paytree.L0001, "no home directory given")
	}
	cfgPath := layout.Home(o.home).Conf()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, newError(paytree.L0001, err.Error(), err)
	}
	e := &Engine{home: o.home, cfg: cfg, clock: o.clock, recovered: make(chan struct{}), patience: o.patience}
	ok := false
	defer func() {
		if !ok {
			e.release()
		}
	}()
	logDir := layout.Home(o.home).Log()
	lg, err := logging.Open(logging.Options{Dir: logDir, Level: cfg.LogLevel, Expire: cfg.LogExpire, Clock: o.clock, Also: o.tee})
	if err != nil {
		return nil, newError(paytree.L0001, fmt.Sprintf("%s is valid, but the log directory %s cannot be written (%v): make it writable for this user", cfgPath, logDir, err), err)
	}
	e.log, e.zl = lg, lg.Zap()
	for _, w := range cfg.Warnings {
		e.log.At(logging.Warning).Warn("configuration warning", zap.Int("line", w.Line), zap.String("key", w.Key), zap.String("detail", w.Message))
	}
	privPath := cfg.ResolvePath(o.home, cfg.PrivateKeyFile)
	if e.priv, err = keys.LoadPrivate(privPath); err != nil {
		return nil, newError(paytree.L0002, err.Error(), err)
	}
	if w := keys.ModeWarning(privPath); w != "" {
		e.log.At(logging.Warning).Warn("private key readable by others", zap.String("detail", w))
	}
	if err := e.openGateway(o); err != nil {
		return nil, err
	}
	jr, err := e.openJournal(o)
	if err != nil {
		return nil, err
	}
	e.journal = jr
	e.ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.events = newDispatcher(e.zl)
	e.events.setComplete(o.onComplete)
	e.events.setError(o.onError)
	e.log.At(logging.Basic).Info("engine opened", zap.String("home", o.home), zap.Bool("test-mode", cfg.AppTestMode), zap.String("log-level", cfg.LogLevel.String()))
	ok = true
	if err := e.startRecovery(); err != nil {
		_ = e.Close()
		return nil, err
	}
	e.startVerifier(o)
	return e, nil
}

// openGateway builds the transport: to ServerURL, or in test mode to an
// in-process simulator with a fresh gateway key.
func (e *Engine) openGateway(o options) error {
	cfg := e.cfg
	topts := transport.Options{
		BaseURL:            cfg.ServerURL,
		Timeout:            cfg.HttpTimeout,
		InsecureSkipVerify: cfg.IgnoreCertificateError,
		RootCAs:            o.rootCAs,
		RoundTripper:       o.roundTripper,
		PrivateKey:         e.priv,
		Logger:             e.log.At(logging.Transaction),
		LogExchanges:       e.log.Enabled(logging.Transaction),
		Clock:              e.clock,
	}
	if o.httpTimeout > 0 {
		topts.Timeout = o.httpTimeout
	}
	if cfg.AppTestMode {
		gwKey, err := keys.NewKey()
		if err != nil {
			return newError(paytree.L0002, err.Error(), err)
		}
		s, err := sim.New(sim.Config{
			PrivateKey:      gwKey,
			ClientPublicKey: &e.priv.PublicKey,
			Clock:           e.clock,
			Logger:          e.zl.Named("sim"),
			Classes:         sim.Classes{Pay: cfg.TestClassPay, Refund: cfg.TestClassRefund, Reverse: cfg.TestClassReverse, Deposit: cfg.TestClassDeposit},
			Delay:           cfg.TestSequenceDelay,
			ReverseWindow:   cfg.ReverseWindow, // the simulated gateway keeps the window the engine assumes (0: its default, 24 h)
			Paths: sim.Paths{Pay: cfg.ApiPathPay, PayV1: cfg.ApiPathPayV1, Refund: cfg.ApiPathRefund, Reverse: cfg.ApiPathReverse,
				Confirm: cfg.ApiPathConfirm, ConfirmV1: cfg.ApiPathConfirmV1, Deposit: cfg.ApiPathDeposit},
		})
		if err != nil {
			return newError(paytree.L0001, fmt.Sprintf("test-mode simulator: %v", err), err)
		}
		if o.onSimulator != nil {
			o.onSimulator(s)
		}
		topts.BaseURL = "http://127.0.0.1"
		topts.RoundTripper = s.RoundTripper()
		topts.GatewayKey = &gwKey.PublicKey
	} else {
		pub, err := keys.LoadPublic(cfg.ResolvePath(e.home, cfg.PublicKeyFile))
		if err != nil {
			return newError(paytree.L0002, err.Error(), err)
		}
		topts.GatewayKey = pub
	}
	c, err := transport.New(topts)
	if err != nil {
		return newError(paytree.L0001, err.Error(), err)
	}
	e.gw = c
	return nil
}

// Config returns the configuration the engine was opened with.
func (e *Engine) Config() *config.Config { return e.cfg }

// Home returns the home directory.
func (e *Engine) Home() string { return e.home }

// OnComplete registers the CompleteEvent handler. Handlers run one at a
// time, in order, never under the engine's lock: a handler may call Pay.
// Events of transactions resumed at Open may arrive before OnComplete is
// called; register with WithOnComplete to receive those too (they are also
// in Recovered).
func (e *Engine) OnComplete(fn func(Completion)) { e.events.setComplete(fn) }

// OnError registers the ErrorEvent handler, delivered like OnComplete's.
func (e *Engine) OnError(fn func(Failure)) { e.events.setError(fn) }

// WaitRecovered blocks until start-up recovery has finished or ctx is done.
func (e *Engine) WaitRecovered(ctx context.Context) error {
	select {
	case <-e.recovered:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the engine: a running sequence is interrupted between steps
// (its journal state lets the next Open finish it), pending events are
// delivered, the journal is closed and the home unlocked. Close is final:
// every method afterwards returns L0005.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	if e.events != nil {
		e.events.close()
	}
	if e.log != nil {
		e.log.At(logging.Basic).Info("engine closed")
	}
	return e.release()
}

// release frees what Open acquired.
func (e *Engine) release() error {
	var errs []error
	if e.gw != nil {
		e.gw.Close()
	}
	if e.journal != nil {
		errs = append(errs, e.journal.Close())
	}
	if e.log != nil {
		errs = append(errs, e.log.Close())
	}
	return errors.Join(errs...)
}

// acquire makes r the running sequence (what names it in L0004), or
// returns L0005/L0004.
func (e *Engine) acquire(what string, r *run) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errorf(paytree.L0005, "the engine was closed")
	}
	if e.busy != "" {
		return errorf(paytree.L0004, "%s is still running", e.busy)
	}
	e.busy, e.owner = what, r
	return nil
}

// newRequestID returns a fresh UUIDv7 as 32 hex digits.
func newRequestID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	const hexdigits = "0123456789abcdef"
	b := make([]byte, 32)
	for i, v := range u {
		b[2*i] = hexdigits[v>>4]
		b[2*i+1] = hexdigits[v&0x0f]
	}
	return string(b), nil
}
