package list

import (
	"fmt"
	"os"
	"testing"

	"github.com/connctl/connctl/internal/testpeer"
)

// TestMain keeps the parse caches of the large configs these tests and
// benchmarks write out of the real ~/.cache.
func TestMain(m *testing.M) {
	cleanup, err := testpeer.IsolateUserCache()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}
