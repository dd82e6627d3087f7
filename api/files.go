package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/wbpay/wbpay/layout"
	"github.com/wbpay/wbpay/paytree"
)

// Files of the daemon in the home directory (package layout describes
// every file of a home).
const (
	ServeFile = layout.ServeFile
	TokenFile = layout.TokenFile
	// DefaultListen is the listen address when neither --listen nor
	// ServeListen is given.
	DefaultListen = "127.0.0.1:8791"
)

// CheckListen returns addr when its host is a loopback address
// (127.0.0.0/8, ::1) or localhost, else an error wrapping ErrNotLoopback.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q is not host:port: %v", ErrNotLoopback, addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%w: %q: bad port", ErrNotLoopback, addr)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q (only 127.0.0.0/8, ::1 and localhost are accepted)", ErrNotLoopback, addr)
	}
	return nil
}

// Listen opens a TCP listener on a loopback addr ("localhost" listens on
// 127.0.0.1).
func Listen(addr string) (net.Listener, error) {
	if err := CheckListen(addr); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	if strings.EqualFold(host, "localhost") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return net.Listen("tcp", addr)
}

// LoadOrCreateToken returns the content of home/serve.token, creating it
// (32 random bytes as 64 hex digits, mode 0600) when it does not exist.
// The token is never logged.
func LoadOrCreateToken(home string) (string, error) {
	path := layout.Home(home).Token()
	tok, err := readToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("api: token: %w", err)
	}
	tok = hex.EncodeToString(b[:])
	err = layout.Write(home, TokenFile, []byte(tok+"\n"), true)
	if errors.Is(err, layout.ErrExists) {
		return readToken(path) // created meanwhile
	}
	if err != nil {
		return "", fmt.Errorf("api: write %s: %w", path, err)
	}
	return tok, nil
}

// ReadToken returns the content of home/serve.token.
func ReadToken(home string) (string, error) { return readToken(layout.Home(home).Token()) }

func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(data))
	if _, err := hex.DecodeString(tok); err != nil || len(tok) != 64 {
		return "", fmt.Errorf("%w: %s (remove it; the next serve creates a new one)", ErrBadToken, path)
	}
	return tok, nil
}

// ServeInfo is serve.json: where a running daemon listens.
type ServeInfo struct {
	URL       string `json:"url"`
	PID       int    `json:"pid"`
	StartedAt string `json:"startedAt"`
}

// WriteServeFile writes home/serve.json atomically with mode 0600.
func WriteServeFile(home, url string, pid int, started time.Time) error {
	data, err := json.Marshal(ServeInfo{URL: url, PID: pid, StartedAt: started.In(paytree.JST).Format(time.RFC3339)})
	if err != nil {
		return err
	}
	return layout.Write(home, ServeFile, append(data, '\n'), false)
}

// RemoveServeFile removes home/serve.json when it names pid.
func RemoveServeFile(home string, pid int) error {
	info, err := ReadServeFile(home)
	if err != nil || info.PID != pid {
		return nil
	}
	err = os.Remove(layout.Home(home).Serve())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ReadServeFile reads home/serve.json; ErrNoDaemon when there is none.
func ReadServeFile(home string) (ServeInfo, error) {
	var info ServeInfo
	data, err := os.ReadFile(layout.Home(home).Serve())
	if errors.Is(err, fs.ErrNotExist) {
		return info, ErrNoDaemon
	}
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil || info.URL == "" {
		return info, fmt.Errorf("%w: %s", ErrBadServeFile, layout.Home(home).Serve())
	}
	return info, nil
}
