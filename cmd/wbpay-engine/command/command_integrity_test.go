package command

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay"
)

// TestConfigCheckLogDir: config check fails, naming the directory and the
// cause, when the engine could not write its log.
func TestConfigCheckLogDir(t *testing.T) {
	e := newTestMode(t, nil)
	r := e.run("config", "check")
	require.Equal(t, ExitOK, r.code)
	logDir := filepath.Join(e.home, logDirName)
	require.NoError(t, os.RemoveAll(logDir))
	require.NoError(t, os.WriteFile(logDir, []byte("a file"), 0o644))
	r = e.run("config", "check")
	assert.Equal(t, ExitLibrary, r.code)
	assert.Contains(t, r.stdout+r.stderr, "log directory "+logDir+" cannot be written")
}

// TestPrivateKeyModeWarnedByRequests: a request verb warns on stderr when
// the private key is readable by others, every time.
func TestPrivateKeyModeWarnedByRequests(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not show Windows ACLs")
	}
	e := newTestMode(t, nil)
	require.NoError(t, os.Chmod(filepath.Join(e.home, clientKeyFile), 0o644))
	for range 2 {
		r := e.run("pay", "--amount", "1000", "--user-code", "281234567890123456")
		require.Equal(t, ExitOK, r.code)
		assert.Contains(t, r.stderr, "warning: ")
		assert.Contains(t, r.stderr, "other users can read the private key")
	}
}

// TestVerifyPageHeaderFlipsExit: verify on a journal with a byte of a
// page's element headers (bytes 16–63) changed, for every page: exit 1 and
// a DAMAGED verdict, or exit 0 when the byte was not in use; never the
// usage code 2 (bbolt's Tx.Check used to fault the process there).
func TestVerifyPageHeaderFlipsExit(t *testing.T) {
	e := newTestMode(t, nil)
	for range 3 {
		r := e.run("pay", "--amount", "1000", "--user-code", "281234567890123456")
		require.Equal(t, ExitOK, r.code)
	}
	path := filepath.Join(e.home, wbpay.JournalFile)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	const ps = 4096
	damaged := 0
	for page := 0; page < len(orig)/ps; page++ {
		for _, off := range []int{18, 26, 44} {
			b := bytes.Clone(orig)
			b[page*ps+off] ^= 0xff
			require.NoError(t, os.WriteFile(path, b, 0o600))
			_ = os.Remove(filepath.Join(e.home, wbpay.DamageFile))
			var out, errb syncBuffer
			code := execute(&globals{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, clock: e.clock}, []string{"verify", "--home", e.home})
			switch code {
			case ExitOK:
				assert.Contains(t, out.String(), "journal OK")
			case ExitLibrary:
				assert.Contains(t, out.String()+errb.String(), "journal")
				damaged++
			default:
				t.Errorf("page %d byte %d: exit %d\n%s%s", page, off, code, out.String(), errb.String())
			}
		}
	}
	require.NoError(t, os.WriteFile(path, orig, 0o600))
	assert.Positive(t, damaged)
	t.Logf("%d of %d damaged files reported", damaged, 3*len(orig)/ps)
}
