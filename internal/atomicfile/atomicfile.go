// Package atomicfile rewrites a small file so that readers see either the old
// or the new content and concurrent writers, in this process or others, do not
// lose each other's changes: lock, re-read, write a temporary file (0600),
// fsync it, rename it over the file, fsync the folder. It holds the one copy
// of that sequence, used by the config file (configstore) and the encrypted
// secrets file (secretstore and its test fake); it knows nothing of what the
// files hold.
package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gofrs/flock"

	"github.com/connctl/connctl/internal/staletemp"
)

// lockRetry is how often a waiting writer retries the lock. flock's blocking
// Lock cannot be cancelled, so Lock polls with TryLockContext instead.
const lockRetry = 5 * time.Millisecond

// Options changes how Write replaces a file. The zero value is what the
// secrets file uses.
type Options struct {
	// TempPattern names the temporary file in os.CreateTemp's syntax; the
	// default is "."+base+".tmp-*". Leftovers matching it that are older
	// than staletemp.Age (a crashed writer's) are removed before each write.
	TempPattern string
	// Backup keeps the replaced file as path+".bak" (a hard link made just
	// before the rename; best effort: a failure does not stop the write).
	Backup bool
	// FollowSymlink writes through a symlink at path: the temporary file and
	// the backup go beside the link's target, which the rename replaces, so
	// the link stays a link (a dotfiles setup). Without it the rename
	// replaces the link itself.
	FollowSymlink bool
	// IgnoreDirSyncError treats a failed sync of the folder as success: the
	// new file is in place by then, and some file systems cannot sync a
	// folder. Without it the failure is returned.
	IgnoreDirSyncError bool
	// NoSync skips both syncs (of the file and of the folder). The rename is
	// still atomic, so readers see the old file or the new one, but after a
	// crash the new file may be empty or missing. Only for files that can
	// be rebuilt from another (a parse cache), never for a file that holds
	// the only copy of something.
	NoSync bool
}

// Lock takes the exclusive lock on path+".lock", waiting until ctx ends; the
// folder must exist. The lock file is never removed, because removing it
// would let two writers lock different inodes. Call unlock when done.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	lock := flock.New(path + ".lock")
	ok, err := lock.TryLockContext(ctx, lockRetry)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	if !ok {
		return nil, fmt.Errorf("lock %s: not acquired", lock.Path())
	}
	return func() { _ = lock.Unlock() }, nil // closing the descriptor releases the lock anyway
}

// Update changes the file at path under Lock: it reads the file (exists is
// false when it is missing), passes the content to change, and writes what
// change returns with Write and the zero Options. If change returns an error
// or nil data, the file is left as it was. The parent directory is created
// with mode 0700 if missing.
func Update(ctx context.Context, path string, change func(old []byte, exists bool) ([]byte, error)) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	unlock, err := Lock(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()

	old, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, err := change(old, exists)
	if err != nil || data == nil {
		return err
	}
	return Write(path, data, Options{})
}

// Write replaces the file at path with data: it writes a temporary file with
// mode 0600 in the same directory, syncs it, renames it over path and syncs
// the directory, so a crash leaves either the old file or the new one.
// Callers that may race with other writers hold Lock (or use Update).
func Write(path string, data []byte, o Options) (err error) {
	if o.FollowSymlink {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(path)
			if err != nil {
				return fmt.Errorf("follow the symlink %s: %w", path, err)
			}
			path = target
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	pattern := o.TempPattern
	if pattern == "" {
		pattern = "." + base + ".tmp-*"
	}
	staletemp.Remove(dir, pattern, staletemp.Age, time.Now())
	tmp, err := os.CreateTemp(dir, pattern) // CreateTemp uses mode 0600
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()           //nolint:errcheck // already failing
			os.Remove(tmp.Name()) //nolint:errcheck // best effort
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if !o.NoSync {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// The last good file becomes the backup; a failure here is not fatal.
	if o.Backup {
		if _, err := os.Stat(path); err == nil {
			_ = os.Remove(path + ".bak")
			_ = os.Link(path, path+".bak")
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if o.NoSync {
		return nil
	}
	if err := SyncDir(dir); err != nil && !o.IgnoreDirSyncError {
		return err
	}
	return nil
}

// SyncDir makes a rename (or a new link) in dir durable. Windows cannot
// open a directory for syncing, and NTFS journals the rename itself.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close() //nolint:errcheck // read-only descriptor
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
