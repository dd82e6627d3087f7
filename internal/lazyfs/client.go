//go:build linux

package lazyfs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Check returns nil when this machine can mount a lazyfs, else an error
// wrapping ErrUnavailable that names what is missing (for t.Skip).
func Check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root (the lossy filesystem is mounted with fusermount3 as root)", ErrUnavailable)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("%w: no /dev/fuse (load the fuse module, or give the container the device): %v", ErrUnavailable, err)
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return fmt.Errorf("%w: fusermount3 is not on PATH (install the Debian package fuse3)", ErrUnavailable)
	}
	return nil
}

// BuildServer builds the lazyfsd server into dir, with the extra go build
// flags given (e.g. "-race"), and returns its path. The go command must be
// on PATH (it is, under go test).
func BuildServer(dir string, flags ...string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("lazyfs: build the server: %w", err)
	}
	bin := filepath.Join(dir, "lazyfsd")
	args := append(append([]string{"build"}, flags...), "-o", bin, "github.com/wbpay/wbpay/internal/lazyfs/cmd/lazyfsd")
	cmd := exec.Command(goBin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lazyfs: build the server: %v: %s", err, out)
	}
	return bin, nil
}

// Shared is the server binary of one test process: Path builds it on its
// first call (with that call's flags) into a temporary folder, and Remove
// deletes the folder again; a test package's TestMain calls Remove after
// m.Run, so no run leaves a binary behind in the temporary folder.
type Shared struct {
	once     sync.Once
	dir, bin string
	err      error
}

// Path returns the server binary, building it on the first call.
func (s *Shared) Path(flags ...string) (string, error) {
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp("", "lazyfsd-"); s.err == nil {
			s.bin, s.err = BuildServer(s.dir, flags...)
		}
	})
	return s.bin, s.err
}

// Remove deletes what Path built (nothing when it was never called).
func (s *Shared) Remove() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// Mount is a lazyfs served by a lazyfsd child process, so that the test
// process may mmap files on it (bbolt does). Not safe for concurrent use.
type Mount struct {
	cfg    Config
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *syncBuffer
	waited chan struct{}
	ended  bool
}

// Start runs the server bin (see BuildServer) on cfg and waits until the
// mount is up.
func Start(bin string, cfg Config) (*Mount, error) {
	if cfg.Backing == "" || cfg.Mountpoint == "" {
		return nil, fmt.Errorf("%w: backing and mountpoint are both needed", ErrConfig)
	}
	args := []string{"-backing", cfg.Backing, "-mount", cfg.Mountpoint}
	if cfg.Scratch != "" {
		args = append(args, "-scratch", cfg.Scratch)
	}
	if cfg.Debug {
		args = append(args, "-debug")
	}
	m := &Mount{cfg: cfg, cmd: exec.Command(bin, args...), stderr: &syncBuffer{}, waited: make(chan struct{})}
	m.cmd.Stderr = m.stderr
	// A race-built server would sleep a second at each exit.
	m.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	var err error
	if m.in, err = m.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := m.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	m.out = bufio.NewScanner(stdout)
	m.out.Buffer(make([]byte, 64<<10), 64<<20)
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("lazyfs: start %s: %w", bin, err)
	}
	r, err := m.read()
	if err == nil && !r.Ready {
		err = fmt.Errorf("lazyfs: mount %s: %s", cfg.Mountpoint, r.Error)
	}
	if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Dir returns the mountpoint.
func (m *Mount) Dir() string { return m.cfg.Mountpoint }

func (m *Mount) read() (reply, error) {
	if !m.out.Scan() {
		err := m.out.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return reply{}, fmt.Errorf("lazyfs: server: %v (stderr: %s)", err, m.stderr.String())
	}
	var r reply
	if err := json.Unmarshal(m.out.Bytes(), &r); err != nil {
		return reply{}, fmt.Errorf("lazyfs: server said %q: %v", m.out.Text(), err)
	}
	return r, nil
}

func (m *Mount) call(req request) (reply, error) {
	if m.ended {
		return reply{}, ErrStopped
	}
	b, err := json.Marshal(req)
	if err != nil {
		return reply{}, err
	}
	if _, err := m.in.Write(append(b, '\n')); err != nil {
		return reply{}, fmt.Errorf("lazyfs: server: %w (stderr: %s)", err, m.stderr.String())
	}
	r, err := m.read()
	if err != nil {
		return r, err
	}
	if !r.OK {
		return r, fmt.Errorf("lazyfs: %s: %s", req.Op, r.Error)
	}
	return r, nil
}

// Sync makes everything on the mount durable, as sync(2) would.
func (m *Mount) Sync() error {
	_, err := m.call(request{Op: "sync"})
	return err
}

// Cut is a power cut (see FS.Cut): when it returns, the mount is gone and
// the backing directory holds only what was durable; Start mounts it again.
func (m *Mount) Cut(seed int64, tear bool) (Report, error) {
	r, err := m.call(request{Op: "cut", Seed: seed, Tear: tear})
	if eerr := m.end(); err == nil {
		err = eerr
	}
	var rep Report
	if r.Report != nil {
		rep = *r.Report
	}
	return rep, err
}

// Unmount is a clean shutdown: everything becomes durable first.
func (m *Mount) Unmount() error {
	_, err := m.call(request{Op: "unmount"})
	if eerr := m.end(); err == nil {
		err = eerr
	}
	return err
}

// end waits for the server to exit; an exit other than 0 (a race report
// of a -race build is one) is an error carrying its stderr.
func (m *Mount) end() error {
	if m.ended {
		return nil
	}
	m.ended = true
	_ = m.in.Close()
	done := make(chan error, 1)
	go func() { done <- m.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
		err = errors.New("did not exit within 30s")
	}
	if err != nil {
		return fmt.Errorf("lazyfs: server: %v (stderr: %s)", err, m.stderr.String())
	}
	return nil
}

// Close stops a server still running without writing its backing
// directory (for t.Cleanup); after Cut or Unmount it does nothing.
func (m *Mount) Close() {
	if m.ended {
		return
	}
	_ = m.end()
	// A server killed before it unmounted leaves a dead mount behind.
	_ = exec.Command("fusermount3", "-u", "-z", m.cfg.Mountpoint).Run()
}

// syncBuffer is a bytes.Buffer for a child's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
