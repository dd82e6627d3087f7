//go:build linux

package lazyfs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Config says where a mount keeps its data.
type Config struct {
	Backing    string // the durable store: a plain directory, read at mount, rewritten at a cut or an unmount
	Mountpoint string // where the lossy view appears (created if missing)
	Scratch    string // where the live files are kept while mounted (default: a new temporary directory)
	Debug      bool   // log every FUSE request to stderr
}

// FS is a mounted lossy filesystem, served by this process. Use Start
// instead from a test: a process must not mmap files that it serves itself
// (go-fuse's fs package documents the deadlocks). Safe for concurrent use.
type FS struct {
	cfg     Config
	live    string // the live tree: what the programs see
	ownLive bool   // live was made by Mount and is removed at the end

	mu       sync.Mutex
	m        *model
	byLive   map[uint64]uint64 // live inode number → model id
	rootIno  uint64
	stopped  bool // after a cut or an unmount: every change fails with EIO
	server   *fuse.Server
	unmounts sync.Once
}

// MountInProcess copies cfg.Backing into the scratch directory and mounts the lossy
// view of it at cfg.Mountpoint.
func MountInProcess(cfg Config) (*FS, error) {
	if cfg.Backing == "" || cfg.Mountpoint == "" {
		return nil, fmt.Errorf("%w: backing and mountpoint are both needed", ErrConfig)
	}
	if err := os.MkdirAll(cfg.Backing, 0o755); err != nil {
		return nil, fmt.Errorf("lazyfs: backing: %w", err)
	}
	if err := os.MkdirAll(cfg.Mountpoint, 0o755); err != nil {
		return nil, fmt.Errorf("lazyfs: mountpoint: %w", err)
	}
	f := &FS{cfg: cfg, m: newModel(), byLive: map[uint64]uint64{}}
	if cfg.Scratch != "" {
		f.live = filepath.Join(cfg.Scratch, "live")
		if err := os.RemoveAll(f.live); err != nil {
			return nil, fmt.Errorf("lazyfs: scratch: %w", err)
		}
		if err := os.MkdirAll(f.live, 0o755); err != nil {
			return nil, fmt.Errorf("lazyfs: scratch: %w", err)
		}
	} else {
		d, err := os.MkdirTemp("", "lazyfs-live-")
		if err != nil {
			return nil, fmt.Errorf("lazyfs: scratch: %w", err)
		}
		f.live = d
	}
	f.ownLive = true
	if err := f.load(); err != nil {
		_ = os.RemoveAll(f.live)
		return nil, err
	}
	lr, err := fs.NewLoopbackRoot(f.live)
	if err != nil {
		_ = os.RemoveAll(f.live)
		return nil, fmt.Errorf("lazyfs: %w", err)
	}
	root := &node{LoopbackNode: lr.(*fs.LoopbackNode), fsys: f}
	root.RootData.RootNode = root
	zero := time.Duration(0)
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			FsName:        "lazyfs",
			Name:          "lazyfs",
			DisableXAttrs: true,
			Debug:         cfg.Debug,
			// Every write must reach the server, which decides what is
			// durable: no passthrough to the live file.
			DisabledCapabilities: fuse.CAP_PASSTHROUGH,
		},
		NegativeTimeout: &zero,
	}
	srv, err := fs.Mount(cfg.Mountpoint, root, opts)
	if err != nil {
		_ = os.RemoveAll(f.live)
		return nil, fmt.Errorf("lazyfs: mount %s: %w", cfg.Mountpoint, err)
	}
	f.server = srv
	return f, nil
}

// load copies the backing tree into the live directory and makes it the
// durable image.
func (f *FS) load() error {
	var st syscall.Stat_t
	if err := syscall.Lstat(f.live, &st); err != nil {
		return fmt.Errorf("lazyfs: %w", err)
	}
	f.rootIno = st.Ino
	f.m.root = f.m.newID(meta{ftype: syscall.S_IFDIR, mode: st.Mode & 0o7777})
	f.byLive[st.Ino] = f.m.root
	f.m.ensure(f.m.root)
	seen := map[uint64]string{} // backing inode → live path (hard links)
	if err := f.loadDir(f.cfg.Backing, f.live, f.m.root, seen); err != nil {
		return fmt.Errorf("lazyfs: load %s: %w", f.cfg.Backing, err)
	}
	return nil
}

func (f *FS) loadDir(from, to string, dirID uint64, seen map[uint64]string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	dir := f.m.durable[dirID]
	for _, e := range entries {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
		var st syscall.Stat_t
		if err := syscall.Lstat(src, &st); err != nil {
			return err
		}
		ftype, mode := st.Mode&syscall.S_IFMT, st.Mode&0o7777
		if ftype == syscall.S_IFREG && st.Nlink > 1 {
			if lp, ok := seen[st.Ino]; ok {
				if err := os.Link(lp, dst); err != nil {
					return err
				}
				var lst syscall.Stat_t
				if err := syscall.Lstat(dst, &lst); err != nil {
					return err
				}
				dir.entries[e.Name()] = f.byLive[lst.Ino]
				continue
			}
			seen[st.Ino] = dst
		}
		mt := meta{ftype: ftype, mode: mode, rdev: uint32(st.Rdev)}
		var data []byte
		switch ftype {
		case syscall.S_IFDIR:
			err = os.Mkdir(dst, 0o700)
		case syscall.S_IFREG:
			if data, err = os.ReadFile(src); err == nil {
				err = os.WriteFile(dst, data, 0o600)
			}
		case syscall.S_IFLNK:
			if mt.target, err = os.Readlink(src); err == nil {
				err = os.Symlink(mt.target, dst)
			}
		default:
			err = syscall.Mknod(dst, st.Mode, int(st.Rdev))
		}
		if err != nil {
			return err
		}
		var lst syscall.Stat_t
		if err := syscall.Lstat(dst, &lst); err != nil {
			return err
		}
		id := f.m.newID(mt)
		f.byLive[lst.Ino] = id
		n := f.m.ensure(id)
		n.data = data
		if data == nil && ftype == syscall.S_IFREG {
			n.data = []byte{}
		}
		dir.entries[e.Name()] = id
		if ftype == syscall.S_IFDIR {
			if err := f.loadDir(src, dst, id, seen); err != nil {
				return err
			}
		}
		if ftype != syscall.S_IFLNK {
			if err := os.Chmod(dst, os.FileMode(mode&0o777)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Mountpoint returns where the lossy view is mounted.
func (f *FS) Mountpoint() string { return f.cfg.Mountpoint }

// Sync makes everything the live tree holds durable, as sync(2) would.
func (f *FS) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return ErrStopped
	}
	return f.syncLocked()
}

// syncLocked rebuilds the durable image from the live tree.
func (f *FS) syncLocked() error {
	m := f.m
	m.durable = map[uint64]*dnode{}
	m.ops, m.dirty, m.last = nil, map[uint64]*dirty{}, nil
	root := m.ensure(m.root)
	if err := f.syncDir(f.live, root); err != nil {
		return fmt.Errorf("lazyfs: sync: %w", err)
	}
	return nil
}

func (f *FS) syncDir(path string, d *dnode) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		id, ok := f.byLive[st.Ino]
		if !ok {
			id = f.m.newID(meta{ftype: st.Mode & syscall.S_IFMT, mode: st.Mode & 0o7777})
			f.byLive[st.Ino] = id
		}
		d.entries[e.Name()] = id
		if f.m.durable[id] != nil {
			continue // a hard link already read
		}
		n := f.m.ensure(id)
		n.ftype, n.mode = st.Mode&syscall.S_IFMT, st.Mode&0o7777
		switch n.ftype {
		case syscall.S_IFDIR:
			n.entries = map[string]uint64{}
			if err := f.syncDir(p, n); err != nil {
				return err
			}
		case syscall.S_IFREG:
			if n.data, err = os.ReadFile(p); err != nil {
				return err
			}
		case syscall.S_IFLNK:
			if n.target, err = os.Readlink(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Cut is a power cut: it discards what no fsync made durable (keeping, as
// the seed says, a prefix of the unsynced namespace operations and, with
// tear, part of the last unsynced write), unmounts, and writes the durable
// image to the backing directory. The FS is unusable afterwards.
func (f *FS) Cut(seed int64, tear bool) (Report, error) {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return Report{}, ErrStopped
	}
	f.stopped = true
	rep := f.m.cut(seed, tear)
	f.mu.Unlock()
	if err := f.finish(&rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// Unmount is a clean shutdown: everything becomes durable, then the FS is
// unmounted and its image written to the backing directory.
func (f *FS) Unmount() error {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return ErrStopped
	}
	err := f.syncLocked()
	f.stopped = true
	f.mu.Unlock()
	if err != nil {
		f.Abandon()
		return err
	}
	return f.finish(nil)
}

// Abandon unmounts without writing anything to the backing directory (the
// test is over, or went wrong).
func (f *FS) Abandon() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	_ = f.unmount()
	if f.ownLive {
		_ = os.RemoveAll(f.live)
	}
}

func (f *FS) finish(rep *Report) error {
	if err := f.unmount(); err != nil {
		return err
	}
	f.mu.Lock()
	err := f.m.writeImage(f.cfg.Backing, rep)
	f.mu.Unlock()
	if f.ownLive {
		if rerr := os.RemoveAll(f.live); err == nil && rerr != nil {
			err = fmt.Errorf("lazyfs: remove scratch: %w", rerr)
		}
	}
	return err
}

// unmount detaches the mount, lazily when something still holds it.
func (f *FS) unmount() error {
	var err error
	f.unmounts.Do(func() {
		if err = f.server.Unmount(); err == nil {
			return
		}
		// Busy (a descriptor of a dead process not yet released, a
		// shell's cwd): detach it now, the kernel lets go later.
		out, lerr := exec.Command("fusermount3", "-u", "-z", f.cfg.Mountpoint).CombinedOutput()
		if lerr != nil {
			err = fmt.Errorf("lazyfs: unmount %s: %v; lazy unmount: %v: %s", f.cfg.Mountpoint, err, lerr, out)
			return
		}
		err = nil
	})
	return err
}

// node is a loopback node whose changes go through the model.
type node struct {
	*fs.LoopbackNode
	fsys *FS
}

var (
	_ fs.NodeWrapChilder    = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeWriter         = (*node)(nil)
	_ fs.NodeWritever       = (*node)(nil)
	_ fs.NodeFsyncer        = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeAllocater      = (*node)(nil)
	_ fs.NodeOpendirHandler = (*node)(nil)
	_ fs.NodeRenamer        = (*node)(nil)
)

// WrapChild makes every node of the tree a *node.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if ln, ok := ops.(*fs.LoopbackNode); ok {
		return &node{LoopbackNode: ln, fsys: n.fsys}
	}
	return ops
}

func (n *node) isRoot() bool { return n.EmbeddedInode() == n.Root() }

// relPath is n's path inside the mount.
func (n *node) relPath() string { return "/" + n.Path(nil) }

func (n *node) livePath() string { return filepath.Join(n.fsys.live, n.Path(nil)) }

// id returns n's model id; f.mu must be held.
func (n *node) id() uint64 {
	f := n.fsys
	ino := f.rootIno
	if !n.isRoot() {
		ino = n.StableAttr().Ino
	}
	if id, ok := f.byLive[ino]; ok {
		return id
	}
	// Not seen before (cannot happen: every live inode is loaded or
	// created through the FS); treat it as new.
	var st syscall.Stat_t
	_ = syscall.Lstat(n.livePath(), &st)
	id := f.m.newID(meta{ftype: st.Mode & syscall.S_IFMT, mode: st.Mode & 0o7777})
	f.byLive[ino] = id
	f.m.allDirty(id)
	return id
}

// lstatChild returns the live inode number of n/name, ok false when absent.
func (n *node) lstatChild(name string) (syscall.Stat_t, bool) {
	var st syscall.Stat_t
	err := syscall.Lstat(filepath.Join(n.livePath(), name), &st)
	return st, err == nil
}

// childID returns the model id of the existing n/name; f.mu held.
func (n *node) childID(name string) (uint64, bool) {
	st, ok := n.lstatChild(name)
	if !ok {
		return 0, false
	}
	id, ok := n.fsys.byLive[st.Ino]
	if !ok {
		id = n.fsys.m.newID(meta{ftype: st.Mode & syscall.S_IFMT, mode: st.Mode & 0o7777})
		n.fsys.byLive[st.Ino] = id
	}
	return id, true
}

// created registers a new inode made by a namespace operation on n.
func (n *node) created(ch *fs.Inode, name, what string, mt meta, attr *fuse.Attr) {
	f := n.fsys
	mt.mode = attr.Mode & 0o7777
	id := f.m.newID(mt)
	f.byLive[ch.StableAttr().Ino] = id
	f.m.logOp(what+" "+filepath.Join(n.relPath(), name), edit{dir: n.id(), name: name, child: id})
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, nil, 0, syscall.EIO
	}
	existing, existed := n.childID(name)
	ch, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	if existed {
		if flags&syscall.O_TRUNC != 0 {
			f.m.truncated(existing, 0)
		}
	} else {
		n.created(ch, name, "create", meta{ftype: syscall.S_IFREG}, &out.Attr)
	}
	return ch, wrapFile(fh), fl, 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, syscall.EIO
	}
	ch, errno := n.LoopbackNode.Mkdir(ctx, name, mode, out)
	if errno == 0 {
		n.created(ch, name, "mkdir", meta{ftype: syscall.S_IFDIR}, &out.Attr)
	}
	return ch, errno
}

func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, syscall.EIO
	}
	ch, errno := n.LoopbackNode.Mknod(ctx, name, mode, rdev, out)
	if errno == 0 {
		n.created(ch, name, "mknod", meta{ftype: mode & syscall.S_IFMT, rdev: rdev}, &out.Attr)
	}
	return ch, errno
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, syscall.EIO
	}
	ch, errno := n.LoopbackNode.Symlink(ctx, target, name, out)
	if errno == 0 {
		n.created(ch, name, "symlink", meta{ftype: syscall.S_IFLNK, target: target}, &out.Attr)
	}
	return ch, errno
}

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, syscall.EIO
	}
	t, ok := target.(*node)
	if !ok {
		return nil, syscall.EXDEV
	}
	ch, errno := n.LoopbackNode.Link(ctx, t, name, out)
	if errno == 0 {
		f.m.logOp("link "+t.relPath()+" "+filepath.Join(n.relPath(), name), edit{dir: n.id(), name: name, child: t.id()})
	}
	return ch, errno
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return syscall.EIO
	}
	errno := n.LoopbackNode.Unlink(ctx, name)
	if errno == 0 {
		f.m.logOp("unlink "+filepath.Join(n.relPath(), name), edit{dir: n.id(), name: name})
	}
	return errno
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return syscall.EIO
	}
	errno := n.LoopbackNode.Rmdir(ctx, name)
	if errno == 0 {
		f.m.logOp("rmdir "+filepath.Join(n.relPath(), name), edit{dir: n.id(), name: name})
	}
	return errno
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return syscall.EIO
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	src, ok := n.childID(name)
	if !ok {
		return syscall.ENOENT
	}
	dst, dstOK := np.childID(newName)
	errno := n.LoopbackNode.Rename(ctx, name, np, newName, flags)
	if errno != 0 || src == dst && dstOK {
		return errno
	}
	from, to := filepath.Join(n.relPath(), name), filepath.Join(np.relPath(), newName)
	if flags&unix.RENAME_EXCHANGE != 0 && dstOK {
		f.m.logOp("exchange "+from+" "+to, edit{dir: n.id(), name: name, child: dst}, edit{dir: np.id(), name: newName, child: src})
		return 0
	}
	f.m.logOp("rename "+from+" "+to, edit{dir: n.id(), name: name}, edit{dir: np.id(), name: newName, child: src})
	return 0
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped && flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return nil, 0, syscall.EIO
	}
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	if flags&syscall.O_TRUNC != 0 {
		f.m.truncated(n.id(), 0)
	}
	return wrapFile(fh), fl &^ fuse.FOPEN_DIRECT_IO, 0
}

func (n *node) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return 0, syscall.EIO
	}
	h, ok := fh.(*file)
	if !ok {
		return 0, syscall.EBADF
	}
	w, errno := h.lf.Write(ctx, data, off)
	if w > 0 {
		f.m.wrote(n.id(), off, data[:w], n.relPath())
	}
	return w, errno
}

func (n *node) Writev(ctx context.Context, fh fs.FileHandle, data [][]byte, off int64) (uint32, syscall.Errno) {
	var all []byte
	for _, d := range data {
		all = append(all, d...)
	}
	return n.Write(ctx, fh, all, off)
}

func (n *node) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return syscall.EIO
	}
	// Read the live file through a descriptor of its own: the handle's may
	// be write-only, and the name may be gone (unlinked while open).
	path := n.livePath()
	if h, ok := fh.(*file); ok {
		if fd, ok := h.lf.PassthroughFd(); ok {
			path = fmt.Sprintf("/proc/self/fd/%d", fd)
		}
	}
	lf, err := os.Open(path)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer lf.Close()
	return fs.ToErrno(f.m.promoteData(n.id(), int(lf.Fd())))
}

func (n *node) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return syscall.EIO
	}
	if sz, ok := in.GetSize(); ok {
		f.m.truncated(n.id(), int64(sz))
	}
	var inner fs.FileHandle
	if h, ok := fh.(*file); ok {
		inner = h.lf
	}
	return n.LoopbackNode.Setattr(ctx, inner, in, out)
}

func (n *node) Allocate(ctx context.Context, fh fs.FileHandle, off uint64, size uint64, mode uint32) syscall.Errno {
	f := n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return syscall.EIO
	}
	h, ok := fh.(*file)
	if !ok {
		return syscall.EBADF
	}
	errno := h.lf.Allocate(ctx, off, size, mode)
	if errno == 0 {
		if mode&(unix.FALLOC_FL_COLLAPSE_RANGE|unix.FALLOC_FL_INSERT_RANGE) != 0 {
			f.m.allDirty(n.id())
		} else {
			f.m.touched(n.id(), int64(off), int64(size))
		}
	}
	return errno
}

// CopyFileRange is refused, so the kernel copies with reads and writes
// that the model sees.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, length uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

// Tmpfile is not supported: an O_TMPFILE inode has no name to model.
func (n *node) Tmpfile(ctx context.Context, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fl, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dirHandle{inner: fh, n: n}, fl, 0
}

// file wraps a loopback file so that only the methods below reach it: no
// passthrough, and writes and fsyncs go through the node.
type file struct{ lf *fs.LoopbackFile }

func wrapFile(fh fs.FileHandle) fs.FileHandle {
	if lf, ok := fh.(*fs.LoopbackFile); ok {
		return &file{lf: lf}
	}
	return fh
}

var (
	_ fs.FileReader    = (*file)(nil)
	_ fs.FileReleaser  = (*file)(nil)
	_ fs.FileFlusher   = (*file)(nil)
	_ fs.FileGetattrer = (*file)(nil)
	_ fs.FileLseeker   = (*file)(nil)
	_ fs.FileStatxer   = (*file)(nil)
)

func (h *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return h.lf.Read(ctx, buf, off)
}
func (h *file) Release(ctx context.Context) syscall.Errno { return h.lf.Release(ctx) }
func (h *file) Flush(ctx context.Context) syscall.Errno   { return h.lf.Flush(ctx) }
func (h *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return h.lf.Getattr(ctx, out)
}
func (h *file) Statx(ctx context.Context, flags uint32, mask uint32, out *fuse.StatxOut) syscall.Errno {
	return h.lf.Statx(ctx, flags, mask, out)
}
func (h *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return h.lf.Lseek(ctx, off, whence)
}

// dirHandle wraps a loopback directory stream to catch its fsync.
type dirHandle struct {
	inner fs.FileHandle
	n     *node
}

var (
	_ fs.FileReaddirenter = (*dirHandle)(nil)
	_ fs.FileSeekdirer    = (*dirHandle)(nil)
	_ fs.FileReleasedirer = (*dirHandle)(nil)
	_ fs.FileFsyncdirer   = (*dirHandle)(nil)
)

func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if r, ok := d.inner.(fs.FileReaddirenter); ok {
		return r.Readdirent(ctx)
	}
	return nil, 0
}

func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if s, ok := d.inner.(fs.FileSeekdirer); ok {
		return s.Seekdir(ctx, off)
	}
	return syscall.ENOTSUP
}

func (d *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	if r, ok := d.inner.(fs.FileReleasedirer); ok {
		r.Releasedir(ctx, flags)
	}
}

// Fsyncdir makes the directory's pending namespace operations durable.
func (d *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	f := d.n.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return syscall.EIO
	}
	f.m.promoteDir(d.n.id())
	return 0
}
