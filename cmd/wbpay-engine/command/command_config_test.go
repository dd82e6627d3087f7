package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/config"
	"github.com/wbpay/wbpay/keys"
)

func TestConfigCheckOK(t *testing.T) {
	e := newHTTPS(t, nil, nil)
	r := e.run("config", "check")
	require.Equal(t, ExitOK, r.code)
	client, gw := testKeys(t)
	assert.Contains(t, r.stdout, ": OK\n")
	assert.Contains(t, r.stdout, "RSA 2048 bits, "+keys.Fingerprint(&client.PublicKey))
	assert.Contains(t, r.stdout, keys.Fingerprint(&gw.PublicKey))
	assert.Contains(t, r.stdout, "gateway CA", "--gateway-ca is checked too")
}

func TestConfigCheckWarningsWithLineNumbers(t *testing.T) {
	e := newTestMode(t, map[string]string{"ZzUnknownKey": "1"})
	r := e.run("config", "check", "-o", "json")
	require.Equal(t, ExitOK, r.code, "warnings do not stop the engine")
	var out configCheckJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	assert.True(t, out.OK)
	assert.True(t, out.TestMode)
	require.NotEmpty(t, out.Warnings)
	w := out.Warnings[len(out.Warnings)-1]
	assert.Equal(t, "ZzUnknownKey", w.Key)
	assert.Contains(t, w.Message, "unknown key")
	data, err := os.ReadFile(filepath.Join(e.home, config.FileName))
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	require.Greater(t, w.Line, 0)
	assert.True(t, strings.HasPrefix(lines[w.Line-1], "ZzUnknownKey"), "line %d is %q", w.Line, lines[w.Line-1])

	r = e.run("config", "check")
	assert.Contains(t, r.stdout, "1 warning(s):\n  line ")
}

func TestConfigCheckInvalid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(e *cliEnv)
		want  []string
	}{
		{"bad value", func(e *cliEnv) {
			conf := testModeConf()
			conf["MerchantId"] = "1234"
			e.writeConf(conf)
		}, []string{"MerchantId: must be exactly 12 digits", "WbCPSPay.conf:"}},
		{"missing config", func(e *cliEnv) {
			require.NoError(t, os.Remove(filepath.Join(e.home, config.FileName)))
		}, []string{"no such file"}},
		{"bad private key", func(e *cliEnv) {
			require.NoError(t, os.WriteFile(filepath.Join(e.home, clientKeyFile), []byte("-----BEGIN NOTHING-----\n"), 0o600))
		}, []string{"PrivateKeyFile: ", "NOT USABLE"}},
		{"missing gateway key outside test mode", func(e *cliEnv) {
			conf := testModeConf()
			delete(conf, "AppTestMode")
			for k, v := range map[string]string{"ServerURL": "https://gw.example", "ApiPathPay": "/p", "ApiPathPayV1": "/p1",
				"ApiPathRefund": "/r", "ApiPathReverse": "/v", "ApiPathConfirm": "/c", "ApiPathConfirmV1": "/c1", "PublicKeyFile": "gw.pub"} {
				conf[k] = v
			}
			e.writeConf(conf)
		}, []string{"PublicKeyFile: ", "gw.pub"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestMode(t, nil)
			tc.setup(e)
			r := e.run("config", "check")
			assert.Equal(t, ExitLibrary, r.code)
			assert.Contains(t, r.stdout, "INVALID: the engine would not start")
			for _, w := range tc.want {
				assert.Contains(t, r.stdout, w)
			}
		})
	}
}

func TestConfigCheckWarnsAboutReadableKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	e := newTestMode(t, nil)
	require.NoError(t, os.Chmod(filepath.Join(e.home, clientKeyFile), 0o644))
	r := e.run("config", "check")
	assert.Equal(t, ExitOK, r.code)
	assert.Contains(t, r.stdout, "other users can read the private key")
}
