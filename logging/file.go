package logging

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
)

const (
	filePrefix = "WbCPSPay."
	fileSuffix = ".log"
	dayLayout  = "20060102"
)

// FileName returns the name of the log file for the JST day of t:
// WbCPSPay.YYYYMMDD.log.
func FileName(t time.Time) string {
	return filePrefix + t.In(paytree.JST).Format(dayLayout) + fileSuffix
}

// dailyFile is a zapcore.WriteSyncer that writes to the file of the current
// JST day, switching files when the clock passes JST midnight and deleting
// expired files when it does. Safe for concurrent use.
type dailyFile struct {
	dir    string
	clock  clockwork.Clock
	expire int
	enc    zapcore.Encoder // formats the writer's own warnings
	warn   bool            // whether Warning messages are written

	mu     sync.Mutex
	day    string // JST day of f, YYYYMMDD
	f      *os.File
	closed bool
}

// open opens today's file and runs the expiry, as Open does.
func (w *dailyFile) open() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rollLocked()
}

func (w *dailyFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	rollErr := w.rollLocked()
	if w.f == nil {
		return 0, rollErr
	}
	// When the next day's file cannot be opened the line still goes to the
	// previous one, and zap reports the error on its error output.
	n, err := w.f.Write(p)
	if err == nil {
		err = rollErr
	}
	return n, err
}

// Sync flushes the current file to disk.
func (w *dailyFile) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.f == nil {
		return nil
	}
	return w.f.Sync()
}

// Close syncs and closes the current file; later writes return ErrClosed.
func (w *dailyFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := errors.Join(w.f.Sync(), w.f.Close())
	w.f = nil
	if err != nil {
		return fmt.Errorf("close log file: %w", err)
	}
	return nil
}

// rollLocked switches to the file of the clock's JST day when it is not the
// open one, then deletes expired files. w.mu must be held.
func (w *dailyFile) rollLocked() error {
	now := w.clock.Now().In(paytree.JST)
	day := now.Format(dayLayout)
	if w.f != nil && day == w.day {
		return nil
	}
	path := filepath.Join(w.dir, filePrefix+day+fileSuffix)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, layout.LogFileMode)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	if w.f != nil {
		// The previous day's lines are all written; a failure to close it
		// loses nothing, so it is only reported in the new file.
		if cerr := w.f.Close(); cerr != nil {
			w.warnLocked(now, f, "logging: close previous log file", cerr, w.day)
		}
	}
	w.f, w.day = f, day
	w.expireLocked(now)
	return nil
}

// expireLocked deletes WbCPSPay.YYYYMMDD.log files whose day is more than
// w.expire days before now's JST day; 0 keeps every file. Other files,
// including WbCPSPay.*.log names without a valid date, are never touched.
func (w *dailyFile) expireLocked(now time.Time) {
	if w.expire <= 0 {
		return
	}
	y, m, d := now.Date()
	cutoff := time.Date(y, m, d, 0, 0, 0, 0, paytree.JST).AddDate(0, 0, -w.expire)
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		w.warnLocked(now, w.f, "logging: list log directory for expiry", err, w.dir)
		return
	}
	for _, e := range entries {
		day, ok := fileDay(e.Name())
		if !ok || !e.Type().IsRegular() || !day.Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(w.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.warnLocked(now, w.f, "logging: delete expired log file", err, e.Name())
		}
	}
}

// fileDay returns the JST day named by a WbCPSPay.YYYYMMDD.log file name.
func fileDay(name string) (time.Time, bool) {
	mid, ok := strings.CutPrefix(name, filePrefix)
	if !ok {
		return time.Time{}, false
	}
	mid, ok = strings.CutSuffix(mid, fileSuffix)
	if !ok || len(mid) != len(dayLayout) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(dayLayout, mid, paytree.JST)
	if err != nil || t.Format(dayLayout) != mid {
		return time.Time{}, false
	}
	return t, true
}

// warnLocked writes a Warning line about the writer's own trouble to f,
// formatted like every other line, when Warning messages are enabled.
func (w *dailyFile) warnLocked(now time.Time, f *os.File, msg string, err error, subject string) {
	if !w.warn || f == nil {
		return
	}
	ent := zapcore.Entry{Time: now, Level: Warning.zap(), Message: msg}
	buf, eerr := w.enc.EncodeEntry(ent, []zapcore.Field{zap.String("path", subject), zap.Error(err)})
	if eerr != nil {
		return
	}
	_, _ = f.Write(buf.Bytes())
	buf.Free()
}
