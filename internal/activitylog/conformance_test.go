package activitylog_test

import (
	"path/filepath"
	"testing"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/activitylog/activitylogtest"
)

// TestSQLiteConformance runs the Log suite against the SQLite store: each
// handle is a separate Store (its own connections) on one file, as two
// processes would have.
func TestSQLiteConformance(t *testing.T) {
	t.Parallel()
	activitylogtest.RunConformance(t, func(t *testing.T) func() (activitylog.Log, error) {
		path := filepath.Join(t.TempDir(), "state", "connctl", activitylog.FileName)
		return func() (activitylog.Log, error) {
			s, err := activitylog.Open(path)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	})
}
