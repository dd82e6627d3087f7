package wbpay

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/wbpay/wbpay/journal"
	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/logging"
	"github.com/wbpay/wbpay/paytree"
)

// Files the engine keeps in the home beside the journal.
const (
	// JournalIDFile holds the id of the home's journal (32 hex digits),
	// written atomically when the journal is created (and, for a home
	// older than ids, at its next Open). While it exists, a missing
	// journal is refused instead of replaced by an empty one.
	JournalIDFile = layout.JournalIDFile
	// UserCodeKeyFile holds the home's userCode key (64 hex digits, mode
	// 0600), created atomically at the first Open: the key of the keyed
	// userCode hash. It is never logged, exported or shipped.
	UserCodeKeyFile = layout.UserCodeKeyFile
	// DamageFile records damage found in the journal (by `verify`, or by
	// the engine's own checks) so that later starts refuse new requests
	// at once. A clean `verify` removes it; `repair` moves it aside.
	DamageFile = layout.DamageFile
)

// integrity is what the engine knows about its journal's soundness, and
// the home's userCode key.
type integrity struct {
	key     []byte                // the userCode key
	damaged atomic.Pointer[error] // damage recorded in the home, or found by the background verify
}

// Damaged returns the damage known in the engine's journal: recorded in
// the home by an earlier `verify` or check, found at Open by the check of
// what changed since the last verified entry, or found by the background
// verify (WithBackgroundVerify). nil while the journal is not known to be
// damaged. While it is not nil, request methods refuse with L0007;
// recovery of unfinished transactions and the audit reads go on.
func (e *Engine) Damaged() error {
	if p := e.integ.damaged.Load(); p != nil {
		return *p
	}
	if e.journal != nil {
		return e.journal.Damaged()
	}
	return nil
}

// refuseDamaged returns the L0007 that request methods return on a journal
// known to be damaged, nil otherwise.
func (e *Engine) refuseDamaged() error {
	err := e.Damaged()
	if err == nil {
		return nil
	}
	return newError(paytree.L0007, fmt.Sprintf("the journal is damaged, so no new request is sent: %v; "+
		"run `wbpay-engine verify` and `wbpay-engine repair` (unfinished transactions are still recovered, audit commands still read it)", err), err)
}

// WithBackgroundVerify makes the engine verify its whole journal in the
// background, right after Open and then every interval (on the engine's
// clock), for long-running engines such as the daemon: damage it finds is
// recorded in the home (DamageFile) and refuses new requests (Damaged).
// interval 0 verifies once, after Open. Without this option only the cheap
// checks of Open run (the one-shot CLI's start-up stays flat).
func WithBackgroundVerify(interval time.Duration) Option {
	return func(o *options) { o.verify, o.verifyEvery = true, interval }
}

// openJournal opens the home's journal with the checks of a home that
// remembers its journal: a missing journal whose id the home holds is
// refused, the id is recorded on first use, damage recorded in the home
// or found in what changed since the last verified entry is noted (not
// refused: recovery and audit go on). It also loads the userCode key.
func (e *Engine) openJournal(o options) (*journal.Journal, error) {
	key, err := loadUserCodeKey(o.home)
	if err != nil {
		return nil, newError(paytree.L0001, err.Error(), err)
	}
	e.integ.key = key
	if err := CheckJournalPresent(o.home); err != nil {
		return nil, newError(paytree.L0007, err.Error(), err)
	}
	jr, err := journal.Open(layout.Home(o.home).Journal(), journal.Options{Timeout: o.lockTimeout, Logger: e.zl})
	if err != nil {
		if errors.Is(err, journal.ErrLocked) {
			return nil, newError(paytree.L0006, err.Error(), err)
		}
		if errors.Is(err, journal.ErrCorrupt) {
			_ = RecordDamage(o.home, err)
			return nil, newError(paytree.L0007, "the journal is damaged and was left untouched; nothing will be sent until it is repaired (keep the file for support, run `wbpay-engine verify`, then `wbpay-engine repair`): "+err.Error(), err)
		}
		return nil, newError(paytree.L0007, err.Error(), err)
	}
	if err := e.rememberJournal(o.home, jr); err != nil {
		_ = jr.Close()
		return nil, err
	}
	if rec := readDamage(o.home); rec != nil {
		e.integ.damaged.Store(&rec)
		e.log.At(logging.Error).Error("journal damage recorded in the home: new requests are refused", zap.Error(rec))
	}
	start := time.Now()
	r, err := jr.CheckRecent()
	if err != nil {
		_ = RecordDamage(o.home, err)
		e.log.At(logging.Error).Error("journal damaged in what changed since the last verified entry: new requests are refused", zap.Error(err))
	} else {
		e.log.At(logging.Sequence).Info("journal checked since the last verified entry", zap.Uint64("from-seq", r.From),
			zap.Uint64("to-seq", r.To), zap.Int("txns", r.Txns), zap.Bool("legacy", r.Legacy), zap.Duration("took", time.Since(start)))
	}
	return jr, nil
}

// rememberJournal ties the home and jr by jr's id: it records the id in
// the home (and in the journal, for one older than ids) when the home has
// none, and refuses a journal whose id is not the home's.
func (e *Engine) rememberJournal(home string, jr *journal.Journal) error {
	id, err := jr.EnsureID()
	if err != nil {
		return newError(paytree.L0007, fmt.Sprintf("record the journal's id: %v", err), err)
	}
	idPath := layout.Home(home).JournalID()
	want, err := readJournalID(home)
	switch {
	case err != nil:
		return newError(paytree.L0007, err.Error(), err)
	case want == "":
		if err := layout.Write(home, JournalIDFile, []byte(id+"\n"), true); err != nil && !errors.Is(err, layout.ErrExists) {
			return newError(paytree.L0007, fmt.Sprintf("record the journal's id in %s: %v", idPath, err), err)
		}
		e.log.At(logging.Basic).Info("journal id recorded in the home", zap.String("journal-id", id), zap.String("file", idPath))
	case want != id:
		msg := fmt.Sprintf("the journal %s has id %s, but this home's journal is %s (%s): it is another home's journal, or a replacement; "+
			"put this home's journal back, or move the file away and run `wbpay-engine init --start-over --home %s` to give up the history (logged)",
			jr.Path(), id, want, idPath, home)
		return newError(paytree.L0007, msg, nil)
	}
	return nil
}

// readJournalID returns the id in the home's JournalIDFile, "" when there
// is none.
func readJournalID(home string) (string, error) {
	path := layout.Home(home).JournalID()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the journal id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s does not hold a journal id (32 hex digits)", path)
	}
	return id, nil
}

// CheckJournalPresent returns an error saying how to go on when the home
// remembers a journal (JournalIDFile) that is missing: the engine refuses
// to start a new, empty journal in its place, which would lose the history
// and any unfinished transaction without a word. nil when the journal is
// there, or the home never had one.
func CheckJournalPresent(home string) error {
	id, err := readJournalID(home)
	if err != nil || id == "" {
		return err
	}
	path := layout.Home(home).Journal()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("the journal %s of this home (id %s) is missing: nothing is sent, since a new journal would lose its history and any unfinished payment; "+
		"restore the file from a backup (or its %s%s copy), or, to give up the history for good, run `wbpay-engine init --start-over --home %s` (logged)",
		path, id, JournalFile, layout.BrokenSuffix, home)
}

// StartOver gives up the home's lost journal: when the home remembers a
// journal (JournalIDFile) that is missing, it logs the start-over at level
// Basic in the home's Log/ and renames the id file to
// journal.id.abandoned-<time>, so that the next Open creates a new journal.
// It refuses when the journal exists (it never deletes one).
func StartOver(home string, lg *logging.Logger, now time.Time) (abandoned string, err error) {
	id, err := readJournalID(home)
	if err != nil {
		return "", err
	}
	path := layout.Home(home).Journal()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s exists: --start-over only gives up a journal that is lost (move it away first if you mean it)", path)
	}
	if id == "" {
		return "", nil
	}
	to := layout.Home(home).Path(layout.AbandonedPrefix + now.UTC().Format(layout.AbandonedTime))
	if _, err := os.Lstat(to); err == nil {
		return "", fmt.Errorf("%s exists", to)
	}
	lg.At(logging.Basic).Warn("journal start-over: the lost journal's history is given up; the next start creates a new journal",
		zap.String("journal-id", id), zap.String("journal", path), zap.String("id-kept-in", to))
	if err := os.Rename(layout.Home(home).JournalID(), to); err != nil {
		return "", fmt.Errorf("start over: %w", err)
	}
	return id, nil
}

// loadUserCodeKey reads the home's userCode key, creating it (random,
// mode 0600, atomically) when the home has none.
func loadUserCodeKey(home string) ([]byte, error) {
	path := layout.Home(home).UserCodeKey()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, journal.UserCodeKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("userCode key: %w", err)
		}
		werr := layout.Write(home, UserCodeKeyFile, []byte(hex.EncodeToString(key)+"\n"), true)
		if werr == nil {
			return key, nil
		}
		if !errors.Is(werr, layout.ErrExists) {
			return nil, fmt.Errorf("create the userCode key %s: %w", path, werr)
		}
		b, err = os.ReadFile(path) // created meanwhile by another opener
	}
	if err != nil {
		return nil, fmt.Errorf("read the userCode key: %w", err)
	}
	key, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(key) != journal.UserCodeKeySize {
		return nil, fmt.Errorf("%s does not hold a userCode key (%d hex digits)", path, 2*journal.UserCodeKeySize)
	}
	return key, nil
}

// UserCodeKey returns the home's userCode key, for an auditor who holds a
// customer's code and wants to find its transactions (journal.MatchUserCode).
// It never creates one.
func UserCodeKey(home string) ([]byte, error) {
	if _, err := os.Stat(layout.Home(home).UserCodeKey()); err != nil {
		return nil, fmt.Errorf("userCode key: %w", err)
	}
	return loadUserCodeKey(home)
}

// hashUserCode is the keyed hash of code that the journal keeps.
func (e *Engine) hashUserCode(code string) string {
	return journal.HashUserCodeKeyed(e.integ.key, code)
}

// RecordDamage records err (damage found in the home's journal) in the
// home's DamageFile, so that later starts refuse new requests at once. An
// existing record is kept.
func RecordDamage(home string, err error) error {
	if !errors.Is(err, journal.ErrCorrupt) {
		return nil
	}
	text := fmt.Sprintf("%s\n%s\n", time.Now().UTC().Format(time.RFC3339), err)
	werr := layout.Write(home, DamageFile, []byte(text), true)
	if errors.Is(werr, layout.ErrExists) {
		return nil
	}
	return werr
}

// ClearDamage removes the home's damage record (a `verify` found the
// journal intact, e.g. after it was restored); it reports whether there
// was one.
func ClearDamage(home string) (bool, error) {
	err := os.Remove(layout.Home(home).Damage())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// readDamage returns the home's damage record as an error, nil when there
// is none.
func readDamage(home string) error {
	path := layout.Home(home).Damage()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	when, what, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if err != nil || what == "" {
		what = fmt.Sprintf("unreadable record (%v)", err)
	}
	return fmt.Errorf("%w: recorded in %s at %s: %s", journal.ErrCorrupt, path, when, what)
}

// startVerifier runs the background verify of WithBackgroundVerify.
func (e *Engine) startVerifier(o options) {
	if !o.verify {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			start := e.clock.Now()
			rep, err := e.journal.Verify()
			switch {
			case errors.Is(err, journal.ErrCorrupt):
				_ = RecordDamage(e.home, err)
				e.integ.damaged.CompareAndSwap(nil, &err)
				e.log.At(logging.Error).Error("background verify: the journal is damaged; new requests are refused", zap.Error(err))
				return
			case err != nil:
				if e.ctx.Err() == nil {
					e.log.At(logging.Error).Error("background verify failed", zap.Error(err))
				}
			default:
				e.log.At(logging.Sequence).Info("background verify: journal intact", zap.Uint64("entries", rep.Entries),
					zap.Uint64("last-seq", rep.LastSeq), zap.Duration("took", e.clock.Since(start)))
			}
			if o.verifyEvery <= 0 {
				return
			}
			select {
			case <-e.clock.After(o.verifyEvery):
			case <-e.ctx.Done():
				return
			}
		}
	}()
}
