package logging

import "go.uber.org/zap/zapcore"

// filterCore passes only entries whose spec level is at most max, whatever
// the wrapped cores would accept on their own.
type filterCore struct {
	zapcore.Core
	max Level
}

func (c filterCore) allow(z zapcore.Level) bool { return fromZap(z) <= c.max }

func (c filterCore) Enabled(z zapcore.Level) bool { return c.allow(z) && c.Core.Enabled(z) }

func (c filterCore) With(fields []zapcore.Field) zapcore.Core {
	return filterCore{Core: c.Core.With(fields), max: c.max}
}

func (c filterCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !c.allow(ent.Level) {
		return ce
	}
	return c.Core.Check(ent, ce)
}

// pinCore writes every entry at one fixed level, whichever zap method made
// it: it backs the loggers returned by Logger.At.
type pinCore struct {
	zapcore.Core
	lvl zapcore.Level
}

func (c pinCore) Enabled(zapcore.Level) bool { return c.Core.Enabled(c.lvl) }

func (c pinCore) With(fields []zapcore.Field) zapcore.Core {
	return pinCore{Core: c.Core.With(fields), lvl: c.lvl}
}

func (c pinCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	ent.Level = c.lvl
	return c.Core.Check(ent, ce)
}

// plainCore hands a caller's core (Options.Also) standard zap levels: Basic,
// which zap has no name for, becomes Info.
type plainCore struct{ zapcore.Core }

func plain(z zapcore.Level) zapcore.Level {
	if z == basicZap {
		return zapcore.InfoLevel
	}
	return z
}

func (c plainCore) Enabled(z zapcore.Level) bool { return c.Core.Enabled(plain(z)) }

func (c plainCore) With(fields []zapcore.Field) zapcore.Core {
	return plainCore{c.Core.With(fields)}
}

func (c plainCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c plainCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ent.Level = plain(ent.Level)
	return c.Core.Write(ent, fields)
}
