// Package atomicfile rewrites a small file so that readers see either the old
// or the new content and concurrent writers, in this process or others, do not
// lose each other's changes. It holds the locking and renaming shared by the
// secretstore file backend and its test fake; it knows nothing of secrets.
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
// Lock cannot be cancelled, so Update polls with TryLockContext instead.
const lockRetry = 5 * time.Millisecond

// Update changes the file at path under an exclusive lock on path+".lock":
// it reads the file (exists is false when it is missing), passes the content
// to change, and writes what change returns with Write. If change returns an
// error or nil data, the file is left as it was. The parent directory is
// created with mode 0700 if missing; the lock file is never removed, because
// removing it would let two writers lock different inodes.
func Update(ctx context.Context, path string, change func(old []byte, exists bool) ([]byte, error)) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	lock := flock.New(path + ".lock")
	ok, err := lock.TryLockContext(ctx, lockRetry)
	if err != nil {
		return fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	if !ok {
		return fmt.Errorf("lock %s: not acquired", lock.Path())
	}
	defer lock.Unlock() //nolint:errcheck // closing the descriptor releases the lock anyway

	old, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, err := change(old, exists)
	if err != nil || data == nil {
		return err
	}
	return Write(path, data)
}

// Write replaces the file at path with data: it writes a temporary file with
// mode 0600 in the same directory, syncs it, renames it over path and syncs
// the directory, so a crash leaves either the old file or the new one.
// Callers that may race with other writers use Update.
func Write(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	staletemp.Remove(dir, "."+base+".tmp-*", staletemp.Age, time.Now())
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*") // CreateTemp uses mode 0600
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
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the rename durable. Windows cannot open a directory for
// syncing, and NTFS journals the rename itself.
func syncDir(dir string) error {
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
