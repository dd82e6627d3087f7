//go:build linux

package lazyfs

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// The server protocol: the parent writes one JSON request per line on the
// server's stdin, the server answers one JSON line on its stdout. Its first
// line says whether the mount is up.
type request struct {
	Op   string `json:"op"` // "sync", "cut", "unmount"
	Seed int64  `json:"seed,omitempty"`
	Tear bool   `json:"tear,omitempty"`
}

type reply struct {
	OK     bool    `json:"ok"`
	Ready  bool    `json:"ready,omitempty"`
	Error  string  `json:"error,omitempty"`
	Report *Report `json:"report,omitempty"`
}

// Serve is the main of the lazyfsd server: it mounts the FS its flags
// describe (-backing, -mount, -scratch, -debug), answers requests read from
// in on out, and returns the exit code. EOF on in, SIGTERM or SIGINT
// unmount without writing the backing directory.
func Serve(args []string, in io.Reader, out, errOut io.Writer) int {
	fl := flag.NewFlagSet("lazyfsd", flag.ContinueOnError)
	fl.SetOutput(errOut)
	var cfg Config
	fl.StringVar(&cfg.Backing, "backing", "", "the durable store (a directory)")
	fl.StringVar(&cfg.Mountpoint, "mount", "", "where to mount the lossy view")
	fl.StringVar(&cfg.Scratch, "scratch", "", "where to keep the live files (default: a temporary directory)")
	fl.BoolVar(&cfg.Debug, "debug", false, "log every FUSE request")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	enc := json.NewEncoder(out)
	f, err := MountInProcess(cfg)
	if err != nil {
		_ = enc.Encode(reply{Error: err.Error()})
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		f.Abandon()
		os.Exit(1)
	}()
	if err := enc.Encode(reply{OK: true, Ready: true}); err != nil {
		f.Abandon()
		return 1
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			_ = enc.Encode(reply{Error: fmt.Sprintf("lazyfsd: bad request %q: %v", sc.Text(), err)})
			continue
		}
		switch req.Op {
		case "sync":
			if err := f.Sync(); err != nil {
				_ = enc.Encode(reply{Error: err.Error()})
				continue
			}
			_ = enc.Encode(reply{OK: true})
		case "cut":
			rep, err := f.Cut(req.Seed, req.Tear)
			if err != nil {
				_ = enc.Encode(reply{Error: err.Error(), Report: &rep})
				return 1
			}
			_ = enc.Encode(reply{OK: true, Report: &rep})
			return 0
		case "unmount":
			if err := f.Unmount(); err != nil {
				_ = enc.Encode(reply{Error: err.Error()})
				return 1
			}
			_ = enc.Encode(reply{OK: true})
			return 0
		default:
			_ = enc.Encode(reply{Error: fmt.Sprintf("lazyfsd: unknown op %q", req.Op)})
		}
	}
	f.Abandon()
	return 0
}
