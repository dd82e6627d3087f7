package lazyfs

import "errors"

var (
	// ErrConfig is returned by Mount and Start when a Config lacks a path.
	ErrConfig = errors.New("lazyfs: bad config")
	// ErrStopped is returned by Cut, Sync and Unmount after a cut or an
	// unmount: the mount is gone.
	ErrStopped = errors.New("lazyfs: the filesystem was cut or unmounted")
	// ErrUnavailable is returned by Check when FUSE cannot be used here; its
	// message names what is missing.
	ErrUnavailable = errors.New("lazyfs: FUSE unavailable")
)
