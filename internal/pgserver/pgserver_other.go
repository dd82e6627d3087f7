//go:build !linux

package pgserver

import (
	"context"
	"errors"
)

// ErrMissing is returned by Start: not supported here.
var ErrMissing = errors.New("pgserver: only on Linux (install the Debian package postgresql there)")

// Options configure Start.
type Options struct {
	Durable  bool
	Settings []string
}

// Server is a running PostgreSQL.
type Server struct {
	DSN     string
	Port    int
	DataDir string
}

// BinDir returns ErrMissing.
func BinDir() (string, error) { return "", ErrMissing }

// Start returns ErrMissing.
func Start(context.Context, Options) (*Server, error) { return nil, ErrMissing }

// Stop does nothing.
func (s *Server) Stop() {}

// Log returns "".
func (s *Server) Log() string { return "" }

// DiskBytes returns 0.
func (s *Server) DiskBytes() int64 { return 0 }
