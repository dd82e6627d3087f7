package command

import (
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wbpay/wbpay/keys"
	"github.com/wbpay/wbpay/layout"
)

func init() { verbs = append(verbs, newKeysCommand) }

func newKeysCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Generate or inspect the RSA keys that sign requests and answers",
		Long: `keys makes and inspects the RSA key pairs of the wire contract (SHA1withRSA,
2048 bits): the engine's pair (its private key signs requests; CPS gets the
public key) and, for the simulator, the gateway's pair.

The fingerprint is "SHA256:" and the hex SHA-256 of the public key's PKIX
form: read it out to CPS when registering a key.`,
		Example: `  wbpay-engine keys gen --private pos1/keys/private.pem --public pos1/keys/public.pem
  wbpay-engine keys show pos1/keys/public.pem
  wbpay-engine keys show sim.pem -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newKeysGenCommand(g), newKeysShowCommand(g))
	return cmd
}

func newKeysGenCommand(g *globals) *cobra.Command {
	var priv, pub string
	cmd := &cobra.Command{
		Use:   "gen --private FILE --public FILE",
		Short: "Write a new 2048-bit RSA key pair",
		Long: `gen writes a new 2048-bit RSA key pair: the private key as PKCS#1 PEM with
mode 0600, the public key as PKCS#1 PEM. Each file is written atomically, and
an existing file is never replaced (exit 1). It prints the public key's path
and fingerprint.`,
		Example: `  wbpay-engine keys gen --private client.pem --public client.pub.pem
  wbpay-engine keys gen --private sim.pem --public sim.pub.pem -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.keysGen(priv, pub) },
	}
	cmd.Flags().StringVar(&priv, "private", "", "file to write the private key to (required)")
	cmd.Flags().StringVar(&pub, "public", "", "file to write the public key to (required)")
	_ = cmd.MarkFlagRequired("private")
	_ = cmd.MarkFlagRequired("public")
	return cmd
}

func newKeysShowCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE",
		Short: "Print a key file's kind (private or public), bits and fingerprint",
		Long: `show reads a PEM key file (private: PKCS#1 or PKCS#8; public: PKCS#1 or
PKIX) and prints whether it is a private or a public key, its size in bits
and the fingerprint of its public key. A file that is missing, not PEM, not
RSA or shorter than 2048 bits exits 1 with the reason. The private key
itself is never printed.`,
		Example: `  wbpay-engine keys show pos1/keys/private.pem
  wbpay-engine keys show sim.pub.pem -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return g.keysShow(args[0]) },
	}
}

// keysInfo is what keys gen and keys show print.
type keysInfo struct {
	File        string `json:"file"`
	Kind        string `json:"kind"` // private | public
	Bits        int    `json:"bits"`
	Fingerprint string `json:"fingerprint"`
	PublicFile  string `json:"publicFile,omitempty"` // gen only
}

func (g *globals) keysGen(priv, pub string) error {
	if priv == pub {
		return withExit(ExitUsage, fmt.Errorf("--private and --public name the same file %q", priv))
	}
	k, err := generateKeyPair(priv, pub)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("keys gen: %w", err))
	}
	info := keysInfo{File: priv, Kind: "private", Bits: k.N.BitLen(), Fingerprint: keys.Fingerprint(&k.PublicKey), PublicFile: pub}
	if g.output == "json" {
		return keysWriteJSON(g.stdout, info)
	}
	_, err = fmt.Fprintf(g.stdout, "private key  %s (keep it secret; mode 0600)\npublic key   %s\nbits         %d\nfingerprint  %s\n",
		priv, pub, info.Bits, info.Fingerprint)
	return err
}

func (g *globals) keysShow(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return withExit(ExitLibrary, fmt.Errorf("keys show: %w", err))
	}
	info := keysInfo{File: file}
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return withExit(ExitLibrary, fmt.Errorf("keys show %s: %w: no PEM block found", file, keys.ErrKey))
	case strings.Contains(block.Type, "PRIVATE"):
		k, err := keys.ParsePrivatePEM(data)
		if err != nil {
			return withExit(ExitLibrary, fmt.Errorf("keys show %s: %w", file, err))
		}
		info.Kind, info.Bits, info.Fingerprint = "private", k.N.BitLen(), keys.Fingerprint(&k.PublicKey)
	default:
		k, err := keys.ParsePublicPEM(data)
		if err != nil {
			return withExit(ExitLibrary, fmt.Errorf("keys show %s: %w", file, err))
		}
		info.Kind, info.Bits, info.Fingerprint = "public", k.N.BitLen(), keys.Fingerprint(k)
	}
	if g.output == "json" {
		return keysWriteJSON(g.stdout, info)
	}
	_, err = fmt.Fprintf(g.stdout, "file         %s\nkind         %s key\nbits         %d\nfingerprint  %s\n",
		info.File, info.Kind, info.Bits, info.Fingerprint)
	return err
}

// keysWriteJSON writes v as indented JSON.
func keysWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return withExit(ExitLibrary, errors.Join(errors.New("write JSON"), err))
	}
	return nil
}

// generateKeyPair makes a new key pair and writes it atomically: the
// private key to priv (mode 0600), the public key to pub. It never replaces
// a file (init, keys gen and the demo share it).
func generateKeyPair(priv, pub string) (*rsa.PrivateKey, error) {
	p, err := keys.NewPair()
	if err != nil {
		return nil, err
	}
	if err := layout.WriteKeyPair(priv, pub, p.PrivatePEM, p.PublicPEM); err != nil {
		return nil, err
	}
	return p.Key, nil
}
