//go:build linux

package jobrunner

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's bytes [off, off+n) to
// disk now, without waiting for it (sync_file_range(2) with
// SYNC_FILE_RANGE_WRITE), so that the fsync of Commit finds little left to
// write. It is a hint: errors are ignored, and Commit's fsync is what makes
// the output durable.
func startWriteback(f *os.File, off, n int64) {
	if c, err := f.SyscallConn(); err == nil {
		_ = c.Control(func(fd uintptr) {
			_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
		})
	}
}
