// Package activitylogtest holds the conformance suite every activitylog.Log
// backend runs.
package activitylogtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
)

// Backend makes a new, empty activity log for one test and returns a
// function that opens a handle on it. Each call of open must return a
// separate handle on the same stored log, as a second process would have
// (for SQLite: a second Store on the same file).
type Backend func(t *testing.T) (open func() (activitylog.Log, error))

// t0 is the suite's fixed "now" for start times; finish times come from the
// backend's own clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// RunConformance checks that a backend behaves as every activitylog.Log
// must: Record and Get round trip; List is newest first and filters by
// connection, job, type, status, failure and time, with limits; FailedSince
// counts failed and stale activities per connection (the FAILED 24H flag);
// BeginRun lets one live run of a job begin, across handles and
// goroutines, and a run whose process is gone is stale and does not block;
// BeginDueRun also refuses a job that ran since the given instant, so
// that of many workers one runs a due job; Finish ends a run once; IDsNamed and Names find what the log recorded;
// checkpoints are stored exactly as given (the forward-only rule is the job
// runner's), replaced, deleted, seen by other handles and kept by Prune; and
// concurrent writers on two handles lose nothing; subject states round
// trip, record their decision's activities, and concurrent decisions on two
// handles see each other's (one change decided once).
func RunConformance(t *testing.T, newBackend Backend) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	opener := func(t *testing.T) func() activitylog.Log {
		t.Helper()
		open := newBackend(t)
		return func() activitylog.Log {
			t.Helper()
			l, err := open()
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { _ = l.Close() })
			return l
		}
	}

	t.Run("record and get", func(t *testing.T) {
		open := opener(t)
		l := open()
		a := activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionEdit,
			ConnectionID: "c1", ConnectionName: "CRM-Prod", Who: "alice", StartedAt: t0,
			Message: "changed the domain", Changes: []activitylog.Change{{Field: "domain", Old: "a.example.com", New: "b.example.com"}, {Field: "api_key", Secret: true}}}
		id, err := l.Record(ctx, a)
		if err != nil || id <= 0 {
			t.Fatalf("Record = %d, %v", id, err)
		}
		for name, h := range map[string]activitylog.Log{"same handle": l, "new handle": open()} {
			got, err := h.Get(ctx, id)
			if err != nil {
				t.Fatalf("%s: Get: %v", name, err)
			}
			if got.ID != id || got.Type != a.Type || got.Action != a.Action || got.ConnectionID != "c1" || got.ConnectionName != "CRM-Prod" ||
				got.Who != "alice" || got.Status != activitylog.StatusSucceeded || got.Message != a.Message ||
				!got.StartedAt.Equal(t0) || got.StartedAt.Location() != time.UTC || got.FinishedAt == nil {
				t.Errorf("%s: Get = %+v", name, got)
			}
			if len(got.Changes) != 2 || got.Changes[0] != a.Changes[0] || got.Changes[1].Field != "api_key" || !got.Changes[1].Secret {
				t.Errorf("%s: changes = %+v", name, got.Changes)
			}
		}
		if _, err := l.Get(ctx, id+1000); !errors.Is(err, activitylog.ErrNoActivity) {
			t.Errorf("Get of a missing id = %v, want ErrNoActivity", err)
		}
		for _, bad := range []activitylog.Activity{
			{Type: "weird", Action: activitylog.ActionEdit, ConnectionID: "c1"},
			{Type: activitylog.TypeUpdate, Action: "explode", ConnectionID: "c1"},
			{Type: activitylog.TypeUpdate, Action: activitylog.ActionEdit},
			{Type: activitylog.TypeExecution},
			{Type: activitylog.TypeUpdate, Action: activitylog.ActionEdit, ConnectionID: "c1", Status: activitylog.StatusSucceeded, Reason: activitylog.ReasonAuth},
			{Type: activitylog.TypeExecution, JobID: "j", Status: activitylog.StatusSucceeded, Records: -1},
		} {
			if _, err := l.Record(ctx, bad); err == nil {
				t.Errorf("Record accepted %+v", bad)
			}
		}
		if all, err := l.List(ctx, activitylog.Filter{}); err != nil || len(all) != 1 {
			t.Errorf("after refused records: %d activities, %v", len(all), err)
		}
	})

	t.Run("list and filter", func(t *testing.T) {
		l := opener(t)()
		name := fixture(ctx, t, l)
		since := t0.Add(-24 * time.Hour)
		for _, tc := range []struct {
			f    activitylog.Filter
			want string
		}{
			{activitylog.Filter{}, "edit-j1 denied-c3 failed-j2 cancelled-j2 partial-j2 failed-j1 ok-j1 old-failed-j1 create-c1"},
			{activitylog.Filter{Limit: 2}, "edit-j1 denied-c3"},
			{activitylog.Filter{ConnectionID: "c2"}, "failed-j2 cancelled-j2 partial-j2"},
			{activitylog.Filter{ConnectionIDs: []string{"c2", "c3"}, Limit: 3}, "denied-c3 failed-j2 cancelled-j2"},
			{activitylog.Filter{JobID: "j1"}, "edit-j1 failed-j1 ok-j1 old-failed-j1"},
			{activitylog.Filter{JobIDs: []string{"j2", "nope"}}, "failed-j2 cancelled-j2 partial-j2"},
			{activitylog.Filter{Type: activitylog.TypeUpdate}, "edit-j1 denied-c3 create-c1"},
			{activitylog.Filter{Type: activitylog.TypeExecution, Limit: 1}, "failed-j2"},
			{activitylog.Filter{Status: activitylog.StatusFailed}, "denied-c3 failed-j2 failed-j1 old-failed-j1"},
			{activitylog.Filter{Status: activitylog.StatusPartiallySucceeded}, "partial-j2"},
			{activitylog.Filter{FailedOnly: true, Since: since}, "denied-c3 failed-j2 failed-j1"},
			{activitylog.Filter{FailedOnly: true, Since: since, ConnectionID: "c1"}, "failed-j1"},
			{activitylog.Filter{FailedOnly: true, Status: activitylog.StatusSucceeded}, ""},
			{activitylog.Filter{Since: t0.Add(-150 * time.Minute)}, "edit-j1 denied-c3 failed-j2"},
			{activitylog.Filter{ConnectionID: "nope"}, ""},
		} {
			got, err := l.List(ctx, tc.f)
			if err != nil {
				t.Errorf("List(%+v): %v", tc.f, err)
				continue
			}
			if got == nil {
				t.Errorf("List(%+v) = nil, want an empty list", tc.f)
			}
			var names []string
			for _, a := range got {
				names = append(names, name[a.ID])
			}
			if g := strings.Join(names, " "); g != tc.want {
				t.Errorf("List(%+v):\n got %s\nwant %s", tc.f, g, tc.want)
			}
		}
		for _, f := range []activitylog.Filter{{Status: "weird"}, {Type: "weird"}} {
			if _, err := l.List(ctx, f); err == nil {
				t.Errorf("List(%+v) accepted", f)
			}
		}
	})

	t.Run("failed in the last 24 hours", func(t *testing.T) {
		l := opener(t)()
		fixture(ctx, t, l)
		// A run whose process died counts as a failure nobody recorded.
		if _, err := l.Record(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j4", ConnectionID: "c4",
			StartedAt: t0.Add(-time.Hour), PID: DeadPID(t)}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			since time.Time
			want  map[string]int
		}{
			// partial-j2 and cancelled-j2 are not failures.
			{t0.Add(-24 * time.Hour), map[string]int{"c1": 1, "c2": 1, "c3": 1, "c4": 1}},
			{t0.Add(-72 * time.Hour), map[string]int{"c1": 2, "c2": 1, "c3": 1, "c4": 1}},
			{t0, map[string]int{}},
		} {
			got, err := l.FailedSince(ctx, tc.since)
			if err != nil || got == nil || !maps.Equal(got, tc.want) {
				t.Errorf("FailedSince(%s) = %v, %v; want %v", tc.since.Format(time.RFC3339), got, err, tc.want)
			}
		}
	})

	t.Run("runs", func(t *testing.T) {
		open := opener(t)
		a, b := open(), open()
		run := activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "nightly", ConnectionID: "c1", StartedAt: t0}
		id, err := a.BeginRun(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		var re *activitylog.RunningError
		if _, err := b.BeginRun(ctx, run); !errors.As(err, &re) || re.ID != id || re.PID != os.Getpid() {
			t.Fatalf("a second BeginRun = %v, want a *RunningError naming activity %d", err, id)
		}
		if got, err := b.Get(ctx, id); err != nil || got.Status != activitylog.StatusRunning || got.FinishedAt != nil || got.PID != os.Getpid() || got.Host == "" {
			t.Fatalf("running: %+v, %v", got, err)
		}
		counts := activitylog.Counts{Records: 10, Bytes: 2048, Pages: 2, Retries: 1, WithoutCursor: 3}
		if err := b.Finish(ctx, id, activitylog.StatusFailed, activitylog.ReasonRateLimit, "throttled", counts); err != nil {
			t.Fatalf("Finish from another handle: %v", err)
		}
		got, err := a.Get(ctx, id)
		if err != nil || got.Status != activitylog.StatusFailed || got.Reason != activitylog.ReasonRateLimit || got.Message != "throttled" ||
			got.FinishedAt == nil || got.Records != 10 || got.Bytes != 2048 || got.Pages != 2 || got.Retries != 1 || got.WithoutCursor != 3 {
			t.Fatalf("finished: %+v, %v", got, err)
		}
		if err := a.Finish(ctx, id, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); !errors.Is(err, activitylog.ErrFinished) {
			t.Errorf("Finish twice = %v, want ErrFinished", err)
		}
		if err := a.Finish(ctx, id+1000, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); !errors.Is(err, activitylog.ErrNotFound) {
			t.Errorf("Finish of a missing id = %v, want ErrNotFound", err)
		}
		if err := a.Finish(ctx, id, activitylog.StatusRunning, "", "", activitylog.Counts{}); err == nil {
			t.Error("Finish accepted a running status")
		}
		// A run whose process is gone reads as stale and does not block.
		staleID, err := a.Record(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j2", ConnectionID: "c1", StartedAt: t0, PID: DeadPID(t)})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := b.Get(ctx, staleID); err != nil || got.Status != activitylog.StatusStale {
			t.Errorf("a dead process's run: %+v, %v; want stale", got, err)
		}
		if list, err := b.List(ctx, activitylog.Filter{Status: activitylog.StatusStale}); err != nil || len(list) != 1 || list[0].ID != staleID {
			t.Errorf("List(stale) = %+v, %v", list, err)
		}
		next, err := b.BeginRun(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j2", ConnectionID: "c1", StartedAt: t0})
		if err != nil {
			t.Fatalf("BeginRun beside a stale run: %v", err)
		}
		if err := b.Finish(ctx, next, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("due runs", func(t *testing.T) {
		open := opener(t)
		a, b := open(), open()
		since := t0.Add(-time.Hour)
		run := activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "hourly", ConnectionID: "c1", Who: "alice", StartedAt: t0}
		id, err := a.BeginDueRun(ctx, run, since)
		if err != nil {
			t.Fatalf("BeginDueRun of a job never run: %v", err)
		}
		var re *activitylog.RunningError
		if _, err := b.BeginDueRun(ctx, run, since); !errors.As(err, &re) || re.ID != id {
			t.Fatalf("BeginDueRun while it runs = %v, want a *RunningError naming activity %d", err, id)
		}
		if err := b.Finish(ctx, id, activitylog.StatusFailed, activitylog.ReasonRateLimit, "boom", activitylog.Counts{}); err != nil {
			t.Fatal(err)
		}
		var ne *activitylog.NotDueError
		if _, err := b.BeginDueRun(ctx, run, since); !errors.As(err, &ne) || ne.ID != id || !ne.StartedAt.Equal(t0) || ne.Who != "alice" || ne.Host == "" {
			t.Fatalf("BeginDueRun after a failed run in the interval = %v (%+v), want a *NotDueError naming activity %d", err, ne, id)
		}
		if _, err := b.BeginRun(ctx, run); err != nil {
			t.Fatalf("BeginRun (by name) of a job that is not due: %v", err)
		}
		// A run that started at since or before does not count.
		next := run
		next.JobID, next.StartedAt = "j2", since
		if _, err := a.Record(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j2", ConnectionID: "c1", Status: activitylog.StatusSucceeded, StartedAt: since}); err != nil {
			t.Fatal(err)
		}
		// Nor do cancelled runs (released by a worker that stopped) and
		// stale ones (a worker killed mid-run).
		for _, r := range []activitylog.Activity{
			{Type: activitylog.TypeExecution, JobID: "j2", ConnectionID: "c1", Status: activitylog.StatusCancelled, StartedAt: t0},
			{Type: activitylog.TypeExecution, JobID: "j2", ConnectionID: "c1", StartedAt: t0, PID: DeadPID(t)},
		} {
			if _, err := a.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		next.StartedAt = t0.Add(time.Minute)
		id2, err := b.BeginDueRun(ctx, next, since)
		if err != nil {
			t.Fatalf("BeginDueRun beside an older, a cancelled and a stale run: %v", err)
		}
		if err := b.Finish(ctx, id2, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); err != nil {
			t.Fatal(err)
		}
		// Many workers find the same job due: one runs it.
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, refused := 0, 0
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := a
				if i%2 == 1 {
					h = b
				}
				r := activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j3", ConnectionID: "c1", StartedAt: t0.Add(time.Duration(i) * time.Second)}
				id, err := h.BeginDueRun(ctx, r, since)
				mu.Lock()
				defer mu.Unlock()
				var re *activitylog.RunningError
				var ne *activitylog.NotDueError
				switch {
				case err == nil:
					won++
					if err := h.Finish(ctx, id, activitylog.StatusSucceeded, "", "", activitylog.Counts{}); err != nil {
						t.Error(err)
					}
				case errors.As(err, &re), errors.As(err, &ne):
					refused++
				default:
					t.Errorf("BeginDueRun: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || refused != 11 {
			t.Errorf("12 workers: %d ran the due job, %d were refused; want 1 and 11", won, refused)
		}
	})

	t.Run("names", func(t *testing.T) {
		l := opener(t)()
		for i, r := range []struct{ id, name string }{{"c-old", "crm"}, {"c-new", "CRM"}, {"c-other", "support"}} {
			if _, err := l.Record(ctx, activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionCreate,
				ConnectionID: r.id, ConnectionName: r.name, StartedAt: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.Record(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j1", JobName: "Nightly",
			ConnectionID: "c-new", ConnectionName: "CRM", Status: activitylog.StatusSucceeded, StartedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if ids, err := l.IDsNamed(ctx, activitylog.SubjectConnection, "Crm"); err != nil || !slices.Equal(ids, []string{"c-new", "c-old"}) {
			t.Errorf("IDsNamed(connection, Crm) = %v, %v; want the most recent first", ids, err)
		}
		if ids, err := l.IDsNamed(ctx, activitylog.SubjectJob, "nightly"); err != nil || !slices.Equal(ids, []string{"j1"}) {
			t.Errorf("IDsNamed(job, nightly) = %v, %v", ids, err)
		}
		if ids, err := l.IDsNamed(ctx, activitylog.SubjectConnection, "nope"); err != nil || len(ids) != 0 {
			t.Errorf("IDsNamed of an unknown name = %v, %v", ids, err)
		}
		if names, err := l.Names(ctx, activitylog.SubjectJob); err != nil || !slices.Equal(names, []string{"Nightly"}) {
			t.Errorf("Names(job) = %v, %v", names, err)
		}
		if names, err := l.Names(ctx, activitylog.SubjectConnection); err != nil || len(names) < 2 || !slices.Contains(names, "support") {
			t.Errorf("Names(connection) = %v, %v", names, err)
		}
	})

	t.Run("checkpoint swaps", func(t *testing.T) {
		open := opener(t)
		a, b := open(), open()
		p := func(s string) *string { return &s }
		read := func() *string {
			t.Helper()
			v, ok, err := b.Checkpoint(ctx, "js")
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return nil
			}
			return &v
		}
		show := func(v *string) string {
			if v == nil {
				return "none"
			}
			return *v
		}
		for i, c := range []struct {
			old, value *string
			want       bool
			after      *string
		}{
			{nil, nil, true, nil},        // none, none: nothing to do
			{p("x"), p("y"), false, nil}, // expected x, there is none
			{p("x"), nil, false, nil},    // delete x: there is none
			{nil, p("2026-03-01T00:00:00Z"), true, p("2026-03-01T00:00:00Z")},
			{nil, p("other"), false, p("2026-03-01T00:00:00Z")}, // expected none: there is one
			{nil, nil, false, p("2026-03-01T00:00:00Z")},
			{p("2026-02-01T00:00:00Z"), p("z"), false, p("2026-03-01T00:00:00Z")}, // a stale expectation
			{p("2026-03-01T00:00:00Z"), p("2026-01-01T00:00:00Z"), true, p("2026-01-01T00:00:00Z")},
			{p("2026-03-01T00:00:00Z"), nil, false, p("2026-01-01T00:00:00Z")},
			{p("2026-01-01T00:00:00Z"), nil, true, nil},
		} {
			got, err := a.SwapCheckpoint(ctx, "js", c.old, c.value)
			if err != nil || got != c.want {
				t.Fatalf("step %d: SwapCheckpoint(%s → %s) = %v, %v; want %v", i, show(c.old), show(c.value), got, err, c.want)
			}
			if after := read(); show(after) != show(c.after) {
				t.Fatalf("step %d: another handle reads %s, want %s", i, show(after), show(c.after))
			}
		}
		if _, err := a.SwapCheckpoint(ctx, "", nil, p("x")); err == nil {
			t.Error("SwapCheckpoint accepted an empty job ID")
		}
	})

	t.Run("checkpoints", func(t *testing.T) {
		open := opener(t)
		a, b := open(), open()
		if v, ok, err := a.Checkpoint(ctx, "j1"); err != nil || ok || v != "" {
			t.Fatalf("no checkpoint yet: %q, %v, %v", v, ok, err)
		}
		// Stored exactly as given, even backwards (a full refresh) or empty.
		for _, v := range []string{"2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", "cursor with spaces ✓", ""} {
			if err := a.SetCheckpoint(ctx, "j1", v); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := b.Checkpoint(ctx, "j1"); err != nil || !ok || got != v {
				t.Fatalf("another handle reads %q, %v, %v; want %q", got, ok, err, v)
			}
		}
		if err := a.SetCheckpoint(ctx, "j2", "cursor-2"); err != nil {
			t.Fatal(err)
		}
		if err := a.SetCheckpoint(ctx, "", "x"); err == nil {
			t.Error("SetCheckpoint accepted an empty job ID")
		}
		if _, err := a.Record(ctx, activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionEdit, JobID: "j2", StartedAt: t0.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Prune(ctx, t0); err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v", n, err)
		}
		if v, ok, err := a.Checkpoint(ctx, "j2"); err != nil || !ok || v != "cursor-2" {
			t.Fatalf("Prune touched a checkpoint: %q, %v, %v", v, ok, err)
		}
		if err := b.DeleteCheckpoint(ctx, "j2"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := a.Checkpoint(ctx, "j2"); err != nil || ok {
			t.Errorf("after DeleteCheckpoint: %v, %v", ok, err)
		}
		if err := a.DeleteCheckpoint(ctx, "j2"); err != nil {
			t.Errorf("DeleteCheckpoint of a missing checkpoint: %v", err)
		}
		if _, ok, err := a.Checkpoint(ctx, "j1"); err != nil || !ok {
			t.Errorf("DeleteCheckpoint of j2 removed j1's: %v, %v", ok, err)
		}
	})

	t.Run("prune", func(t *testing.T) {
		l := opener(t)()
		fixture(ctx, t, l)
		live, err := l.BeginRun(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "j9", ConnectionID: "c9", StartedAt: t0.Add(-100 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		// Before t0-4h30m: create-c1, old-failed-j1, ok-j1, failed-j1.
		n, err := l.Prune(ctx, t0.Add(-270*time.Minute))
		if err != nil || n != 4 {
			t.Fatalf("Prune = %d, %v; want 4", n, err)
		}
		left, err := l.List(ctx, activitylog.Filter{})
		if err != nil || len(left) != 6 || !slices.ContainsFunc(left, func(a activitylog.Activity) bool { return a.ID == live }) {
			t.Fatalf("after Prune: %d left (%v), the live run kept: want 6 with it", len(left), err)
		}
		if n, err := l.Prune(ctx, t0.Add(-270*time.Minute)); err != nil || n != 0 {
			t.Errorf("second Prune = %d, %v", n, err)
		}
	})

	t.Run("subject states", func(t *testing.T) {
		open := opener(t)
		l := open()
		if _, ok, err := l.SubjectState(ctx, activitylog.SubjectJobState, "j1"); ok || err != nil {
			t.Fatalf("SubjectState on an empty log: %v, %v", ok, err)
		}
		paused := activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionPause, JobID: "j1", JobName: "tickets", StartedAt: t0}
		err := l.UpdateSubjectState(ctx, activitylog.SubjectJobState, "j1", func(_ activitylog.SubjectState, found bool) (activitylog.SubjectState, []activitylog.Activity, error) {
			if found {
				t.Error("found a state in an empty log")
			}
			return activitylog.SubjectState{Name: "tickets", State: "failed", Since: t0, NotifiedAt: t0, Failures: 3, PausedAt: t0}, []activitylog.Activity{paused}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := open().SubjectState(ctx, activitylog.SubjectJobState, "j1")
		if err != nil || !ok || got.Name != "tickets" || got.State != "failed" || got.Healthy || !got.Since.Equal(t0) || !got.NotifiedAt.Equal(t0) ||
			got.Failures != 3 || !got.PausedAt.Equal(t0) || got.Subject != activitylog.SubjectJobState || got.ID != "j1" {
			t.Errorf("SubjectState = %+v, %v, %v", got, ok, err)
		}
		if acts, err := l.List(ctx, activitylog.Filter{JobID: "j1"}); err != nil || len(acts) != 1 || acts[0].Action != activitylog.ActionPause {
			t.Errorf("the decision's activity: %+v, %v", acts, err)
		}
		if all, err := l.SubjectStates(ctx, activitylog.SubjectJobState); err != nil || len(all) != 1 {
			t.Errorf("SubjectStates = %+v, %v", all, err)
		}
		if all, err := l.SubjectStates(ctx, activitylog.SubjectConnectionState); err != nil || len(all) != 0 {
			t.Errorf("SubjectStates(connection) = %+v, %v", all, err)
		}
		// Concurrent decisions on two handles see each other's result.
		handles := []activitylog.Log{open(), open()}
		var mu sync.Mutex
		changes := 0
		var wg sync.WaitGroup
		for _, h := range handles {
			for range 4 {
				wg.Go(func() {
					err := h.UpdateSubjectState(ctx, activitylog.SubjectConnectionState, "c1", func(prev activitylog.SubjectState, found bool) (activitylog.SubjectState, []activitylog.Activity, error) {
						if found && !prev.Healthy {
							return prev, nil, nil
						}
						mu.Lock()
						changes++
						mu.Unlock()
						return activitylog.SubjectState{Name: "crm", State: "unreachable", Since: t0}, nil, nil
					})
					if err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		if changes != 1 {
			t.Errorf("%d concurrent decisions saw the change, want 1", changes)
		}
	})

	t.Run("concurrent writers lose nothing", func(t *testing.T) {
		open := opener(t)
		handles := []activitylog.Log{open(), open()}
		const writers, each = 4, 10
		var wg sync.WaitGroup
		for h, l := range handles {
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						msg := fmt.Sprintf("h%d/w%d/%d", h, w, i)
						if _, err := l.Record(ctx, activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionEdit,
							ConnectionID: "conc", Message: msg, StartedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
							t.Errorf("Record %s: %v", msg, err)
						}
					}
				})
			}
		}
		// Meanwhile, every writer tries to begin the same run: one wins.
		var begun sync.Map
		for _, l := range handles {
			for range writers {
				wg.Go(func() {
					id, err := l.BeginRun(ctx, activitylog.Activity{Type: activitylog.TypeExecution, JobID: "race", ConnectionID: "conc", StartedAt: t0})
					var re *activitylog.RunningError
					switch {
					case err == nil:
						begun.Store(id, true)
					case !errors.As(err, &re):
						t.Errorf("BeginRun: %v", err)
					}
				})
			}
		}
		wg.Wait()
		got, err := open().List(ctx, activitylog.Filter{ConnectionID: "conc", Type: activitylog.TypeUpdate})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, a := range got {
			seen[a.Message] = true
		}
		if want := len(handles) * writers * each; len(got) != want || len(seen) != want {
			t.Errorf("%d activities (%d distinct) after %d concurrent records", len(got), len(seen), want)
		}
		n := 0
		begun.Range(func(any, any) bool { n++; return true })
		if n != 1 {
			t.Errorf("%d concurrent BeginRuns of one job succeeded, want 1", n)
		}
		if runs, err := open().List(ctx, activitylog.Filter{JobID: "race"}); err != nil || len(runs) != 1 {
			t.Errorf("%d runs of the raced job recorded (%v), want 1", len(runs), err)
		}
	})
}

// fixture records activities named by their messages and returns the names
// by ID. Newest first: edit-j1 (t0-10m), denied-c3, failed-j2, cancelled-j2,
// partial-j2, failed-j1, ok-j1, old-failed-j1 (t0-30h), create-c1 (t0-48h).
func fixture(ctx context.Context, t *testing.T, l activitylog.Log) map[int64]string {
	t.Helper()
	execution := func(job, conn string, st activitylog.Status, r activitylog.Reason) activitylog.Activity {
		return activitylog.Activity{Type: activitylog.TypeExecution, JobID: job, JobName: job, ConnectionID: conn, ConnectionName: conn, Status: st, Reason: r}
	}
	update := func(action, conn, job string, st activitylog.Status, r activitylog.Reason) activitylog.Activity {
		return activitylog.Activity{Type: activitylog.TypeUpdate, Action: action, ConnectionID: conn, JobID: job, Status: st, Reason: r}
	}
	rows := []struct {
		name string
		ago  time.Duration
		a    activitylog.Activity
	}{
		{"create-c1", 48 * time.Hour, update(activitylog.ActionCreate, "c1", "", activitylog.StatusSucceeded, "")},
		{"old-failed-j1", 30 * time.Hour, execution("j1", "c1", activitylog.StatusFailed, activitylog.ReasonNetwork)},
		{"ok-j1", 10 * time.Hour, execution("j1", "c1", activitylog.StatusSucceeded, "")},
		{"failed-j1", 5 * time.Hour, execution("j1", "c1", activitylog.StatusFailed, activitylog.ReasonSourceError)},
		{"partial-j2", 4 * time.Hour, execution("j2", "c2", activitylog.StatusPartiallySucceeded, activitylog.ReasonRateLimit)},
		{"cancelled-j2", 3 * time.Hour, execution("j2", "c2", activitylog.StatusCancelled, "")},
		{"failed-j2", 2 * time.Hour, execution("j2", "c2", activitylog.StatusFailed, activitylog.ReasonNetwork)},
		{"denied-c3", 90 * time.Minute, update(activitylog.ActionAuthorize, "c3", "", activitylog.StatusFailed, activitylog.ReasonAuth)},
		{"edit-j1", 10 * time.Minute, update(activitylog.ActionEdit, "c1", "j1", activitylog.StatusSucceeded, "")},
	}
	names := map[int64]string{}
	for _, r := range rows {
		r.a.StartedAt, r.a.Message = t0.Add(-r.ago), r.name
		id, err := l.Record(ctx, r.a)
		if err != nil {
			t.Fatalf("record %s: %v", r.name, err)
		}
		names[id] = r.name
	}
	return names
}

// DeadPID is the PID of a process of this machine that has exited: the test
// binary run again with no tests. A running execution recorded with it is
// stale.
func DeadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = os.Environ()
	if err := cmd.Run(); err != nil {
		t.Fatalf("run a short-lived process: %v", err)
	}
	return cmd.Process.Pid
}
