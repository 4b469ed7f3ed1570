package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/notify"
)

// sent keeps what the notifier would send.
type sent struct {
	mu     sync.Mutex
	events []notify.Event
}

func (s *sent) Name() string { return "test" }

func (s *sent) Send(_ context.Context, p notify.Payload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, p.Connctl)
	return nil
}

// The runner tells the observer how each run ended: a scheduled job whose
// runs fail PauseAfter times in a row is paused (an activity), a run by
// name still runs it, and Resume undoes it.
func TestRunnerPausesAScheduledJobAndResumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := t0
	sink := &sent{}
	f.runner.Now = func() time.Time { return now }
	f.runner.Observer = &notify.Notifier{States: f.log.Store, Sinks: []notify.Sink{sink}, Now: func() time.Time { return now }, RemindAfter: 24 * time.Hour, Host: "h"}
	f.runner.PauseAfter = 2
	ctx := context.Background()
	f.src.err = &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "GET acme.example.test/tickets: 500 api_key=CANARY-k"}

	res, err := f.runner.Run(ctx, "tickets", RunOptions{})
	if err == nil || res.Status != activitylog.StatusFailed || res.Paused || !res.PausedAt.IsZero() {
		t.Fatalf("first failure: %+v, %v", res, err)
	}
	now = now.Add(time.Hour)
	res, _ = f.runner.Run(ctx, "tickets", RunOptions{})
	if !res.Paused || !res.PausedAt.Equal(now) {
		t.Fatalf("second failure did not pause: %+v", res)
	}
	if at, err := f.runner.Paused(ctx, "job_1"); err != nil || !at.Equal(now) {
		t.Fatalf("Paused = %v, %v", at, err)
	}
	if len(sink.events) != 2 || sink.events[0].Kind != notify.KindFailing || sink.events[1].Kind != notify.KindPaused {
		t.Fatalf("events %+v", sink.events)
	}
	if e := sink.events[0]; e.Reason != "GET acme.example.test/tickets: 500 api_key=[redacted]" || e.Fix == "" {
		t.Errorf("failing event %+v", e)
	}
	acts, _ := f.log.List(ctx, activitylog.Filter{JobID: "job_1", Type: activitylog.TypeUpdate})
	if len(acts) != 1 || acts[0].Action != activitylog.ActionPause || acts[0].ConnectionName != "support" || acts[0].Who != "tester" {
		t.Fatalf("activities %+v", acts)
	}

	// A run by name of the paused job runs, and says it is paused.
	f.src.err = nil
	res, err = f.runner.Run(ctx, "tickets", RunOptions{})
	if err != nil || res.PausedAt.IsZero() || res.Paused {
		t.Fatalf("a run of the paused job: %+v, %v", res, err)
	}
	if k := sink.events[len(sink.events)-1].Kind; k != notify.KindRecovered {
		t.Errorf("last event %s, want recovered", k)
	}
	j, ok, err := f.runner.Resume(ctx, "tickets")
	if err != nil || !ok || j.Name != "tickets" {
		t.Fatalf("resume: %v %v %v", j, ok, err)
	}
	if _, ok, _ := f.runner.Resume(ctx, "tickets"); ok {
		t.Error("resumed twice")
	}
	if _, _, err := f.runner.Resume(ctx, "nosuch"); err == nil {
		t.Error("resumed an unknown job")
	}
	acts, _ = f.log.List(ctx, activitylog.Filter{JobID: "job_1", Type: activitylog.TypeUpdate})
	if len(acts) != 2 || acts[0].Action != activitylog.ActionResume {
		t.Fatalf("activities %+v", acts)
	}
	// An on-demand job (deals) is never paused, and a cancelled run is
	// not observed.
	f.src.err = &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "500"}
	for range 3 {
		if res, _ := f.runner.Run(ctx, "deals", RunOptions{}); res.Paused {
			t.Fatal("an on-demand job was paused")
		}
	}
}

// --notify-on never remembers the state but sends nothing.
func TestRunnerNotifyOnNever(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sink := &sent{}
	f.runner.Observer = &notify.Notifier{States: f.log.Store, Sinks: []notify.Sink{sink}, Now: f.runner.Now, Host: "h"}
	f.doc.doc.Jobs[0].NotifyOn = NotifyOnNever
	f.src.err = &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "500"}
	if _, err := f.runner.Run(context.Background(), "tickets", RunOptions{}); err == nil {
		t.Fatal("no failure")
	}
	if len(sink.events) != 0 {
		t.Errorf("sent %+v", sink.events)
	}
	if st, ok, _ := f.log.SubjectState(context.Background(), notify.SubjectJob, "job_1"); !ok || st.Healthy {
		t.Errorf("state %+v, %v", st, ok)
	}
}
