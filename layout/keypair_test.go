package layout

import (
	"crypto/rsa"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/keys"
)

func TestWriteKeyPair(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "private.pem"), filepath.Join(dir, "public.pem")
	k, err := generate(priv, pub)
	require.NoError(t, err)
	assert.Equal(t, keys.MinBits, k.N.BitLen())

	st, err := os.Stat(priv)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "private key readable by its owner only")
	st, err = os.Stat(pub)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	lp, err := keys.LoadPrivate(priv)
	require.NoError(t, err)
	assert.True(t, k.Equal(lp))
	lpub, err := keys.LoadPublic(pub)
	require.NoError(t, err)
	assert.True(t, k.PublicKey.Equal(lpub))
	assertNoTempFiles(t, dir, 2)

	t.Run("refuses to overwrite", func(t *testing.T) {
		before, err := os.ReadFile(priv)
		require.NoError(t, err)
		_, err = generate(priv, pub)
		require.ErrorIs(t, err, ErrExists)
		assert.Contains(t, err.Error(), priv)
		after, err := os.ReadFile(priv)
		require.NoError(t, err)
		assert.Equal(t, before, after, "existing key untouched")
	})
	t.Run("existing public file: no private file written", func(t *testing.T) {
		d := t.TempDir()
		p2 := filepath.Join(d, "private.pem")
		pub2 := filepath.Join(d, "public.pem")
		require.NoError(t, os.WriteFile(pub2, []byte("keep me"), 0o600))
		_, err := generate(p2, pub2)
		require.ErrorIs(t, err, ErrExists)
		assert.Contains(t, err.Error(), pub2)
		assert.NoFileExists(t, p2)
		data, err := os.ReadFile(pub2)
		require.NoError(t, err)
		assert.Equal(t, "keep me", string(data))
	})
	t.Run("missing directory", func(t *testing.T) {
		d := filepath.Join(t.TempDir(), "absent")
		_, err := generate(filepath.Join(d, "p.pem"), filepath.Join(d, "q.pem"))
		require.Error(t, err)
		assert.NoDirExists(t, d)
	})
	t.Run("public file cannot be written: private removed again", func(t *testing.T) {
		d := t.TempDir()
		p3 := filepath.Join(d, "private.pem")
		_, err := generate(p3, filepath.Join(d, "absent", "public.pem"))
		require.Error(t, err)
		assert.NoFileExists(t, p3)
		assertNoTempFiles(t, d, 0)
	})
}

func assertNoTempFiles(t *testing.T, dir string, want int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		assert.NotContains(t, e.Name(), ".tmp-", "temporary file left behind")
	}
	assert.Len(t, names, want, "files: %v", names)
}

// generate makes a pair and writes it as init and keys gen do.
func generate(privPath, pubPath string) (*rsa.PrivateKey, error) {
	p, err := keys.NewPair()
	if err != nil {
		return nil, err
	}
	return p.Key, WriteKeyPair(privPath, pubPath, p.PrivatePEM, p.PublicPEM)
}
