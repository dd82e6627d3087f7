package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/layout"
)

func TestConfRender(t *testing.T) {
	tests := []struct {
		name string
		conf Conf
		want string
	}{
		{"keys in order, empty left out, notes", Conf{Header: "written by a test\nsecond line",
			Values: map[string]string{"TerminalCode": "T01", "BranchCode": "B001", "ServerURL": ""},
			Notes:  map[string]string{"BranchCode": "the store"}},
			"# written by a test\n# second line\nBranchCode = B001   # the store\nTerminalCode = T01\n"},
		{"no header", Conf{Values: map[string]string{"LogLevel": "3"}}, "LogLevel = 3\n"},
		{"nothing", Conf{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.conf.Render())
		})
	}
}

func TestConfRenderTemplate(t *testing.T) {
	live := Conf{Template: true, Values: map[string]string{"PrivateKeyFile": "client.pem"}}.Render()
	assert.True(t, strings.HasPrefix(live, "# WbCPSPay.conf — configuration of the wbpay engine"), "the template's header")
	assert.Contains(t, live, "\nPrivateKeyFile = client.pem\n")
	assert.Contains(t, live, "\nMerchantId = <EDIT", "placeholders stay outside test mode")
	_, err := Parse(strings.NewReader(live), FileName)
	require.Error(t, err, "placeholders are refused")

	test := Conf{Template: true, Values: map[string]string{
		"PrivateKeyFile": "client.pem", "AppTestMode": "yes", "MerchantId": "123456789012",
		"TerminalUniquId": "1234501234561", "BranchCode": "B001", "TerminalCode": "T01", "ZzExtra": "1"},
		Notes: map[string]string{"MerchantId": "test value"}}.Render()
	assert.Contains(t, test, "\nMerchantId = 123456789012   # test value\n")
	assert.Contains(t, test, "\n# ServerURL = <EDIT", "placeholders commented out in test mode")
	assert.Contains(t, test, "(not needed in test mode)\n")
	assert.True(t, strings.HasSuffix(test, "\nZzExtra = 1\n"), "a key the template lacks is appended")
	cfg, err := Parse(strings.NewReader(test), FileName)
	require.NoError(t, err, "a test-mode template parses")
	assert.True(t, cfg.AppTestMode)
	assert.Equal(t, "123456789012", cfg.MerchantID)
}

func TestWrite(t *testing.T) {
	home := t.TempDir()
	c := Conf{Header: "h", Values: map[string]string{"LogLevel": "3"}}
	require.NoError(t, Write(home, c, true))
	data, err := os.ReadFile(filepath.Join(home, FileName))
	require.NoError(t, err)
	assert.Equal(t, c.Render(), string(data))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(home, FileName))
		require.NoError(t, err)
		assert.Equal(t, layout.ConfMode, fi.Mode().Perm())
	}
	require.ErrorIs(t, Write(home, Conf{}, true), layout.ErrExists, "exclusive never replaces")
	require.NoError(t, Write(home, Conf{Header: "new"}, false))
	data, err = os.ReadFile(filepath.Join(home, FileName))
	require.NoError(t, err)
	assert.Equal(t, "# new\n", string(data))
}
