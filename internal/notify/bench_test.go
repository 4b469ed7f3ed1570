package notify

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
)

// BenchmarkObserve is the cost status and jobs run add per connection or
// run: one BEGIN IMMEDIATE transaction on the activity log (synchronous=FULL),
// no sink.
func BenchmarkObserve(b *testing.B) {
	s, err := activitylog.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := &Notifier{States: s, Now: time.Now, RemindAfter: time.Hour, Host: "h"}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := n.Observe(ctx, Observation{Subject: SubjectConnection, ID: "c1", Name: "crm", State: "ok", Healthy: i%2 == 0}); err != nil {
			b.Fatal(err)
		}
	}
}
