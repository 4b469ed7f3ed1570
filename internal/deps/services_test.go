package deps

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/iostreams"
)

// TestConnectionAndJobUpdatesAreRecordedAlike: both managers' changes go
// through RecordUpdate, so a connection's and a job's update activity carry
// the same change list (a secret by its name only).
func TestConnectionAndJobUpdatesAreRecordedAlike(t *testing.T) {
	t.Parallel()
	ios, _, _, errOut := iostreams.Test()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	store, err := activitylog.Open(filepath.Join(t.TempDir(), activitylog.FileName), activitylog.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	d := &Deps{IO: ios, Getenv: func(string) string { return "" }, Now: func() time.Time { return now },
		Activities: func() (activitylog.Log, error) { return store, nil }}
	changes := []connection.Change{{Field: "domain", Old: "a", New: "b"}, {Field: "api_key", Secret: true}}
	want := []activitylog.Change{{Field: "domain", Old: "a", New: "b"}, {Field: "api_key", Secret: true}}
	conn := &configstore.Connection{ID: "conn_1", Name: "support"}

	ctx := context.Background()
	d.RecordUpdate(ctx, activitylog.Activity{Action: "edit", ConnectionID: conn.ID, ConnectionName: conn.Name}, changes)
	d.RecordJobUpdate(ctx, "edit", &configstore.Job{ID: "job_1", Name: "tickets"}, conn, changes)

	got, err := store.List(ctx, activitylog.Filter{Type: activitylog.TypeUpdate})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d activities, want 2", len(got))
	}
	for _, a := range got {
		if a.Status != activitylog.StatusSucceeded || a.Action != "edit" || a.ConnectionID != "conn_1" || a.Who == "" || !a.StartedAt.Equal(now) {
			t.Errorf("activity %+v: want a succeeded edit of conn_1 by someone at %s", a, now)
		}
		if !reflect.DeepEqual(a.Changes, want) {
			t.Errorf("changes %+v, want %+v", a.Changes, want)
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q, want nothing", errOut)
	}
}

// TestUnrecordedUpdateIsAWarning: the change has been made, so a log that
// cannot be opened costs a warning, not the command.
func TestUnrecordedUpdateIsAWarning(t *testing.T) {
	t.Parallel()
	ios, _, _, errOut := iostreams.Test()
	d := &Deps{IO: ios, Getenv: func(string) string { return "" }, Now: time.Now,
		Activities: func() (activitylog.Log, error) { return nil, errors.New("disk full") }}
	d.RecordJobUpdate(context.Background(), "create", &configstore.Job{ID: "job_1", Name: "tickets"}, nil, nil)
	if !strings.Contains(errOut.String(), "the change was made but not recorded in the activity log: disk full") {
		t.Errorf("stderr %q, want the warning", errOut)
	}
}
