package command

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
