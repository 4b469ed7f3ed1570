package pgstore_test

import (
	"testing"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/activitylog/activitylogtest"
	"github.com/connctl/connctl/internal/testpeer/postgres"
)

func TestLogConformance(t *testing.T) {
	srv := postgres.Start(t)
	activitylogtest.RunConformance(t, func(t *testing.T) func() (activitylog.Log, error) {
		url := srv.NewDatabase(t)
		return func() (activitylog.Log, error) {
			return open(t, url, "tester", "test-host").Log(), nil
		}
	})
}
