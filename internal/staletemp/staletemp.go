// Package staletemp removes temporary files that a crashed connctl left
// beside the files it rewrites atomically (the config, the secrets file,
// job outputs). It knows only file names and ages, never their content.
package staletemp

import (
	"os"
	"path/filepath"
	"time"
)

// Age is how old a temporary file of a config or secrets write must be to
// count as left behind: such a write takes milliseconds.
const Age = time.Hour

// Remove deletes the files in dir matching pattern (filepath.Match syntax)
// whose last change is older than age, and returns how many it removed.
// It is best effort: errors are ignored, and a file still being written is
// younger than age.
func Remove(dir, pattern string, age time.Duration, now time.Time) int {
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return 0
	}
	n := 0
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil || !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) < age {
			continue
		}
		if os.Remove(m) == nil {
			n++
		}
	}
	return n
}
