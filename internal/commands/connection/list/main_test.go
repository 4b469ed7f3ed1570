package list

import (
	"os"
	"testing"

	"github.com/connctl/connctl/internal/testpeer"
)

// TestMain keeps the parse caches of the large configs these tests and
// benchmarks write out of the real ~/.cache.
func TestMain(m *testing.M) { os.Exit(testpeer.RunWithPrivateCache(m)) }
