package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wbpay/wbpay/internal/atomicfile"
)

// Names of the files and folders of a home, relative to it (see the table
// in doc.go: what each holds, its mode, who writes it).
const (
	ConfFile        = "WbCPSPay.conf"          // the configuration (config.Write writes it)
	ClientKeyFile   = "client.pem"             // this terminal's private key (init, demo, tests)
	ClientPubFile   = "client.pub"             // its public key, the file to send to CPS
	GatewayPubFile  = "gateway.pub"            // the gateway's public key (demo, bench, tests)
	GatewayCAFile   = "gateway-ca.pem"         // the loopback gateway's TLS certificate (demo, bench, tests)
	JournalFile     = "wbpay.journal"          // the bbolt journal
	JournalIDFile   = "journal.id"             // the id of the home's journal
	UserCodeKeyFile = "usercode.key"           // the key of the keyed userCode hash
	DamageFile      = JournalFile + ".damaged" // damage found in the journal
	LogDir          = "Log"                    // the daily log files
	ServeFile       = "serve.json"             // where a running daemon listens
	TokenFile       = "serve.token"            // the daemon's bearer token
)

// Suffixes and prefixes of the files made beside another one.
const (
	// BrokenSuffix is appended to a damaged journal's name by repair, which
	// keeps it untouched (wbpay.journal.broken).
	BrokenSuffix = ".broken"
	// AbandonedPrefix starts the name the id file is renamed to by init
	// --start-over, followed by the UTC time (journal.id.abandoned-20261201T230000Z).
	AbandonedPrefix = JournalIDFile + ".abandoned-"
	// AbandonedTime is the time layout that follows AbandonedPrefix.
	AbandonedTime = "20060102T150405Z"
	// CreatingInfix and RepairingInfix name the journal's temporary files
	// while it is created (wbpay.journal.creating-*) or rebuilt
	// (wbpay.journal.repairing-<time>); a crash may leave one behind.
	CreatingInfix  = ".creating-"
	RepairingInfix = ".repairing-"
)

// Modes of the files and folders of a home.
const (
	ConfMode        os.FileMode = 0o640
	PrivateKeyMode  os.FileMode = 0o600
	PublicKeyMode   os.FileMode = 0o644
	CertMode        os.FileMode = 0o644
	JournalMode     os.FileMode = 0o600
	JournalIDMode   os.FileMode = 0o644
	UserCodeKeyMode os.FileMode = 0o600
	DamageMode      os.FileMode = 0o644
	LogDirMode      os.FileMode = 0o750
	LogFileMode     os.FileMode = 0o640
	ServeMode       os.FileMode = 0o600
	TokenMode       os.FileMode = 0o600
)

// File is one row of the layout: a name in the home, its mode, what it
// holds and what writes it.
type File struct {
	Name   string
	Mode   os.FileMode
	Dir    bool   // a folder
	Holds  string // what the file holds
	Writer string // what creates or changes it
}

// Files is the layout of a home, in the order of doc.go's table.
var Files = []File{
	{Name: ConfFile, Mode: ConfMode, Holds: "the configuration (library spec 2.6): Key = Value lines", Writer: "init, demo, bench, tests (config.Write); never the engine"},
	{Name: ClientKeyFile, Mode: PrivateKeyMode, Holds: "this terminal's RSA private key (PEM); never logged, never copied", Writer: "init, keys gen, demo (WriteKeyPair)"},
	{Name: ClientPubFile, Mode: PublicKeyMode, Holds: "its public key (PEM): the file to send to CPS", Writer: "init, keys gen, demo (WriteKeyPair)"},
	{Name: GatewayPubFile, Mode: PublicKeyMode, Holds: "the gateway's public key (PEM; PublicKeyFile may name another file)", Writer: "the operator; demo, bench, tests"},
	{Name: GatewayCAFile, Mode: CertMode, Holds: "the loopback gateway's TLS certificate (PEM)", Writer: "demo, bench, tests"},
	{Name: JournalFile, Mode: JournalMode, Holds: "the journal (bbolt): every transition and snapshot, hash-chained", Writer: "the engine (journal.Open, Append)"},
	{Name: JournalFile + BrokenSuffix, Mode: JournalMode, Holds: "a damaged journal, kept untouched by repair", Writer: "repair (journal.Repair)"},
	{Name: DamageFile, Mode: DamageMode, Holds: "when and what damage was found in the journal: new requests are refused while it exists", Writer: "the engine, verify; removed by a clean verify, moved aside by repair"},
	{Name: JournalIDFile, Mode: JournalIDMode, Holds: "the id of the home's journal (32 hex digits): a missing journal is refused, not replaced", Writer: "the engine, at the journal's first Open"},
	{Name: AbandonedPrefix + "<time>", Mode: JournalIDMode, Holds: "the id of a lost journal given up", Writer: "init --start-over (renames journal.id)"},
	{Name: UserCodeKeyFile, Mode: UserCodeKeyMode, Holds: "the key of the keyed userCode hash (64 hex digits); never logged, exported or shipped", Writer: "the engine, at its first Open"},
	{Name: LogDir, Mode: LogDirMode, Dir: true, Holds: "the daily log files WbCPSPay.YYYYMMDD.log (JST date, mode 0640)", Writer: "init creates it; the engine (logging) writes and expires the files"},
	{Name: ServeFile, Mode: ServeMode, Holds: "where the running daemon listens: url, pid, startedAt (JSON)", Writer: "serve; removed when it stops"},
	{Name: TokenFile, Mode: TokenMode, Holds: "the daemon's bearer token (64 hex digits); never logged", Writer: "serve, at its first start"},
}

// Home is a home directory; its methods return the paths of its files.
type Home string

// Path returns the path of name inside h.
func (h Home) Path(name string) string { return filepath.Join(string(h), name) }

// Conf returns the path of WbCPSPay.conf.
func (h Home) Conf() string { return h.Path(ConfFile) }

// Journal returns the path of the journal.
func (h Home) Journal() string { return h.Path(JournalFile) }

// JournalID returns the path of journal.id.
func (h Home) JournalID() string { return h.Path(JournalIDFile) }

// UserCodeKey returns the path of usercode.key.
func (h Home) UserCodeKey() string { return h.Path(UserCodeKeyFile) }

// Damage returns the path of the damage record.
func (h Home) Damage() string { return h.Path(DamageFile) }

// Log returns the path of the log folder.
func (h Home) Log() string { return h.Path(LogDir) }

// Serve returns the path of serve.json.
func (h Home) Serve() string { return h.Path(ServeFile) }

// Token returns the path of serve.token.
func (h Home) Token() string { return h.Path(TokenFile) }

// ModeOf returns the mode of the home file name (a row of Files), and
// whether there is one.
func ModeOf(name string) (os.FileMode, bool) {
	for _, f := range Files {
		if f.Name == name && !f.Dir {
			return f.Mode, true
		}
	}
	return 0, false
}

// Write writes data to the file name of the home dir atomically (temp
// file, fsync, rename, fsync the folder) with the mode the layout gives it.
// With exclusive it never replaces an existing file (an error wrapping
// ErrExists). A name that is not a file of the layout is ErrNotInLayout.
func Write(dir, name string, data []byte, exclusive bool) error {
	mode, ok := ModeOf(name)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotInLayout, name)
	}
	return atomicfile.WriteFile(filepath.Join(dir, name), data, mode, exclusive)
}

// WriteKeyPair writes a key pair's PEM encodings atomically: the private
// key to privPath (mode PrivateKeyMode), the public key to pubPath
// (PublicKeyMode). It never replaces a file (an error wrapping
// ErrExists, naming it, before anything is written) and removes the
// private file again when the public one cannot be written.
func WriteKeyPair(privPath, pubPath string, privPEM, pubPEM []byte) error {
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := atomicfile.WriteFile(privPath, privPEM, PrivateKeyMode, true); err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	if err := atomicfile.WriteFile(pubPath, pubPEM, PublicKeyMode, true); err != nil {
		_ = os.Remove(privPath)
		return fmt.Errorf("write public key: %w", err)
	}
	return nil
}

// MkdirLog creates the home dir and its Log folder (LogDirMode) if they
// are missing, fsyncing each new folder into its parent.
func MkdirLog(dir string) error { return atomicfile.MkdirAll(Home(dir).Log(), LogDirMode) }
