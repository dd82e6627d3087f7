//go:build linux

package lazyfs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wbpay/wbpay/internal/lazyfs"
)

var lazyd lazyfs.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	lazyd.Remove()
	os.Exit(code)
}

// server skips the test when FUSE is unusable here, and builds lazyfsd once.
func server(t *testing.T) string {
	t.Helper()
	if err := lazyfs.Check(); err != nil {
		t.Skip(err.Error())
	}
	// Under -race, the server (where the FS's concurrency is) is
	// race-checked too.
	var flags []string
	if raceEnabled {
		flags = append(flags, "-race")
	}
	bin, err := lazyd.Path(flags...)
	require.NoError(t, err)
	return bin
}

// disk is a backing directory and where it is mounted.
type disk struct {
	t       *testing.T
	bin     string
	backing string
	mnt     string
	scratch string
}

func newDisk(t *testing.T) *disk {
	bin := server(t)
	dir := t.TempDir()
	return &disk{t: t, bin: bin, backing: filepath.Join(dir, "disk"), mnt: filepath.Join(dir, "mnt"), scratch: filepath.Join(dir, "scratch")}
}

// mount mounts the disk; the mount is abandoned at the end of the test.
func (d *disk) mount() *lazyfs.Mount {
	d.t.Helper()
	m, err := lazyfs.Start(d.bin, lazyfs.Config{Backing: d.backing, Mountpoint: d.mnt, Scratch: d.scratch})
	require.NoError(d.t, err)
	d.t.Cleanup(m.Close)
	return m
}

// on is the path of name on the mount.
func (d *disk) on(name string) string { return filepath.Join(d.mnt, name) }

// cut cuts the power and returns the report.
func (d *disk) cut(m *lazyfs.Mount, seed int64, tear bool) lazyfs.Report {
	d.t.Helper()
	rep, err := m.Cut(seed, tear)
	require.NoError(d.t, err)
	return rep
}

// read reads name from the backing directory ("" and false when absent).
func (d *disk) read(name string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(d.backing, name))
	if os.IsNotExist(err) {
		return "", false
	}
	require.NoError(d.t, err)
	return string(b), true
}

func writeFile(t *testing.T, path, data string, fsync bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(data)
	require.NoError(t, err)
	if fsync {
		require.NoError(t, f.Sync())
	}
	require.NoError(t, f.Close())
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(dir)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

func TestCheckNamesWhatIsMissing(t *testing.T) {
	err := lazyfs.Check()
	if err == nil {
		return
	}
	assert.ErrorIs(t, err, lazyfs.ErrUnavailable)
	assert.Regexp(t, `not root|/dev/fuse|fusermount3 .*fuse3`, err.Error())
}

// TestFileData: a write is durable exactly when an fsync or fdatasync of
// the file covered it, and the mount reads its own unsynced writes.
func TestFileData(t *testing.T) {
	cases := []struct {
		name string
		sync func(f *os.File) error
		want string
	}{
		{"no fsync: gone", nil, "old"},
		{"fsync: stays", (*os.File).Sync, "new"},
		{"fdatasync: stays", func(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }, "new"},
		{"fsync before the write: gone", nil, "old"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDisk(t)
			require.NoError(t, os.MkdirAll(d.backing, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(d.backing, "a"), []byte("old"), 0o644))
			m := d.mount()
			f, err := os.OpenFile(d.on("a"), os.O_RDWR, 0)
			require.NoError(t, err)
			if tc.name == "fsync before the write: gone" {
				require.NoError(t, f.Sync())
			}
			_, err = f.WriteAt([]byte("new"), 0)
			require.NoError(t, err)
			if tc.sync != nil {
				require.NoError(t, tc.sync(f))
			}
			require.NoError(t, f.Close())
			got, err := os.ReadFile(d.on("a"))
			require.NoError(t, err)
			assert.Equal(t, "new", string(got), "the mount reads its own unsynced write")
			d.cut(m, 1, false)
			got2, ok := d.read("a")
			assert.True(t, ok)
			assert.Equal(t, tc.want, got2, "after the cut")
			// A fresh mount sees the same.
			m = d.mount()
			b, err := os.ReadFile(d.on("a"))
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b), "on a fresh mount")
			require.NoError(t, m.Unmount())
		})
	}
}

// TestTruncate: O_TRUNC and ftruncate are pending until an fsync, like writes.
func TestTruncate(t *testing.T) {
	d := newDisk(t)
	require.NoError(t, os.MkdirAll(d.backing, 0o755))
	long := bytes.Repeat([]byte("x"), 3*lazyfs.PageSize+100)
	for _, n := range []string{"otrunc", "ftrunc", "ftrunc-synced", "shrink-grow"} {
		require.NoError(t, os.WriteFile(filepath.Join(d.backing, n), long, 0o644))
	}
	m := d.mount()
	writeFile(t, d.on("otrunc"), "short", false)
	f, err := os.OpenFile(d.on("ftrunc"), os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(10))
	require.NoError(t, f.Close())
	f, err = os.OpenFile(d.on("ftrunc-synced"), os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(10))
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	// Shrink to 5 bytes, then write past a hole: the old bytes must not
	// come back between 5 and the write.
	f, err = os.OpenFile(d.on("shrink-grow"), os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(5))
	_, err = f.WriteAt([]byte("end"), 2*lazyfs.PageSize)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	d.cut(m, 1, false)

	got, _ := d.read("otrunc")
	assert.Equal(t, string(long), got, "O_TRUNC without fsync")
	got, _ = d.read("ftrunc")
	assert.Equal(t, string(long), got, "ftruncate without fsync")
	got, _ = d.read("ftrunc-synced")
	assert.Equal(t, string(long[:10]), got, "ftruncate with fsync")
	want := append(append(append([]byte{}, long[:5]...), make([]byte, 2*lazyfs.PageSize-5)...), "end"...)
	got, _ = d.read("shrink-grow")
	assert.Equal(t, string(want), got, "truncate, then write past the end, fsync")
}

// outcome runs scenario on a fresh disk and cuts with seed: it returns what
// the backing directory holds at name.
func outcome(t *testing.T, seed int64, setup map[string]string, scenario func(d *disk), name string) (string, bool, lazyfs.Report) {
	d := newDisk(t)
	require.NoError(t, os.MkdirAll(d.backing, 0o755))
	for n, data := range setup {
		require.NoError(t, os.WriteFile(filepath.Join(d.backing, n), []byte(data), 0o644))
	}
	m := d.mount()
	scenario(d)
	rep := d.cut(m, seed, false)
	got, ok := d.read(name)
	return got, ok, rep
}

// TestNamespace: a new file, a rename or an unlink without an fsync of the
// directory survives a cut or not as the seed says (a seed replays the same
// way); with the directory fsync'd it always survives.
func TestNamespace(t *testing.T) {
	cases := []struct {
		name     string
		setup    map[string]string
		run      func(t *testing.T, d *disk, dirSync bool)
		file     string
		before   string // the outcome when the operation is lost ("" = absent)
		after    string // when it survives
		absentIf string // which outcome means "absent"
	}{
		{
			name: "new file (fsync'd data)",
			run: func(t *testing.T, d *disk, dirSync bool) {
				writeFile(t, d.on("new"), "data", true)
				if dirSync {
					syncDir(t, d.mnt)
				}
			},
			file: "new", before: "", after: "data", absentIf: "",
		},
		{
			name:  "rename over a file (the atomic-write pattern)",
			setup: map[string]string{"target": "v1"},
			run: func(t *testing.T, d *disk, dirSync bool) {
				writeFile(t, d.on(".target.tmp"), "v2", true)
				require.NoError(t, os.Rename(d.on(".target.tmp"), d.on("target")))
				if dirSync {
					syncDir(t, d.mnt)
				}
			},
			file: "target", before: "v1", after: "v2",
		},
		{
			name:  "unlink",
			setup: map[string]string{"gone": "x"},
			run: func(t *testing.T, d *disk, dirSync bool) {
				require.NoError(t, os.Remove(d.on("gone")))
				if dirSync {
					syncDir(t, d.mnt)
				}
			},
			file: "gone", before: "x", after: "", absentIf: "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			for seed := int64(1); seed <= 8; seed++ {
				got, ok, rep := outcome(t, seed, tc.setup, func(d *disk) { tc.run(t, d, false) }, tc.file)
				if !ok {
					got = ""
				}
				assert.Contains(t, []string{tc.before, tc.after}, got, "seed %d: %+v", seed, rep)
				seen[got] = true
				again, ok, _ := outcome(t, seed, tc.setup, func(d *disk) { tc.run(t, d, false) }, tc.file)
				if !ok {
					again = ""
				}
				assert.Equal(t, got, again, "seed %d replays differently", seed)
			}
			assert.Len(t, seen, 2, "over 8 seeds, both outcomes appear without a directory fsync: %v", seen)
			for seed := int64(1); seed <= 4; seed++ {
				got, ok, rep := outcome(t, seed, tc.setup, func(d *disk) { tc.run(t, d, true) }, tc.file)
				if !ok {
					got = ""
				}
				assert.Equal(t, tc.after, got, "seed %d with a directory fsync: %+v", seed, rep)
			}
		})
	}
}

// TestNameWithoutData: a file whose name was made durable but whose data
// never was is empty after a cut.
func TestNameWithoutData(t *testing.T) {
	d := newDisk(t)
	m := d.mount()
	writeFile(t, d.on("f"), "unsynced", false)
	syncDir(t, d.mnt)
	d.cut(m, 1, false)
	got, ok := d.read("f")
	assert.True(t, ok)
	assert.Empty(t, got)
}

// TestSubdirectory: a file in a new directory needs both the directory's
// fsync (for the file) and its parent's (for the directory).
func TestSubdirectory(t *testing.T) {
	d := newDisk(t)
	m := d.mount()
	require.NoError(t, os.Mkdir(d.on("sub"), 0o755))
	writeFile(t, d.on("sub/f"), "data", true)
	syncDir(t, d.on("sub"))
	syncDir(t, d.mnt)
	rep := d.cut(m, 3, false)
	got, ok := d.read("sub/f")
	assert.True(t, ok, "%+v", rep)
	assert.Equal(t, "data", got)
	assert.Zero(t, rep.UnsyncedOps)
}

// TestTornWrite: with tear, the last unsynced write (as the kernel sent it)
// keeps a page-aligned prefix of itself; earlier unsynced writes are gone.
func TestTornWrite(t *testing.T) {
	cases := []struct {
		name     string
		off, len int
	}{
		{"four aligned pages", 0, 4 * lazyfs.PageSize},
		{"unaligned over four pages", 1000, 14000},
		{"within one page", 100, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := bytes.Repeat([]byte("a"), 4*lazyfs.PageSize)
			seen := map[int]bool{}
			var pages int64
			for seed := int64(1); seed <= 10; seed++ {
				d := newDisk(t)
				require.NoError(t, os.MkdirAll(d.backing, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(d.backing, "db"), old, 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(d.backing, "other"), []byte("o"), 0o644))
				m := d.mount()
				writeFile(t, d.on("other"), "lost", false) // an earlier unsynced write
				f, err := os.OpenFile(d.on("db"), os.O_RDWR, 0)
				require.NoError(t, err)
				_, err = f.WriteAt(bytes.Repeat([]byte("b"), tc.len), int64(tc.off))
				require.NoError(t, err)
				require.NoError(t, f.Close())
				rep := d.cut(m, seed, true)
				w := rep.Torn
				require.NotNil(t, w, "the report names the torn write")
				assert.Equal(t, "/db", w.Path)
				// The kernel may split a write at page boundaries: the torn
				// one is the last piece, inside the program's write.
				assert.True(t, w.Off >= int64(tc.off) && w.Off+int64(w.Len) == int64(tc.off+tc.len), "seed %d: torn write %+v", seed, *w)
				pages = (w.Off+int64(w.Len)-1)/lazyfs.PageSize - w.Off/lazyfs.PageSize + 1
				if pages >= 2 {
					assert.True(t, w.Kept > 0 && w.Kept < w.Len && (w.Off+int64(w.Kept))%lazyfs.PageSize == 0,
						"seed %d: a write over %d pages is cut inside, at a page boundary: %+v", seed, pages, *w)
				} else {
					assert.Contains(t, []int{0, w.Len}, w.Kept, "seed %d: a write within one page is kept whole or lost", seed)
				}
				seen[w.Kept] = true
				want := append([]byte{}, old...)
				copy(want[w.Off:], bytes.Repeat([]byte("b"), w.Kept))
				got, _ := d.read("db")
				assert.True(t, got == string(want), "seed %d: want the first %d bytes of the write at %d, the rest as before; got %d bytes, %d of them 'b'",
					seed, w.Kept, w.Off, len(got), bytes.Count([]byte(got), []byte("b")))
				other, _ := d.read("other")
				assert.Equal(t, "o", other, "an earlier unsynced write is lost")
			}
			// One page: kept or lost; two: one boundary inside; more: several.
			minKinds := 2
			if pages == 2 {
				minKinds = 1
			}
			assert.GreaterOrEqual(t, len(seen), minKinds, "over 10 seeds the tear point of a %d-page write varies: %v", pages, seen)
		})
	}
}

// TestMmapReadsUnsyncedData: a shared mapping (bbolt reads its file so)
// sees data written with pwrite that no fsync covered yet, and data
// written after the mapping was made.
func TestMmapReadsUnsyncedData(t *testing.T) {
	d := newDisk(t)
	m := d.mount()
	f, err := os.OpenFile(d.on("db"), os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	defer f.Close()
	page := bytes.Repeat([]byte("p"), lazyfs.PageSize)
	_, err = f.WriteAt(page, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(4*lazyfs.PageSize))
	mem, err := syscall.Mmap(int(f.Fd()), 0, 4*lazyfs.PageSize, syscall.PROT_READ, syscall.MAP_SHARED)
	require.NoError(t, err)
	defer syscall.Munmap(mem)
	assert.Equal(t, page, mem[:lazyfs.PageSize], "mapped after an unsynced write")
	_, err = f.WriteAt([]byte("later"), 2*lazyfs.PageSize)
	require.NoError(t, err)
	assert.Equal(t, "later", string(mem[2*lazyfs.PageSize:2*lazyfs.PageSize+5]), "written after the mapping")
	require.NoError(t, syscall.Munmap(mem))
	mem = nil
	require.NoError(t, f.Close())
	d.cut(m, 1, false)
	_, ok := d.read("db")
	assert.False(t, ok, "never fsync'd, nor its directory")
}

// TestUnmountKeepsEverything: a clean unmount is not a cut.
func TestUnmountKeepsEverything(t *testing.T) {
	d := newDisk(t)
	m := d.mount()
	require.NoError(t, os.Mkdir(d.on("dir"), 0o750))
	writeFile(t, d.on("dir/f"), "kept", false)
	require.NoError(t, os.Symlink("dir/f", d.on("link")))
	require.NoError(t, os.Link(d.on("dir/f"), d.on("hard")))
	require.NoError(t, m.Unmount())
	got, _ := d.read("dir/f")
	assert.Equal(t, "kept", got)
	target, err := os.Readlink(filepath.Join(d.backing, "link"))
	require.NoError(t, err)
	assert.Equal(t, "dir/f", target)
	var a, b syscall.Stat_t
	require.NoError(t, syscall.Stat(filepath.Join(d.backing, "dir/f"), &a))
	require.NoError(t, syscall.Stat(filepath.Join(d.backing, "hard"), &b))
	assert.Equal(t, a.Ino, b.Ino, "a hard link stays one inode")
	fi, err := os.Stat(filepath.Join(d.backing, "dir"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm())
	// Sync then cut: the same.
	m = d.mount()
	writeFile(t, d.on("dir/g"), "synced", false)
	require.NoError(t, m.Sync())
	writeFile(t, d.on("dir/h"), "not", false)
	rep := d.cut(m, 5, true)
	got, _ = d.read("dir/g")
	assert.Equal(t, "synced", got, "%+v", rep)
}

// TestCutStopsChanges: after a cut the mount is gone and the Mount says so.
func TestCutStopsChanges(t *testing.T) {
	d := newDisk(t)
	m := d.mount()
	d.cut(m, 1, false)
	_, err := m.Cut(1, false)
	assert.ErrorIs(t, err, lazyfs.ErrStopped)
	assert.ErrorIs(t, m.Sync(), lazyfs.ErrStopped)
}

// TestConcurrentWriters: writers in parallel (each its own file, with
// fsyncs and atomic renames) see their own data, and what each fsync'd and
// renamed with a directory fsync is what a cut keeps. Run it with -race:
// the server is then race-built too.
func TestConcurrentWriters(t *testing.T) {
	d := newDisk(t)
	m := d.mount()
	const writers, rounds = 4, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			name := filepath.Join(d.mnt, "w"+string(rune('0'+w)))
			for r := 0; r < rounds; r++ {
				data := bytes.Repeat([]byte{byte('a' + r)}, 1000+w*lazyfs.PageSize)
				tmp := name + ".tmp"
				f, err := os.Create(tmp)
				if err == nil {
					_, err = f.Write(data)
				}
				if err == nil {
					err = f.Sync()
				}
				if err == nil {
					err = f.Close()
				}
				if err == nil {
					err = os.Rename(tmp, name)
				}
				if err == nil {
					var dir *os.File
					if dir, err = os.Open(d.mnt); err == nil {
						err = dir.Sync()
						_ = dir.Close()
					}
				}
				if err == nil {
					var got []byte
					if got, err = os.ReadFile(name); err == nil && !bytes.Equal(got, data) {
						err = os.ErrInvalid
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rep := d.cut(m, 9, true)
	for w := 0; w < writers; w++ {
		got, ok := d.read("w" + string(rune('0'+w)))
		require.True(t, ok, "writer %d: %+v", w, rep)
		assert.Equal(t, string(bytes.Repeat([]byte{byte('a' + rounds - 1)}, 1000+w*lazyfs.PageSize)), got, "writer %d", w)
	}
}
