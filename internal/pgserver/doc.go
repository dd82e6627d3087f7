// Package pgserver starts a throw-away PostgreSQL server on loopback for
// tests and the chain bench: initdb on a fresh data directory, postgres on
// 127.0.0.1 at a free port, stopped (and the directory removed) by Stop. As
// root it runs the server as the "postgres" user (else "nobody"), which
// PostgreSQL requires; the server dies with its parent (Linux parent-death
// signal). Nothing survives Stop. Only on Linux; elsewhere Start returns
// ErrMissing. Without the binaries (Debian package postgresql) Start returns
// ErrMissing, whose message names the package, so tests can skip.
package pgserver
