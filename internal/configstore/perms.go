package configstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// PermissionWarnings checks the file at path and its folder as ssh checks
// its keys: either one writable by group or others (or, for the file,
// readable by them when private is set) could be changed or read by
// another user. Each warning is one line with the fix. A missing file gives
// none; symlinks are followed to what they point at.
func PermissionWarnings(path string, private bool) []string {
	if runtime.GOOS == "windows" {
		return nil // mode bits say nothing there
	}
	var out []string
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	if fi, err := os.Stat(path); err == nil {
		mask := os.FileMode(0o022)
		if private {
			mask = 0o077
		}
		if m := fi.Mode().Perm(); m&mask != 0 {
			out = append(out, fmt.Sprintf("%s is accessible by other users (mode %04o): run `chmod 600 %s`", path, m, path))
		}
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err == nil {
		if m := fi.Mode().Perm(); m&0o022 != 0 && fi.Mode()&os.ModeSticky == 0 {
			out = append(out, fmt.Sprintf("folder %s is writable by other users (mode %04o), who could replace the files in it: run `chmod 700 %s`", dir, m, dir))
		}
	}
	return out
}
