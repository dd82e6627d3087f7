// Package logging writes the engine's log as the library spec (section 2.5)
// prescribes: one file per day, Log/WbCPSPay.YYYYMMDD.log in the engine home,
// dated in JST (UTC+9) whatever the host's zone, at five levels, with files
// older than LogExpire days deleted.
//
// Levels (LogLevel, by value or name; the configuration's default is Error):
//
//	0 Basic        start, stop and other basic facts of a run
//	1 Error        program errors and the gateway's error responses
//	2 Warning      data problems that do not stop the run
//	3 Sequence     each request method's request and response (recommended)
//	4 Transaction  every exchange with the gateway
//
// A message is written when its level is at most the configured one. At(l)
// returns a *zap.Logger that writes every message at level l (a no-op logger
// when l is above the configured level); Zap() returns the logger to inject
// into components that take a *zap.Logger, with zap's levels mapped: Error
// and above → Error, Warn → Warning, Info → Sequence, Debug → Transaction.
//
// File format: one line per message, zap's console encoding, tab-separated:
//
//	2024-05-11T08:30:00.000+09:00	Sequence	pay answered	{"txn-id": "…", "status": "PAID"}
//
// The level column holds the spec's names, not zap's. The file is chosen by
// the injected clock when a line is written, so a line stamped just before
// JST midnight may land at the top of the next day's file (the spec warns
// that the order of lines may differ from the order of events). Files are
// opened in append mode and each line is one write(2), so a crash loses at
// most the line being written; Close syncs the file.
//
// Expiry (Expire > 0) runs at Open and at each day roll-over: it deletes the
// regular files named WbCPSPay.YYYYMMDD.log whose date is more than Expire
// days before today (JST), so Expire 1 keeps today's and yesterday's files.
// Files with other names, including WbCPSPay.*.log names without a valid
// date, are never touched. A failure to delete is written as a Warning line.
//
// Use:
//
//	lg, err := logging.Open(logging.Options{Dir: filepath.Join(home, "Log"), Level: lvl, Expire: days})
//	defer lg.Close()
//	lg.At(logging.Basic).Info("engine started", zap.String("home", home))
//	client := transport.New(…, lg.Zap())
//
// A Logger is safe for concurrent use.
package logging
