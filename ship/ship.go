package ship

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/journal"
)

// Defaults of Options.
const (
	DefaultFlushEvery = time.Second
	DefaultFlushAcks  = 1000
	DefaultWindow     = 1
	DefaultAckTimeout = 10 * time.Second
	DefaultMaxBackoff = 30 * time.Second
)

// Journal is what a Shipper needs of a journal: the entries as stored, and
// the last acknowledged Seq, read and recorded. *journal.Journal (open for
// writing) and the engine's wbpay.Shipping satisfy it.
type Journal interface {
	RawEntries(from uint64, max int) ([]journal.RawEntry, error)
	ShippedSeq() (uint64, error)
	SetShippedSeq(seq uint64) error
	Changed() <-chan struct{}
}

var _ Journal = (*journal.Journal)(nil)

// Options configure New. Journal and Config are required.
type Options struct {
	Journal Journal         // e.g. a *journal.Journal open for writing (SetShippedSeq)
	Config  *config.Config  // ShipURL and the other Ship keys, MerchantId, TerminalUniquId, BranchCode
	Home    string          // for the config's relative file names
	Logger  *zap.Logger     // nil means zap.NewNop()
	Clock   clockwork.Clock // nil means the real clock (flush interval, back-off)

	FlushEvery time.Duration // record the acknowledged Seq at most this often (default 1s)
	FlushAcks  int           // … or after this many acknowledgements (default 1000)
	// Window is how many publishes may await their acknowledgement (default
	// 1: each entry is sent after the previous one is acknowledged, so that
	// the stream holds a terminal's entries in Seq order even when a server
	// restart loses a message in flight; a larger window is faster but may
	// then store k+1 before the re-sent k, which HQ reports as a gap and a
	// late entry).
	Window     int
	AckTimeout time.Duration // how long an acknowledgement may take (default 10s)
	MaxBackoff time.Duration // longest wait between attempts after an error (default 30s)

	// Now stamps ShipRecord.ShippedAt; nil means Clock.Now.
	Now func() time.Time

	// ExitWhenIdle makes Run return nil as soon as every entry of the
	// journal is acknowledged (the CLI's --catch-up, tests, the bench).
	ExitWhenIdle bool
}

// Shipper ships one journal. Run it once.
type Shipper struct {
	o       Options
	log     *zap.Logger
	clk     clockwork.Clock
	subject string
	natsOpt []nats.Option

	acked  atomic.Uint64 // last Seq the server acknowledged
	stored atomic.Uint64 // last Seq recorded in the journal
	dups   atomic.Uint64 // acknowledgements that were duplicates
}

// New checks opts and prepares the connection options; it connects nothing.
// ErrOff when ShipURL is empty, ErrConfig (wrapped, naming the key) when the
// files cannot be read.
func New(opts Options) (*Shipper, error) {
	c := opts.Config
	switch {
	case opts.Journal == nil || c == nil:
		return nil, fmt.Errorf("%w: no journal or configuration", ErrConfig)
	case c.ShipURL == "":
		return nil, ErrOff
	case c.MerchantID == "" || c.TerminalUniqueID == "":
		return nil, fmt.Errorf("%w: MerchantId and TerminalUniquId are required", ErrConfig)
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = DefaultFlushEvery
	}
	if opts.FlushAcks <= 0 {
		opts.FlushAcks = DefaultFlushAcks
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	s := &Shipper{o: opts, log: opts.Logger, clk: opts.Clock, subject: journal.ShipSubject(c.MerchantID, c.TerminalUniqueID)}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.clk == nil {
		s.clk = clockwork.NewRealClock()
	}
	if s.o.Now == nil {
		s.o.Now = s.clk.Now
	}
	no, err := natsOptions(c, opts.Home)
	if err != nil {
		return nil, err
	}
	s.natsOpt = append(no, nats.Name("wbpay-ship "+c.TerminalUniqueID))
	return s, nil
}

// natsOptions builds the connection options of the Ship keys.
func natsOptions(c *config.Config, home string) ([]nats.Option, error) {
	opts := []nats.Option{nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true), nats.ReconnectWait(time.Second)}
	if f := c.ShipCredentialsFile; f != "" {
		p := c.ResolvePath(home, f)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: ShipCredentialsFile: %w", ErrConfig, err)
		}
		opts = append(opts, nats.UserCredentials(p))
	}
	tlsOn := strings.Contains(c.ShipURL, "tls://") || c.ShipCAFile != "" || c.ShipCertFile != ""
	if tlsOn {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if f := c.ShipCAFile; f != "" {
			pem, err := os.ReadFile(c.ResolvePath(home, f))
			if err != nil {
				return nil, fmt.Errorf("%w: ShipCAFile: %w", ErrConfig, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: ShipCAFile %s: no PEM certificate", ErrConfig, f)
			}
			tc.RootCAs = pool
		}
		if c.ShipCertFile != "" {
			cert, err := tls.LoadX509KeyPair(c.ResolvePath(home, c.ShipCertFile), c.ResolvePath(home, c.ShipKeyFile))
			if err != nil {
				return nil, fmt.Errorf("%w: ShipCertFile/ShipKeyFile: %w", ErrConfig, err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// Acked returns the last Seq the server acknowledged in this run (or the
// recorded one before the first acknowledgement).
func (s *Shipper) Acked() uint64 { return s.acked.Load() }

// Duplicates returns how many acknowledgements said the server already had
// the message (a re-sent window after a restart).
func (s *Shipper) Duplicates() uint64 { return s.dups.Load() }

// Run ships until ctx ends, then records the last acknowledged Seq and
// returns nil. It returns an error only when the journal fails (closed,
// damaged, a failed commit): an unreachable or refusing server is retried
// with back-off for ever.
func (s *Shipper) Run(ctx context.Context) error {
	from, err := s.o.Journal.ShippedSeq()
	if err != nil {
		return fmt.Errorf("ship: read shipped seq: %w", err)
	}
	s.acked.Store(from)
	s.stored.Store(from)
	nc, err := nats.Connect(s.o.Config.ShipURL, s.natsOpt...)
	if err != nil {
		return fmt.Errorf("ship: connect %s: %w", s.o.Config.ShipURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(s.o.Window), jetstream.WithPublishAsyncTimeout(s.o.AckTimeout))
	if err != nil {
		return fmt.Errorf("ship: jetstream: %w", err)
	}
	s.log.Info("shipping started", zap.String("subject", s.subject), zap.Uint64("from-seq", from+1),
		zap.String("stream", s.o.Config.ShipStream))
	err = s.loop(ctx, js)
	if ferr := s.flush(); err == nil && ferr != nil && !errors.Is(ferr, journal.ErrClosed) {
		err = ferr
	}
	s.log.Info("shipping stopped", zap.Uint64("acked-seq", s.acked.Load()), zap.Uint64("duplicates", s.dups.Load()), zap.Error(err))
	return err
}

// loop publishes what is new, waits for the journal to change, and backs
// off after errors, until ctx ends (nil) or the journal fails.
func (s *Shipper) loop(ctx context.Context, js jetstream.JetStream) error {
	backoff := time.Duration(0)
	ticker := s.clk.NewTicker(s.o.FlushEvery)
	defer ticker.Stop()
	lastFlush := s.clk.Now()
	for {
		changed := s.o.Journal.Changed()
		n, err := s.round(ctx, js, &lastFlush)
		if ctx.Err() != nil {
			return nil
		}
		var jerr journalError
		if errors.As(err, &jerr) {
			return jerr.err
		}
		if err != nil {
			backoff = min(max(2*backoff, 250*time.Millisecond), s.o.MaxBackoff)
			s.log.Warn("shipping delayed", zap.Uint64("acked-seq", s.acked.Load()), zap.Duration("retry-in", backoff), zap.Error(err))
			if err := s.flush(); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return nil
			case <-s.clk.After(backoff):
			}
			continue
		}
		backoff = 0
		if n > 0 {
			continue // more may be there already
		}
		if s.o.ExitWhenIdle {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-ticker.Chan():
			if err := s.flushDue(&lastFlush, true); err != nil {
				return err
			}
		}
	}
}

// journalError marks an error of the journal (not of the server): Run ends.
type journalError struct{ err error }

func (e journalError) Error() string { return e.err.Error() }
func (e journalError) Unwrap() error { return e.err }

// pending is an asynchronous publish awaiting its acknowledgement.
type pending struct {
	seq uint64
	f   jetstream.PubAckFuture
}

// readAhead is how many entries a round reads from the journal in one read
// transaction (they are published Window at a time).
const readAhead = 256

// round reads the entries after the acknowledged Seq and publishes them in
// windows of Window asynchronous publishes, handling each window's
// acknowledgements in Seq order before the next window goes out. It
// returns how many were acknowledged.
func (s *Shipper) round(ctx context.Context, js jetstream.JetStream, lastFlush *time.Time) (int, error) {
	from := s.acked.Load() + 1
	raws, err := s.o.Journal.RawEntries(from, max(readAhead, s.o.Window))
	if err != nil {
		return 0, journalError{fmt.Errorf("ship: read journal from %d: %w", from, err)}
	}
	n := 0
	for len(raws) > 0 {
		w := raws[:min(s.o.Window, len(raws))]
		raws = raws[len(w):]
		k, err := s.window(ctx, js, w, lastFlush)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// window publishes raws asynchronously and awaits their acknowledgements in
// order; it returns how many were acknowledged.
func (s *Shipper) window(ctx context.Context, js jetstream.JetStream, raws []journal.RawEntry, lastFlush *time.Time) (int, error) {
	c := s.o.Config
	inflight := make([]pending, 0, len(raws))
	var perr error
	for _, r := range raws {
		rec := journal.ShipRecord{V: journal.ShipVersion, MerchantID: c.MerchantID, Terminal: c.TerminalUniqueID,
			Store: c.BranchCode, TerminalCode: c.TerminalCode, Seq: r.Seq, Hash: r.Hash, PrevHash: r.PrevHash,
			Body: r.Body, Txn: journal.ShipTxnOf(r.Snapshot, r.SnapshotSeq), ShippedAt: s.o.Now().UTC()}
		data, err := json.Marshal(&rec)
		if err != nil {
			perr = fmt.Errorf("encode entry %d: %w", r.Seq, err)
			break
		}
		msg := &nats.Msg{Subject: s.subject, Data: data, Header: nats.Header{}}
		f, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(journal.ShipMsgID(c.TerminalUniqueID, r.Seq)),
			jetstream.WithExpectStream(c.ShipStream))
		if err != nil {
			perr = fmt.Errorf("publish entry %d: %w", r.Seq, err)
			break
		}
		inflight = append(inflight, pending{seq: r.Seq, f: f})
	}
	n := 0
	for _, p := range inflight {
		select {
		case ack := <-p.f.Ok():
			if ack.Stream != c.ShipStream {
				return n, fmt.Errorf("entry %d: %w %q, want %q", p.seq, ErrWrongStream, ack.Stream, c.ShipStream)
			}
			if ack.Duplicate {
				s.dups.Add(1)
			}
			s.acked.Store(p.seq)
			n++
		case err := <-p.f.Err():
			return n, fmt.Errorf("entry %d: %w", p.seq, err)
		case <-ctx.Done():
			return n, ctx.Err()
		}
		if err := s.flushDue(lastFlush, false); err != nil {
			return n, err
		}
	}
	return n, perr
}

// flushDue records the acknowledged Seq when FlushEvery has passed since
// the last record (or tick is set and something is unrecorded), or FlushAcks
// acknowledgements are unrecorded.
func (s *Shipper) flushDue(last *time.Time, tick bool) error {
	acked, stored := s.acked.Load(), s.stored.Load()
	if acked == stored {
		return nil
	}
	now := s.clk.Now()
	if !tick && acked-stored < uint64(s.o.FlushAcks) && now.Sub(*last) < s.o.FlushEvery {
		return nil
	}
	*last = now
	return s.flush()
}

// flush records the acknowledged Seq in the journal when it moved.
func (s *Shipper) flush() error {
	acked := s.acked.Load()
	if acked == s.stored.Load() {
		return nil
	}
	if err := s.o.Journal.SetShippedSeq(acked); err != nil {
		return journalError{fmt.Errorf("ship: record shipped seq %d: %w", acked, err)}
	}
	s.stored.Store(acked)
	return nil
}
