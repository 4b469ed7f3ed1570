package configstore

import (
	"fmt"
	"os"
	"testing"
)

// TestMain points the parse cache at a temporary folder, so that tests and
// benchmarks never write to the real ~/.cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "configstore-cache-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir) //nolint:errcheck // cannot fail on Unix
	code := m.Run()
	os.RemoveAll(dir) //nolint:errcheck // best effort
	os.Exit(code)
}
