package command

import (
	"crypto/rsa"
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

func init() { verbs = append(verbs, newConfigCommand) }

func newConfigCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Configuration tools (config check)",
		Long:    "config groups the configuration tools; see `wbpay-engine config check --help`.",
		Example: `  wbpay-engine config check --home /var/lib/wbpay`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("config needs a sub-command: check")
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the home's WbCPSPay.conf and key files",
		Long: `config check parses the home's WbCPSPay.conf exactly as the engine does and
lists every problem with its line number, then loads the key files it names
(this terminal's private key, and outside test mode the gateway's public
key), and lists the warnings (unknown keys, unusual values), also with line
numbers. With --gateway-ca it also loads that CA bundle.

Exit code 0 when the engine would start with this home (warnings allowed),
1 when it would not.`,
		Example: `  wbpay-engine config check --home /var/lib/wbpay
  wbpay-engine config check -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.configCheck()
		},
	})
	return cmd
}

// keyCheckJSON is the check of one key file.
type keyCheckJSON struct {
	Path        string `json:"path"`
	OK          bool   `json:"ok"`
	Bits        int    `json:"bits,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Error       string `json:"error,omitempty"`
}

// warningJSON is one configuration warning.
type warningJSON struct {
	Line    int    `json:"line"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

// configCheckJSON is config check's -o json output.
type configCheckJSON struct {
	OK         bool          `json:"ok"`
	Config     string        `json:"config"`
	TestMode   bool          `json:"testMode"`
	Errors     []string      `json:"errors"`
	Warnings   []warningJSON `json:"warnings"`
	PrivateKey *keyCheckJSON `json:"privateKey,omitempty"`
	GatewayKey *keyCheckJSON `json:"gatewayKey,omitempty"`
	GatewayCA  *keyCheckJSON `json:"gatewayCA,omitempty"`
}

func (g *globals) configCheck() error {
	path := layout.Home(g.home).Conf()
	out := configCheckJSON{Config: path, Errors: []string{}, Warnings: []warningJSON{}}
	cfg, err := config.Load(path)
	if err != nil {
		out.Errors = append(out.Errors, flatten(err)...)
	} else {
		out.TestMode = cfg.AppTestMode
		for _, w := range cfg.Warnings {
			out.Warnings = append(out.Warnings, warningJSON{Line: w.Line, Key: w.Key, Message: w.Message})
		}
		priv := cfg.ResolvePath(g.home, cfg.PrivateKeyFile)
		out.PrivateKey = checkPrivate(priv)
		if !out.PrivateKey.OK {
			out.Errors = append(out.Errors, "PrivateKeyFile: "+out.PrivateKey.Error)
		} else if mode := privateMode(priv); mode != "" {
			out.Warnings = append(out.Warnings, warningJSON{Key: "PrivateKeyFile", Message: mode})
		}
		if cfg.PublicKeyFile != "" {
			out.GatewayKey = checkPublic(cfg.ResolvePath(g.home, cfg.PublicKeyFile))
			switch {
			case out.GatewayKey.OK:
			case cfg.AppTestMode:
				out.Warnings = append(out.Warnings, warningJSON{Key: "PublicKeyFile", Message: out.GatewayKey.Error + " (not used in test mode)"})
			default:
				out.Errors = append(out.Errors, "PublicKeyFile: "+out.GatewayKey.Error)
			}
		}
	}
	if msg := checkLogDir(layout.Home(g.home).Log()); msg != "" {
		out.Errors = append(out.Errors, msg)
	}
	if g.gatewayCA != "" {
		out.GatewayCA = &keyCheckJSON{Path: g.gatewayCA, OK: true}
		if _, err := loadCAs(g.gatewayCA); err != nil {
			out.GatewayCA.OK, out.GatewayCA.Error = false, err.Error()
			out.Errors = append(out.Errors, err.Error())
		}
	}
	out.OK = len(out.Errors) == 0
	if g.json() {
		if err := jsonOrExit(g, out); err != nil {
			return err
		}
	} else {
		printConfigCheck(g, out)
	}
	if !out.OK {
		return silentExit(ExitLibrary)
	}
	return nil
}

// flatten lists the problems of a (joined) configuration error.
func flatten(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

func checkPrivate(path string) *keyCheckJSON {
	k := &keyCheckJSON{Path: path}
	key, err := keys.LoadPrivate(path)
	if err != nil {
		k.Error = err.Error()
		return k
	}
	k.OK, k.Bits, k.Fingerprint = true, key.N.BitLen(), keys.Fingerprint(&key.PublicKey)
	return k
}

func checkPublic(path string) *keyCheckJSON {
	k := &keyCheckJSON{Path: path}
	key, err := keys.LoadPublic(path)
	if err != nil {
		k.Error = err.Error()
		return k
	}
	k.OK, k.Bits, k.Fingerprint = true, bits(key), keys.Fingerprint(key)
	return k
}

func bits(k *rsa.PublicKey) int { return k.N.BitLen() }

// privateMode warns when the private key file is readable by others.
func privateMode(path string) string { return keys.ModeWarning(path) }

func printConfigCheck(g *globals, c configCheckJSON) {
	w := g.stdout
	verdict := "OK"
	if !c.OK {
		verdict = "INVALID: the engine would not start"
	}
	mode := ""
	if c.OK && c.TestMode {
		mode = " (test mode: the built-in simulator answers)"
	}
	fmt.Fprintf(w, "%s: %s%s\n", c.Config, verdict, mode)
	for _, k := range []struct {
		name string
		c    *keyCheckJSON
	}{{"private key", c.PrivateKey}, {"gateway key", c.GatewayKey}, {"gateway CA", c.GatewayCA}} {
		if k.c == nil {
			continue
		}
		switch {
		case !k.c.OK:
			fmt.Fprintf(w, "  %-12s %s: NOT USABLE\n", k.name, k.c.Path)
		case k.c.Bits > 0:
			fmt.Fprintf(w, "  %-12s %s: RSA %d bits, %s\n", k.name, k.c.Path, k.c.Bits, k.c.Fingerprint)
		default:
			fmt.Fprintf(w, "  %-12s %s: OK\n", k.name, k.c.Path)
		}
	}
	if len(c.Errors) > 0 {
		fmt.Fprintf(w, "%d error(s):\n", len(c.Errors))
		for _, e := range c.Errors {
			fmt.Fprintln(w, "  "+e)
		}
	}
	if len(c.Warnings) > 0 {
		fmt.Fprintf(w, "%d warning(s):\n", len(c.Warnings))
		for _, x := range c.Warnings {
			fmt.Fprintln(w, "  "+config.Warning{Line: x.Line, Key: x.Key, Message: x.Message}.String())
		}
	}
}

// checkLogDir returns why the engine could not write its log in dir (""
// when it can): it creates and removes a file there, or in its parent
// when dir does not exist yet (the engine creates it).
func checkLogDir(dir string) string {
	at := dir
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		at = filepath.Dir(dir)
	}
	f, err := os.CreateTemp(at, ".wbpay-check-*")
	if err != nil {
		return fmt.Sprintf("log directory %s cannot be written: %v", dir, err)
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return ""
}
