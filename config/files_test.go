package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/paytree"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)

	t.Run("missing file", func(t *testing.T) {
		_, err := Load(path)
		require.ErrorIs(t, err, ErrInvalid)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), path)
	})
	t.Run("valid file", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path, []byte(strings.Join(baseLines, "\r\n")), 0o644))
		c, err := Load(path)
		require.NoError(t, err)
		assert.Equal(t, baseConfig(), exported(c))
	})
	t.Run("errors name the path", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path, []byte("MerchantId = 1\n"), 0o644))
		_, err := Load(path)
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), path+`:1: MerchantId: must be exactly 12 digits, got "1"`)
	})
	t.Run("a directory", func(t *testing.T) {
		_, err := Load(dir)
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), dir)
	})
}

func TestResolvePath(t *testing.T) {
	c := Default()
	home := filepath.Join(string(filepath.Separator), "srv", "wbpay")
	abs := filepath.Join(string(filepath.Separator), "etc", "keys", "private.pem")
	tests := []struct {
		name, home, file, want string
	}{
		{"relative", home, "private.pem", filepath.Join(home, "private.pem")},
		{"relative with a directory", home, filepath.Join("keys", "p.pem"), filepath.Join(home, "keys", "p.pem")},
		{"relative with ..", home, filepath.Join("..", "p.pem"), filepath.Join(string(filepath.Separator), "srv", "p.pem")},
		{"absolute", home, abs, abs},
		{"empty file", home, "", ""},
		{"no home", "", "private.pem", "private.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, c.ResolvePath(tt.home, tt.file))
		})
	}
}

func TestPaths(t *testing.T) {
	c, err := parseLines(append(append([]string(nil), baseLines...), "ApiPathDeposit = /gw/deposit"))
	require.NoError(t, err)
	assert.Equal(t, map[paytree.Operation]string{
		paytree.OpPay:     "/api/v3/pay",
		paytree.OpRefund:  "/api/v3/refund",
		paytree.OpReverse: "/api/v3/reverse",
		paytree.OpConfirm: "/api/v3/confirm",
		paytree.OpDeposit: "/gw/deposit",
	}, c.Paths())
}
