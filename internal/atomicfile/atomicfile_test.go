package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func assertOnly(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := entries(t, dir)
	for _, n := range got {
		assert.NotContains(t, n, ".tmp-", "temporary file left behind in %s", dir)
	}
	assert.ElementsMatch(t, want, got)
}

func TestWriteFileCreates(t *testing.T) {
	for _, exclusive := range []bool{false, true} {
		for _, perm := range []os.FileMode{0o600, 0o640, 0o644, 0o666} {
			t.Run(fmt.Sprintf("exclusive=%v/perm=%o", exclusive, perm), func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, "f.txt")
				require.NoError(t, WriteFile(p, []byte("hello"), perm, exclusive))
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				assert.Equal(t, "hello", string(data))
				st, err := os.Stat(p)
				require.NoError(t, err)
				assert.Equal(t, perm, st.Mode().Perm(), "mode honoured whatever the umask")
				assertOnly(t, dir, "f.txt")
			})
		}
	}
}

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	require.NoError(t, os.WriteFile(p, []byte("old content, longer than the new"), 0o644))

	// A reader that opened the old file keeps reading the old content: the
	// new file is renamed over it, never written in place.
	old, err := os.Open(p)
	require.NoError(t, err)
	defer old.Close()

	require.NoError(t, WriteFile(p, []byte("new"), 0o600, false))
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "new", string(data))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the new file's mode, not the old one's")

	seen, err := io.ReadAll(old)
	require.NoError(t, err)
	assert.Equal(t, "old content, longer than the new", string(seen))
	assertOnly(t, dir, "state.json")
}

func TestWriteExclusiveRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "private.pem")
	require.NoError(t, os.WriteFile(p, []byte("precious"), 0o600))
	called := false
	err := Write(p, 0o600, true, func(w io.Writer) error {
		called = true
		_, err := w.Write([]byte("replacement"))
		return err
	})
	require.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), p)
	assert.False(t, called, "nothing is written when the target exists")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(data))
	assertOnly(t, dir, "private.pem")
}

func TestWriteExclusiveRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	link := filepath.Join(dir, "key.pem")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	err := WriteFile(link, []byte("x"), 0o600, true)
	require.ErrorIs(t, err, ErrExists, "a dangling symlink is not followed")
	assert.NoFileExists(t, target)
	assertOnly(t, dir, "key.pem")
}

// TestWriteExclusiveRace: of many writers racing for one name, exactly one
// wins and the file holds its whole content.
func TestWriteExclusiveRace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "once")
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = WriteFile(p, bytes.Repeat([]byte{byte('a' + i)}, 4096), 0o644, true)
		}(i)
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, winner, "two writers won")
			winner = i
			continue
		}
		assert.ErrorIs(t, err, ErrExists)
	}
	require.NotEqual(t, -1, winner, "one writer wins")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, bytes.Repeat([]byte{byte('a' + winner)}, 4096), data)
	assertOnly(t, dir, "once")
}

func TestWriteFillError(t *testing.T) {
	boom := errors.New("boom")
	for _, exclusive := range []bool{false, true} {
		t.Run(fmt.Sprintf("new file, exclusive=%v", exclusive), func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "out")
			err := Write(p, 0o644, exclusive, func(w io.Writer) error {
				_, _ = w.Write([]byte("half of it"))
				return boom
			})
			require.ErrorIs(t, err, boom)
			assert.Contains(t, err.Error(), p)
			assert.NoFileExists(t, p)
			assertOnly(t, dir)
		})
	}
	t.Run("existing file kept", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "out")
		require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
		err := Write(p, 0o644, false, func(w io.Writer) error {
			_, _ = w.Write([]byte(strings.Repeat("partial ", 1000)))
			return boom
		})
		require.ErrorIs(t, err, boom)
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, "old", string(data))
		assertOnly(t, dir, "out")
	})
}

func TestWriteErrors(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		base := t.TempDir()
		err := WriteFile(filepath.Join(base, "absent", "f"), []byte("x"), 0o644, false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "create temp file")
		assertOnly(t, base)
	})
	t.Run("target is a directory", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "sub")
		require.NoError(t, os.Mkdir(p, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(p, "inside"), []byte("x"), 0o644))
		err := WriteFile(p, []byte("x"), 0o644, false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), p)
		assertOnly(t, dir, "sub")
		assertOnly(t, p, "inside")
	})
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		err := WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644, false)
		require.Error(t, err)
		assertOnly(t, dir)
	})
}

func TestWriteEmpty(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "empty")
	require.NoError(t, Write(p, 0o644, true, func(io.Writer) error { return nil }))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Zero(t, st.Size())
}

func TestMkdirAll(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b", "c")
	require.NoError(t, MkdirAll(deep, 0o750))
	fi, err := os.Stat(deep)
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm())
	assert.NoError(t, MkdirAll(deep, 0o750), "an existing directory is fine")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o600))
	err = MkdirAll(filepath.Join(dir, "file"), 0o750)
	assert.ErrorContains(t, err, "exists and is not a directory")
	assert.Error(t, MkdirAll(filepath.Join(dir, "file", "sub"), 0o750), "a file in the way of a parent")
}
