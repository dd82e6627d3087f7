package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
)

func TestInitTestModeMakesAWorkingHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "pos1")
	r := runBare(t, "init", "--home", home, "--test-mode")
	require.Equal(t, ExitOK, r.code)

	for _, f := range []string{config.FileName, clientKeyFile, clientPubFile} {
		assert.FileExists(t, filepath.Join(home, f))
	}
	assert.DirExists(t, filepath.Join(home, logDirName))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(home, clientKeyFile))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "private key mode")
	}
	pub, err := keys.LoadPublic(filepath.Join(home, clientPubFile))
	require.NoError(t, err)
	assert.Contains(t, r.stdout, keys.Fingerprint(pub))
	assert.Contains(t, r.stdout, filepath.Join(home, clientPubFile))
	assert.Contains(t, r.stdout, "Next steps")

	cfg, err := config.Load(filepath.Join(home, config.FileName))
	require.NoError(t, err, "a test-mode home works as written")
	assert.True(t, cfg.AppTestMode)
	assert.Equal(t, clientKeyFile, cfg.PrivateKeyFile)
	assert.Empty(t, cfg.Warnings)

	// The home works at once: config check passes and a pay is paid.
	assert.Equal(t, ExitOK, runBare(t, "config", "check", "--home", home).code)
}

func TestInitLiveLeavesPlaceholders(t *testing.T) {
	home := t.TempDir()
	r := runBare(t, "init", "--home", home, "-o", "json")
	require.Equal(t, ExitOK, r.code)
	var out initJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	assert.False(t, out.TestMode)
	assert.Equal(t, filepath.Join(home, clientPubFile), out.PublicKey)
	pub, err := keys.LoadPublic(out.PublicKey)
	require.NoError(t, err)
	assert.Equal(t, keys.Fingerprint(pub), out.Fingerprint)

	data, err := os.ReadFile(out.Config)
	require.NoError(t, err)
	assert.Contains(t, string(data), "PrivateKeyFile = "+clientKeyFile+"\n")
	_, err = config.Load(out.Config)
	require.Error(t, err, "the engine refuses the placeholders until they are edited")
	assert.ErrorContains(t, err, "placeholder")
	assert.NotContains(t, err.Error(), "PrivateKeyFile", "the key file is filled in")
}

func TestInitNeverOverwrites(t *testing.T) {
	for _, existing := range []string{config.FileName, clientKeyFile, clientPubFile} {
		t.Run(existing, func(t *testing.T) {
			home := t.TempDir()
			path := filepath.Join(home, existing)
			require.NoError(t, os.WriteFile(path, []byte("precious"), 0o600))
			r := runBare(t, "init", "--home", home, "--test-mode")
			assert.Equal(t, ExitLibrary, r.code)
			assert.Contains(t, r.stderr, path)
			assert.Contains(t, r.stderr, "never overwrites")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, "precious", string(data))
			entries, err := os.ReadDir(home)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "nothing else was written")
		})
	}
}

func TestInitConfigIsTheTemplate(t *testing.T) {
	// Every key of the template is in both variants, so the file documents
	// every key, its default and its meaning.
	keysOf := func(s string) []string {
		var out []string
		for _, row := range configRows(s) {
			out = append(out, row.key)
		}
		return out
	}
	want := keysOf(config.Template())
	require.NotEmpty(t, want)
	assert.Equal(t, want, keysOf(initConfig(false).Render()))
	assert.Equal(t, want, keysOf(initConfig(true).Render()))
}
