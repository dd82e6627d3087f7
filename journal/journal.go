package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"

	"github.com/wbpay/wbpay/layout"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = 100 * time.Millisecond

// Options configure Open.
type Options struct {
	Timeout  time.Duration // how long Open waits for the file lock (default 100ms); on timeout Open returns ErrLocked
	Logger   *zap.Logger   // nil means zap.NewNop()
	ReadOnly bool          // for audit commands: shared lock, Append returns ErrReadOnly
	// ID is the id a journal created by this Open gets (32 lower-case hex
	// digits; "" draws a random one). It is ignored when the file exists.
	ID string

	// openFile replaces os.OpenFile for the journal file (tests use it to
	// hand bbolt a descriptor the kernel refuses to write through).
	openFile func(name string, flag int, perm os.FileMode) (*os.File, error)
}

// Journal is an open journal file. It is safe for concurrent use; Appends
// are serialized by bbolt and each is durable when it returns nil.
type Journal struct {
	path     string
	db       *bolt.DB
	log      *zap.Logger
	readOnly bool

	mu     sync.RWMutex // held shared by every operation, exclusively by Close
	closed bool

	failed atomic.Pointer[error] // the commit error that made the journal unusable

	damaged  atomic.Pointer[error] // the first damage Verify or CheckRecent found
	verified atomic.Uint64         // the verified mark the next Append stores (0: none)
	recent   atomic.Bool           // CheckRecent moved the mark: Close stores it unless an Append did

	changeMu sync.Mutex
	changed  chan struct{} // closed (and replaced) after each committed Append
}

// Changed returns a channel that is closed after the next Append commits
// (or the journal closes). A follower reads what is new with EntriesFrom,
// then waits on a fresh Changed: take the channel before reading, so that
// no commit is missed in between. It never blocks an Append.
func (j *Journal) Changed() <-chan struct{} {
	j.changeMu.Lock()
	defer j.changeMu.Unlock()
	if j.changed == nil {
		j.changed = make(chan struct{})
	}
	return j.changed
}

// notifyChanged wakes every Changed waiter.
func (j *Journal) notifyChanged() {
	j.changeMu.Lock()
	if j.changed != nil {
		close(j.changed)
		j.changed = nil
	}
	j.changeMu.Unlock()
}

// Open opens the journal at path, creating it (and nothing else) when it does
// not exist and opts.ReadOnly is false. It fails with ErrLocked when another
// Journal holds the file past opts.Timeout, and with an error wrapping
// ErrCorrupt (a *CorruptError naming the file) when the file is damaged;
// it never writes to a file it finds damaged. Open reads only the meta, the
// last entry and the unfinished transactions: its cost does not grow with
// the history (Verify checks everything).
func Open(path string, opts Options) (*Journal, error) {
	start := time.Now()
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	lg := opts.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !opts.ReadOnly:
		if err := create(path, opts); err != nil {
			return nil, fmt.Errorf("create journal %s: %w", path, err)
		}
		lg.Info("journal created", zap.String("path", path))
	case err != nil:
		return nil, fmt.Errorf("open journal: %w", err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("open journal %s: not a regular file", path)
	case fi.Size() == 0:
		return nil, &CorruptError{Path: path, Reason: "empty file (a journal is never empty once created)"}
	}

	// Check the file's shape under a shared lock before bbolt reads more
	// than its meta pages (a read-only open without preloading reads no
	// other page).
	ro, err := openBolt(path, true, false, opts)
	if err != nil {
		return nil, err
	}
	if err := checkPath(path); err != nil {
		_ = ro.Close()
		lg.Error("journal damaged", zap.String("path", path), zap.Error(err))
		return nil, err
	}
	if err := ro.Close(); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	// Now for real: read-only ones load the freelist too, so that Stats
	// counts free pages.
	db, err := openBolt(path, opts.ReadOnly, opts.ReadOnly, opts)
	if err != nil {
		return nil, err
	}
	j := &Journal{path: path, db: db, log: lg, readOnly: opts.ReadOnly}
	rep, err := j.checkOpen()
	if err != nil {
		_ = db.Close()
		lg.Error("journal damaged", zap.String("path", path), zap.Error(err))
		return nil, err
	}
	lg.Info("journal opened", zap.String("path", path), zap.Bool("read-only", opts.ReadOnly),
		zap.Uint64("last-seq", rep.lastSeq), zap.Int("unfinished", rep.unfinished), zap.Duration("took", time.Since(start)))
	return j, nil
}

func checkPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	defer f.Close()
	return checkFile(path, f)
}

// openBolt opens path with bbolt, turning a lock timeout into ErrLocked, a
// bad meta page into ErrCorrupt and a panic or memory fault into ErrCorrupt.
func openBolt(path string, readOnly, preload bool, opts Options) (db *bolt.DB, err error) {
	var file *os.File
	bo := &bolt.Options{
		Timeout:         opts.Timeout,
		ReadOnly:        readOnly,
		PreLoadFreelist: preload,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			open := os.OpenFile
			if opts.openFile != nil {
				open = opts.openFile
			}
			f, err := open(name, flag, perm)
			file = f
			return f, err
		},
	}
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			// bbolt gave up half-way: release the lock it took. Its mapping
			// of the damaged file is lost to us and stays until exit.
			if file != nil {
				_ = file.Close()
			}
			db, err = nil, &CorruptError{Path: path, Reason: fmt.Sprintf("bbolt failed opening the file: %v", r)}
		}
	}()
	db, err = bolt.Open(path, layout.JournalMode, bo)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open journal %s: %w (waited %v)", path, ErrLocked, opts.Timeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, &CorruptError{Path: path, Reason: "bbolt: " + err.Error()}
	}
	// bbolt reports some damage (a file too short) with plain errors:
	// name the damage when the file shows it.
	if cerr := checkPath(path); errors.Is(cerr, ErrCorrupt) {
		return nil, cerr
	}
	return nil, fmt.Errorf("open journal %s: %w", path, err)
}

// create makes a new, empty journal at path atomically: it builds it under a
// temporary name beside path and links it into place, so that path never
// names a half-initialised file and an existing journal is never replaced.
func create(path string, opts Options) (err error) {
	id := opts.ID
	if id == "" {
		if id, err = NewID(); err != nil {
			return err
		}
	} else if !validID(id) {
		return fmt.Errorf("journal id %q is not 32 lower-case hex digits", id)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+layout.CreatingInfix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Close(); err != nil {
		return err
	}
	db, err := bolt.Open(tmp, layout.JournalMode, &bolt.Options{Timeout: opts.Timeout})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		if err := m.Put(metaVersion, []byte(formatVersion)); err != nil {
			return err
		}
		if err := m.Put(metaLastSeq, seqKey(0)); err != nil {
			return err
		}
		if err := m.Put(metaVerifiedSeq, seqKey(0)); err != nil {
			return err
		}
		if err := m.Put(metaID, []byte(id)); err != nil {
			return err
		}
		return m.Put(metaTxns, seqKey(0))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created meanwhile by another opener: use theirs
		}
		if _, serr := os.Lstat(path); !errors.Is(serr, fs.ErrNotExist) {
			return err
		}
		if err := os.Rename(tmp, path); err != nil { // no hard links here
			return err
		}
	}
	// Unlink the temporary name before the directory fsync, so that one
	// fsync makes the journal's name durable and leaves no stray file.
	_ = os.Remove(tmp)
	return syncDir(dir)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsync'd there; NTFS journals metadata
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Path returns the journal file's path as given to Open.
func (j *Journal) Path() string { return j.path }

// Close releases the file. Later calls of any method return ErrClosed;
// Close itself may be called again and then returns nil.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	defer j.notifyChanged()
	j.storeMark()
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("close journal %s: %w", j.path, err)
	}
	return nil
}

// storeMark stores the verified mark when CheckRecent moved it and no
// Append stored it since (a start without requests): one small commit at Close, so
// that the next start does not check the same entries again. Nothing is
// written to a read-only, failed or damaged journal; an error only means
// the next start checks more.
func (j *Journal) storeMark() {
	mark := j.verified.Load()
	if mark == 0 || !j.recent.Load() || j.readOnly || j.failed.Load() != nil || j.Damaged() != nil {
		return
	}
	var stored journalMeta
	err := j.guard(&pos{where: "reading the meta"}, func() error {
		return j.db.View(func(tx *bolt.Tx) error {
			t, err := openTables(j.path, tx)
			if err == nil {
				stored, err = readMetaBucket(j.path, t.meta)
			}
			return err
		})
	})
	if err != nil || mark <= stored.verified || mark > stored.lastSeq {
		return
	}
	err = j.guard(&pos{where: "storing the verified mark"}, func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(metaVerifiedSeq, seqKey(mark))
		})
	})
	if err != nil {
		j.log.Warn("journal: verified mark not stored", zap.String("path", j.path), zap.Error(err))
	}
}

// pos is where a read or check is, so that a panic or fault inside bbolt can
// be reported against the entry or transaction being read.
type pos struct {
	seq   uint64
	txn   string
	where string // what was being read, when seq and txn cannot say
	after string // the txn read before, when where is about the next one
}

// String describes p for an error's reason: where, and after which txn.
func (p *pos) String() string {
	if p.after != "" {
		return p.where + " after txn " + p.after
	}
	return p.where
}

// guard runs fn with memory faults turned into panics and turns any panic
// (bbolt panics on damaged pages) into a *CorruptError at p.
func (j *Journal) guard(p *pos, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			ce := &CorruptError{Path: j.path, Reason: fmt.Sprintf("bbolt failed reading the file: %v", r)}
			if p != nil {
				ce.Seq, ce.TxnID = p.seq, p.txn
				if p.where != "" {
					ce.Reason = p.String() + ": " + ce.Reason
				}
			}
			err = ce
		}
	}()
	return fn()
}

// view runs fn in a read transaction, guarded.
func (j *Journal) view(p *pos, fn func(tx *bolt.Tx) error) error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return ErrClosed
	}
	return j.guard(p, func() error { return j.db.View(fn) })
}

// corrupt builds a *CorruptError for this journal.
func (j *Journal) corrupt(seq uint64, txn, format string, args ...any) *CorruptError {
	return &CorruptError{Path: j.path, Seq: seq, TxnID: txn, Reason: fmt.Sprintf(format, args...)}
}
