// Package layout is the one description of an engine home: the name of
// every file and folder the engine, its CLI and its daemon keep there, the
// mode each is written with, what it holds and what writes it. Everything
// that names a home file (init, the engine, the daemon, the bench, the
// tests) takes the name from here; Write writes a home file atomically
// (temp file, fsync, rename, fsync the folder) with its mode, and
// WriteKeyPair a key pair. config.Write is the one writer of WbCPSPay.conf.
//
// The home (this table is Files, rendered; TestDocTable fails when it is
// stale, and WBPAY_UPDATE_GOLDEN=1 rewrites it):
//
//	| name                        | mode | holds                                                                                    | written by                                                           |
//	|-----------------------------|------|------------------------------------------------------------------------------------------|----------------------------------------------------------------------|
//	| WbCPSPay.conf               | 0640 | the configuration (library spec 2.6): Key = Value lines                                  | init, demo, bench, tests (config.Write); never the engine            |
//	| client.pem                  | 0600 | this terminal's RSA private key (PEM); never logged, never copied                        | init, keys gen, demo (WriteKeyPair)                                  |
//	| client.pub                  | 0644 | its public key (PEM): the file to send to CPS                                            | init, keys gen, demo (WriteKeyPair)                                  |
//	| gateway.pub                 | 0644 | the gateway's public key (PEM; PublicKeyFile may name another file)                      | the operator; demo, bench, tests                                     |
//	| gateway-ca.pem              | 0644 | the loopback gateway's TLS certificate (PEM)                                             | demo, bench, tests                                                   |
//	| wbpay.journal               | 0600 | the journal (bbolt): every transition and snapshot, hash-chained                         | the engine (journal.Open, Append)                                    |
//	| wbpay.journal.broken        | 0600 | a damaged journal, kept untouched by repair                                              | repair (journal.Repair)                                              |
//	| wbpay.journal.damaged       | 0644 | when and what damage was found in the journal: new requests are refused while it exists  | the engine, verify; removed by a clean verify, moved aside by repair |
//	| journal.id                  | 0644 | the id of the home's journal (32 hex digits): a missing journal is refused, not replaced | the engine, at the journal's first Open                              |
//	| journal.id.abandoned-<time> | 0644 | the id of a lost journal given up                                                        | init --start-over (renames journal.id)                               |
//	| usercode.key                | 0600 | the key of the keyed userCode hash (64 hex digits); never logged, exported or shipped    | the engine, at its first Open                                        |
//	| Log/                        | 0750 | the daily log files WbCPSPay.YYYYMMDD.log (JST date, mode 0640)                          | init creates it; the engine (logging) writes and expires the files   |
//	| serve.json                  | 0600 | where the running daemon listens: url, pid, startedAt (JSON)                             | serve; removed when it stops                                         |
//	| serve.token                 | 0600 | the daemon's bearer token (64 hex digits); never logged                                  | serve, at its first start                                            |
//
// What survives a crash: every file above is written whole or not at all
// (atomically, or by bbolt for the journal), so a crash leaves either the
// old file or the new one. A crash may leave a temporary file beside its
// target: .NAME.tmp-* (an atomic write), wbpay.journal.creating-* (a
// journal being created) or wbpay.journal.repairing-<time> (a repair); none
// is ever read, and each may be deleted.
//
// Paths: a file's name joined to the home, or with Home:
//
//	cfg, err := config.Load(layout.Home(dir).Conf())
//	jr, err := journal.Open(layout.Home(dir).Journal(), journal.Options{})
//
// The configuration's PrivateKeyFile and PublicKeyFile may name other files
// (relative to the home, or absolute); init writes client.pem and the
// simulator-backed homes of the demo, bench and tests gateway.pub.
//
// The package imports nothing of the project but internal/atomicfile, so
// that every package may use it.
package layout
