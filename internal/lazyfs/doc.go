// Package lazyfs is a test-only FUSE filesystem that loses what was not
// fsync'd, so that a test can cut the power under a program, not only kill
// it. SIGKILL leaves the kernel's page cache to reach the disk; a power cut
// does not, and only a filesystem that forgets can show a missing fsync.
// It is inspired by LazyFS (used by etcd's robustness tests) and built on
// github.com/hanwen/go-fuse/v2. Linux only.
//
// # The model: what is durable when
//
// A mount has a backing directory (the disk) and a live tree (what programs
// see: every write, durable or not; reads, including mmap reads through the
// page cache, are served from it, so a program sees its own unsynced
// writes). The durable image starts as the backing directory and changes
// only as follows:
//
//   - File data and size: a write, a truncation (ftruncate, O_TRUNC) or an
//     fallocate of an inode becomes durable when that inode is fsync'd or
//     fdatasync'd (through any descriptor): the inode's whole current content
//     and its permission bits are then durable. Closing a file makes nothing
//     durable.
//   - Names: every create, mkdir, mknod, symlink, link, unlink, rmdir and
//     rename is a namespace operation, durable as one piece (a rename moves
//     the name or does not; it never leaves both or neither). An fsync of
//     directory D makes durable every pending operation that changed an entry
//     of D, and every earlier pending operation that shares a directory with
//     one of those (a directory's history reaches the disk in order). An
//     fsync of a file does not make its name durable: a new file needs an
//     fsync of its directory too, as POSIX asks.
//   - A file whose name is durable but whose data was never fsync'd is
//     empty after a cut (as with ext4's delayed allocation).
//   - Extended attributes are refused; timestamps and owners are not
//     modelled (after a cut a file is owned by the server's user).
//
// # A cut
//
// Cut (or Mount.Cut from a test) is a power cut: every change to the live
// tree stops (later requests fail with EIO), and the durable image gets
// what the seed lets survive of the pending state, then the mount is
// unmounted and the image written to the backing directory, so that the
// next mount sees exactly what was durable. What the seed decides (with
// math/rand/v2's PCG seeded by it, so a seed replays the same way for the
// same sequence of operations):
//
//   - Of the pending namespace operations (oldest first), a prefix of
//     length k, uniform in 0..n, reaches the disk; the rest is lost. So a
//     rename or a new file without a directory fsync may survive or not.
//   - With tear, the last write that no fsync covered is torn: a write that
//     spans two or more pages (PageSize, at file offsets that are multiples
//     of it) keeps its first j pages' worth, j uniform in 1..pages-1, cut at
//     a page boundary; a write within one page is kept whole or lost, as
//     the seed says. Every other unsynced write is lost.
//
// The Report of a cut lists the namespace operations kept and lost and the
// torn write, for the test's log.
//
// # Use
//
// A program must not mmap files on a FUSE filesystem that it serves itself
// (go-fuse documents the deadlocks), and bbolt mmaps its file, so tests run
// the server as a child: BuildServer builds cmd/lazyfsd, Start mounts
// (Config: Backing, Mountpoint, Scratch), Mount.Sync makes everything
// durable (as after sync(2): for setting up a test), Mount.Cut cuts, and
// Mount.Unmount shuts down cleanly (everything durable). Check says whether
// this machine can mount one: it needs /dev/fuse, fusermount3 (Debian
// package fuse3) on PATH, and root; tests skip with its message otherwise.
package lazyfs
