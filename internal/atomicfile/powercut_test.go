//go:build linux

package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/internal/atomicfile"
	"github.com/wbpay/wbpay/internal/lazyfs"
)

var lazyd lazyfs.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	lazyd.Remove()
	os.Exit(code)
}

// lossy mounts an empty lazyfs (skipping when FUSE is unusable here) and
// returns the mount, its mountpoint and its backing directory.
func lossy(t *testing.T) (*lazyfs.Mount, string, string) {
	t.Helper()
	if err := lazyfs.Check(); err != nil {
		t.Skip(err.Error())
	}
	lazyBin, err := lazyd.Path()
	require.NoError(t, err)
	dir := t.TempDir()
	cfg := lazyfs.Config{Backing: filepath.Join(dir, "disk"), Mountpoint: filepath.Join(dir, "mnt"), Scratch: filepath.Join(dir, "scratch")}
	m, err := lazyfs.Start(lazyBin, cfg)
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return m, cfg.Mountpoint, cfg.Backing
}

// TestDurableAfterPowerCut: once WriteFile or MkdirAll has returned, a power
// cut loses nothing of it, whatever the cut's seed keeps of what was not
// synced; a replaced file is the new one, whole.
func TestDurableAfterPowerCut(t *testing.T) {
	for seed := int64(1); seed <= 8; seed++ {
		m, mnt, disk := lossy(t)
		require.NoError(t, os.WriteFile(filepath.Join(mnt, "old"), []byte("v1"), 0o644))
		require.NoError(t, m.Sync())
		require.NoError(t, atomicfile.MkdirAll(filepath.Join(mnt, "home", "Log"), 0o750))
		require.NoError(t, atomicfile.WriteFile(filepath.Join(mnt, "home", "key"), []byte("secret"), 0o600, true))
		require.NoError(t, atomicfile.WriteFile(filepath.Join(mnt, "old"), []byte("v2"), 0o644, false))
		rep, err := m.Cut(seed, true)
		require.NoError(t, err)
		key, err := os.ReadFile(filepath.Join(disk, "home", "key"))
		if assert.NoError(t, err, "seed %d: %+v", seed, rep) {
			assert.Equal(t, "secret", string(key))
		}
		fi, err := os.Stat(filepath.Join(disk, "home", "key"))
		if assert.NoError(t, err) {
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the mode is durable with the data")
		}
		assert.DirExists(t, filepath.Join(disk, "home", "Log"), "seed %d: %+v", seed, rep)
		old, err := os.ReadFile(filepath.Join(disk, "old"))
		require.NoError(t, err)
		assert.Equal(t, "v2", string(old), "seed %d: %+v", seed, rep)
	}
}
