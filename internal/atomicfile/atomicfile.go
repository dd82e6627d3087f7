// Package atomicfile writes files outside bbolt so that a crash or a power
// loss leaves either the old file or the whole new one, never a torn one:
// write a temporary file in the same directory, fsync it, rename it over the
// target, fsync the directory. The temporary file is removed on any error.
// When WriteFile returns nil the new file is durable: a power loss after it
// cannot lose it (internal/lazyfs's tests prove it). MkdirAll does the same
// for directories (each new one's parent is fsync'd).
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// ErrExists is returned by Write with exclusive set when the target exists.
var ErrExists = errors.New("atomicfile: file already exists")

// WriteFile writes data to path with mode perm atomically. With exclusive,
// an existing file at path is never replaced (ErrExists).
func WriteFile(path string, data []byte, perm os.FileMode, exclusive bool) error {
	return Write(path, perm, exclusive, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write streams fill's output to path atomically, like WriteFile.
func Write(path string, perm os.FileMode, exclusive bool, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if exclusive {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if err = fill(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if exclusive {
		// Link fails if the target appeared meanwhile; rename would replace it.
		if err = os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, os.ErrExist) {
				err = fmt.Errorf("%w: %s", ErrExists, path)
			} else {
				err = fmt.Errorf("link to %s: %w", path, err)
			}
			return err
		}
		_ = os.Remove(tmp.Name())
	} else if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return syncDir(dir)
}

// MkdirAll creates path and its missing parents with mode perm, like
// os.MkdirAll, and fsyncs the parent of every directory it creates, so that
// a power loss after it returns loses none of them. An existing directory
// is not an error; an existing non-directory is.
func MkdirAll(path string, perm os.FileMode) error {
	path = filepath.Clean(path)
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return nil
		}
		return fmt.Errorf("mkdir %s: exists and is not a directory", path)
	}
	parent := filepath.Dir(path)
	if parent != path {
		if err := MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	if err := os.Mkdir(path, perm); err != nil {
		if fi, serr := os.Stat(path); errors.Is(err, fs.ErrExist) && serr == nil && fi.IsDir() {
			return nil // made meanwhile by someone else
		}
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // Windows cannot fsync a directory; its rename is atomic.
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
