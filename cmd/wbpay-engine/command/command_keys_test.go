package command

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/keys"
)

// simKeysRun runs the CLI with args and returns the exit code, stdout and stderr.
func simKeysRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestKeysGenAndShow(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.pub.pem")
	code, out, errs := simKeysRun(t, "keys", "gen", "--private", priv, "--public", pub)
	require.Equal(t, ExitOK, code, "stderr: %s", errs)
	k, err := keys.LoadPrivate(priv)
	require.NoError(t, err)
	fp := keys.Fingerprint(&k.PublicKey)
	assert.Contains(t, out, pub)
	assert.Contains(t, out, fp)
	assert.NotContains(t, out, "PRIVATE KEY", "the key itself is never printed")
	if runtime.GOOS != "windows" {
		st, err := os.Stat(priv)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}

	tests := []struct{ file, kind string }{{priv, "private"}, {pub, "public"}}
	for _, tc := range tests {
		t.Run("show "+tc.kind, func(t *testing.T) {
			code, out, errs := simKeysRun(t, "keys", "show", tc.file)
			require.Equal(t, ExitOK, code, "stderr: %s", errs)
			assert.Contains(t, out, tc.kind+" key")
			assert.Contains(t, out, "2048")
			assert.Contains(t, out, fp)

			code, out, _ = simKeysRun(t, "keys", "show", tc.file, "-o", "json")
			require.Equal(t, ExitOK, code)
			var got keysInfo
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.Equal(t, keysInfo{File: tc.file, Kind: tc.kind, Bits: 2048, Fingerprint: fp}, got)
		})
	}

	t.Run("gen json", func(t *testing.T) {
		p2, q2 := filepath.Join(dir, "sim.pem"), filepath.Join(dir, "sim.pub.pem")
		code, out, _ := simKeysRun(t, "keys", "gen", "--private", p2, "--public", q2, "-o", "json")
		require.Equal(t, ExitOK, code)
		var got keysInfo
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		pk, err := keys.LoadPublic(q2)
		require.NoError(t, err)
		assert.Equal(t, keysInfo{File: p2, Kind: "private", Bits: 2048, Fingerprint: keys.Fingerprint(pk), PublicFile: q2}, got)
	})
	t.Run("never replaces a key", func(t *testing.T) {
		before, err := os.ReadFile(priv)
		require.NoError(t, err)
		code, _, errs := simKeysRun(t, "keys", "gen", "--private", priv, "--public", filepath.Join(dir, "new.pub.pem"))
		assert.Equal(t, ExitLibrary, code)
		assert.Contains(t, errs, "exists")
		after, err := os.ReadFile(priv)
		require.NoError(t, err)
		assert.Equal(t, before, after)
	})
}

func TestKeysErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key\n"), 0o600))
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallFile := filepath.Join(dir, "small.pem")
	require.NoError(t, os.WriteFile(smallFile, keys.EncodePrivatePEM(small), 0o600))
	smallPub := filepath.Join(dir, "small.pub.pem")
	require.NoError(t, os.WriteFile(smallPub, keys.EncodePublicPEM(&small.PublicKey), 0o600))

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing file", []string{"keys", "show", filepath.Join(dir, "nope.pem")}, ExitLibrary, "nope.pem"},
		{"not PEM", []string{"keys", "show", garbage}, ExitLibrary, "no PEM block"},
		{"short private key", []string{"keys", "show", smallFile}, ExitLibrary, "1024 bits"},
		{"short public key", []string{"keys", "show", smallPub}, ExitLibrary, "1024 bits"},
		{"show without file", []string{"keys", "show"}, ExitUsage, "arg"},
		{"gen without --public", []string{"keys", "gen", "--private", filepath.Join(dir, "a.pem")}, ExitUsage, "public"},
		{"gen same file", []string{"keys", "gen", "--private", filepath.Join(dir, "b.pem"), "--public", filepath.Join(dir, "b.pem")}, ExitUsage, "same file"},
		{"gen into a missing directory", []string{"keys", "gen", "--private", filepath.Join(dir, "no", "c.pem"), "--public", filepath.Join(dir, "no", "c.pub")}, ExitLibrary, "keys gen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := simKeysRun(t, tc.args...)
			assert.Equal(t, tc.code, code, "stderr: %s", errs)
			assert.Contains(t, errs, tc.want)
		})
	}
	_, err = os.Stat(filepath.Join(dir, "a.pem"))
	assert.True(t, os.IsNotExist(err), "nothing written on a usage error")
}
