//go:build linux

package pgserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrMissing is returned by Start when initdb or postgres cannot be found;
// its message names the Debian package.
var ErrMissing = errors.New("pgserver: PostgreSQL binaries (initdb, postgres) not found: install the Debian package postgresql")

// Options configure Start.
type Options struct {
	// Durable keeps fsync and synchronous_commit on (the bench); tests
	// leave it false for speed.
	Durable bool
	// Settings are extra "name=value" server settings.
	Settings []string
}

// Server is a running PostgreSQL.
type Server struct {
	DSN     string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
	Port    int
	DataDir string
	dir     string
	cmd     *exec.Cmd
	done    chan error
	cred    *syscall.Credential
	logPath string
}

// BinDir returns the directory holding initdb and postgres: from PATH, else
// the newest /usr/lib/postgresql/*/bin. ErrMissing when neither has them.
func BinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "postgres")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", ErrMissing
}

// Start runs initdb and postgres; the caller must Stop it.
func Start(ctx context.Context, o Options) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "wbpay-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, DataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "postgres.log"), done: make(chan error, 1)}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			return fail(fmt.Errorf("pgserver: running as root and no postgres or nobody user: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	initdb := s.command(ctx, filepath.Join(bin, "initdb"), "-D", s.DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgserver: initdb: %w: %s", err, strings.TrimSpace(string(out))))
	}
	settings := []string{"listen_addresses=127.0.0.1", "unix_socket_directories=" + dir, "max_connections=50",
		"shared_buffers=128MB", "log_min_messages=warning"}
	if !o.Durable {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	}
	settings = append(settings, o.Settings...)
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		args := []string{"-D", s.DataDir, "-p", strconv.Itoa(port)}
		for _, kv := range settings {
			args = append(args, "-c", kv)
		}
		logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fail(err)
		}
		cmd := s.command(context.WithoutCancel(ctx), filepath.Join(bin, "postgres"), args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		if err := cmd.Start(); err != nil {
			logf.Close()
			return fail(fmt.Errorf("pgserver: start postgres: %w", err))
		}
		s.cmd, s.Port = cmd, port
		s.done = make(chan error, 1)
		go func() { s.done <- cmd.Wait(); logf.Close() }()
		if err := s.waitReady(ctx); err == nil {
			s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			return s, nil
		} else if attempt == 2 {
			s.Stop()
			return nil, fmt.Errorf("pgserver: postgres did not start: %w\n%s", err, s.Log())
		}
		s.kill()
	}
}

// command builds a command that runs as the server's user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Dir = s.dir
	return cmd
}

// waitReady waits until the port accepts connections or postgres exits.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("postgres exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), time.Second); err == nil {
			c.Close()
			// Accepting is not ready: the startup may still refuse.
			if _, err := os.Stat(filepath.Join(s.DataDir, "postmaster.pid")); err == nil {
				if b, _ := os.ReadFile(filepath.Join(s.DataDir, "postmaster.pid")); strings.Contains(string(b), "ready") {
					return nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("timed out after 30s")
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Stop ends the server (a fast shutdown, then SIGKILL after 10 s) and
// removes its directory.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.kill()
		}
	}
	_ = os.RemoveAll(s.dir)
}

// DiskBytes returns the bytes under the data directory.
func (s *Server) DiskBytes() int64 {
	var n int64
	_ = filepath.Walk(s.DataDir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
