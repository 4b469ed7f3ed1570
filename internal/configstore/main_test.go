package configstore

import (
	"os"
	"testing"

	"github.com/connctl/connctl/internal/testpeer"
)

// TestMain points the parse cache at a temporary folder, so that tests and
// benchmarks never write to the real ~/.cache.
func TestMain(m *testing.M) { os.Exit(testpeer.RunWithPrivateCache(m)) }
