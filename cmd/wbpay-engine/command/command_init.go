package command

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
)

// Files init creates in the home (package layout describes them all).
const (
	clientKeyFile = layout.ClientKeyFile
	clientPubFile = layout.ClientPubFile
	logDirName    = layout.LogDir
)

// testValues fill the merchant and terminal keys of a test-mode home: the
// built-in simulator registers every well-formed value.
var testValues = map[string]string{
	"MerchantId":      "123456789012",
	"TerminalUniquId": "1234501234561",
	"BranchCode":      "B001",
	"TerminalCode":    "T01",
}

func init() { verbs = append(verbs, newInitCommand) }

func newInitCommand(g *globals) *cobra.Command {
	var testMode, startOver bool
	cmd := &cobra.Command{
		Use:   "init --home DIR [--test-mode | --start-over]",
		Short: "Create a home: commented WbCPSPay.conf, client key pair, Log/",
		Long: `init creates the engine's home directory with:

  WbCPSPay.conf  every key with its meaning and default (library spec 2.6);
                 the values only CPS can give you are "<EDIT: …>" placeholders
                 that the engine refuses until they are replaced
  client.pem     this terminal's RSA private key (mode 0600): never copy it
  client.pub     its public key: the file to send to CPS
  Log/           the engine's daily log files

With --test-mode the configuration sets AppTestMode = yes and test merchant
and terminal codes, so the engine answers from its built-in simulator at once
and nothing leaves the host.

init never overwrites a file: when one of them exists it stops, naming it,
before writing anything.

init --start-over, on an existing home whose journal is lost (the engine
refuses to replace it with an empty one), gives up that journal's history
for good: it logs the start-over in Log/ and renames journal.id to
journal.id.abandoned-<time>, so that the next start creates a new journal.
It refuses while the journal file exists.`,
		Example: `  wbpay-engine init --home ./pos1 --test-mode
  wbpay-engine init --home /var/lib/wbpay
  WBPAY_HOME=/var/lib/wbpay wbpay-engine init -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if startOver {
				return g.startOver()
			}
			return g.initHome(testMode)
		},
	}
	cmd.Flags().BoolVar(&startOver, "start-over", false, "on a home whose journal is lost: give up its history (logged) so that the next start creates a new journal")
	cmd.Flags().BoolVar(&testMode, "test-mode", false, "configure test mode (AppTestMode = yes, test merchant codes): the built-in simulator answers")
	cmd.MarkFlagsMutuallyExclusive("start-over", "test-mode")
	return cmd
}

// initJSON is init's -o json output.
type initJSON struct {
	Home        string `json:"home"`
	TestMode    bool   `json:"testMode"`
	Config      string `json:"config"`
	PrivateKey  string `json:"privateKey"`
	PublicKey   string `json:"publicKey"`
	LogDir      string `json:"logDir"`
	Fingerprint string `json:"fingerprint"`
}

func (g *globals) initHome(testMode bool) error {
	home := g.home
	h := layout.Home(home)
	conf, priv, pub, logDir := h.Conf(), h.Path(clientKeyFile), h.Path(clientPubFile), h.Log()
	for _, p := range []string{conf, priv, pub} {
		if _, err := os.Lstat(p); err == nil {
			return withExit(ExitLibrary, fmt.Errorf("%s already exists: init never overwrites a file (choose another --home, or move it away)", p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return withExit(ExitLibrary, err)
		}
	}
	if fi, err := os.Stat(logDir); err == nil && !fi.IsDir() {
		return withExit(ExitLibrary, fmt.Errorf("%s exists and is not a directory", logDir))
	}
	// The home and Log/ are fsync'd into their parents: a power cut right
	// after init answers must not take the whole home with it.
	if err := layout.MkdirLog(home); err != nil {
		return withExit(ExitLibrary, fmt.Errorf("create home: %w", err))
	}
	key, err := generateKeyPair(priv, pub)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("generate the client key pair: %w", err))
	}
	if err := config.Write(home, initConfig(testMode), true); err != nil {
		_ = os.Remove(priv)
		_ = os.Remove(pub)
		return withExit(ExitLibrary, fmt.Errorf("write %s: %w", conf, err))
	}
	fp := keys.Fingerprint(&key.PublicKey)
	if g.json() {
		return jsonOrExit(g, initJSON{Home: home, TestMode: testMode, Config: conf, PrivateKey: priv, PublicKey: pub, LogDir: logDir, Fingerprint: fp})
	}
	w := g.stdout
	mode := ""
	if testMode {
		mode = " (test mode)"
	}
	fmt.Fprintf(w, "Created the wbpay home %s%s:\n", home, mode)
	table(w, nil, [][]string{
		{"  " + conf, "configuration: every key, its meaning and default"},
		{"  " + priv, "this terminal's private key (mode 0600): never copy it anywhere"},
		{"  " + pub, "this terminal's public key: the file to send to CPS"},
		{"  " + logDir + string(filepath.Separator), "the engine's daily log files"},
	})
	fmt.Fprintf(w, "\nPublic key: %s\nFingerprint: %s\n\nNext steps:\n", pub, fp)
	if testMode {
		fmt.Fprintf(w, "  1. wbpay-engine config check --home %s\n", home)
		fmt.Fprintf(w, "  2. wbpay-engine pay --home %s --amount 1000 --user-code 281234567890123456\n", home)
		fmt.Fprintln(w, "     (test mode: the built-in simulator answers; nothing leaves this host)")
		fmt.Fprintf(w, "  3. wbpay-engine history --home %s\n", home)
	} else {
		fmt.Fprintln(w, "  1. Send the public key file above to CPS (read them the fingerprint to check it),")
		fmt.Fprintln(w, "     and get from them the gateway's URL, API paths, public key file and your codes.")
		fmt.Fprintf(w, "  2. Save the gateway's public key in %s and replace every \"<EDIT: …>\" in\n     %s.\n", home, conf)
		fmt.Fprintf(w, "  3. wbpay-engine config check --home %s\n", home)
		fmt.Fprintln(w, "  4. Run `wbpay-engine recover` at boot, before the POS starts (docs/recovery.md).")
	}
	return nil
}

// jsonOrExit writes v as JSON; a write error is a library error.
func jsonOrExit(g *globals, v any) error {
	if err := writeJSON(g.stdout, v); err != nil {
		return withExit(ExitLibrary, err)
	}
	return nil
}

// initConfig is config.Template with PrivateKeyFile set to the generated
// key and, in test mode, AppTestMode = yes, test merchant codes and the
// gateway keys (which the simulator replaces) commented out.
func initConfig(testMode bool) config.Conf {
	c := config.Conf{Template: true, Values: map[string]string{"PrivateKeyFile": clientKeyFile}, Notes: map[string]string{}}
	if testMode {
		c.Values["AppTestMode"] = "yes"
		for k, v := range testValues {
			c.Values[k] = v
			c.Notes[k] = "test value: use the one from CPS in production"
		}
	}
	return c
}
