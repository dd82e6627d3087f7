package logging

import (
	"fmt"
	"os"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
)

// Options configure Open.
type Options struct {
	Dir    string          // the Log directory; created if missing
	Level  Level           // the configured level (LogLevel); the config's default is DefaultLevel
	Expire int             // LogExpire: days a file is kept; 0 keeps every file
	Clock  clockwork.Clock // nil means the real clock
	Also   zapcore.Core    // optional tee (stderr, zaptest), filtered by Level too; nil for none
}

// Logger writes the engine's log to one file per JST day in Options.Dir.
// All its methods are safe for concurrent use.
type Logger struct {
	level Level
	file  *dailyFile
	base  *zap.Logger
	at    [Transaction + 1]*zap.Logger
}

var nop = zap.NewNop()

// Open creates the directory if needed, opens today's file
// (WbCPSPay.YYYYMMDD.log, JST date) and deletes expired files.
func Open(opts Options) (*Logger, error) {
	switch {
	case opts.Dir == "":
		return nil, fmt.Errorf("%w: Dir is empty", ErrOptions)
	case !opts.Level.Valid():
		return nil, fmt.Errorf("%w: Level %d is not 0 (Basic) to 4 (Transaction)", ErrOptions, int(opts.Level))
	case opts.Expire < 0:
		return nil, fmt.Errorf("%w: Expire %d is negative", ErrOptions, opts.Expire)
	}
	clock := opts.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if err := os.MkdirAll(opts.Dir, layout.LogDirMode); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		TimeKey:        "time",
		LevelKey:       "level",
		NameKey:        "logger",
		MessageKey:     "msg",
		StacktraceKey:  "stack",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeTime:     encodeTime,
		EncodeLevel:    encodeLevel,
		EncodeDuration: zapcore.StringDurationEncoder,
		EncodeName:     zapcore.FullNameEncoder,
	})
	w := &dailyFile{dir: opts.Dir, clock: clock, expire: opts.Expire, enc: enc.Clone(), warn: Warning <= opts.Level}
	if err := w.open(); err != nil {
		return nil, err
	}
	var core zapcore.Core = zapcore.NewCore(enc, w, zap.LevelEnablerFunc(func(zapcore.Level) bool { return true }))
	if opts.Also != nil {
		core = zapcore.NewTee(core, plainCore{opts.Also})
	}
	core = filterCore{Core: core, max: opts.Level}
	zopts := []zap.Option{zap.WithClock(zapClock{clock})}
	l := &Logger{level: opts.Level, file: w, base: zap.New(core, zopts...)}
	for lv := Basic; lv <= Transaction; lv++ {
		l.at[lv] = nop
		if lv <= opts.Level {
			l.at[lv] = zap.New(pinCore{Core: core, lvl: lv.zap()}, zopts...)
		}
	}
	return l, nil
}

// Zap returns the underlying logger, for components that take a *zap.Logger.
// Its levels map to the spec's: Error and above → Error, Warn → Warning,
// Info → Sequence, Debug → Transaction.
func (l *Logger) Zap() *zap.Logger { return l.base }

// At returns a logger whose messages are all written at level, whichever zap
// method is called, or a no-op logger when level is above the configured one
// (or not a level). At itself allocates nothing; a disabled call costs only
// its fields' slice, so guard expensive fields with Enabled.
func (l *Logger) At(level Level) *zap.Logger {
	if !level.Valid() {
		return nop
	}
	return l.at[level]
}

// Enabled reports whether messages at level are written.
func (l *Logger) Enabled(level Level) bool { return level.Valid() && level <= l.level }

// Level returns the configured level.
func (l *Logger) Level() Level { return l.level }

// Close flushes and closes the log file. Later messages are not written to
// the file (zap reports ErrClosed on its error output). Closing twice is a no-op.
func (l *Logger) Close() error { return l.file.Close() }

// encodeTime writes t in JST with milliseconds: 2024-05-11T08:30:00.000+09:00.
func encodeTime(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.In(paytree.JST).Format("2006-01-02T15:04:05.000Z07:00"))
}

// zapClock gives zap the injected clock for entry timestamps.
type zapClock struct{ c clockwork.Clock }

func (z zapClock) Now() time.Time { return z.c.Now() }

// NewTicker is required by zapcore.Clock but used only by zap's sampler and
// buffered writer, which this package does not use.
func (z zapClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
