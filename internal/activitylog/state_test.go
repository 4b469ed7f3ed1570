package activitylog

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSubjectStateRoundTripAndActivities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	s, _ := newStore(t, WithClock(func() time.Time { return now }))
	if _, ok, err := s.SubjectState(ctx, SubjectJobState, "job_1"); err != nil || ok {
		t.Fatalf("empty log: ok=%v err=%v", ok, err)
	}
	err := s.UpdateSubjectState(ctx, SubjectJobState, "job_1", func(prev SubjectState, found bool) (SubjectState, []Activity, error) {
		if found {
			t.Error("found a state in an empty log")
		}
		return SubjectState{Name: "tickets", State: "failed", Since: now, NotifiedAt: now, Failures: 3, PausedAt: now},
			[]Activity{{Type: TypeUpdate, Action: ActionPause, JobID: "job_1", JobName: "tickets", Message: "paused"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, ok, err := s.SubjectState(ctx, SubjectJobState, "job_1")
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	want := SubjectState{Subject: SubjectJobState, ID: "job_1", Name: "tickets", State: "failed", Since: now, NotifiedAt: now, Failures: 3, PausedAt: now, UpdatedAt: now}
	if st != want {
		t.Errorf("state = %+v\nwant    %+v", st, want)
	}
	acts, err := s.List(ctx, Filter{JobID: "job_1"})
	if err != nil || len(acts) != 1 || acts[0].Action != ActionPause {
		t.Fatalf("activities = %+v, %v", acts, err)
	}
	all, err := s.SubjectStates(ctx, SubjectJobState)
	if err != nil || len(all) != 1 || all["job_1"].Name != "tickets" {
		t.Errorf("SubjectStates = %+v, %v", all, err)
	}
	// An error from the decision changes nothing.
	boom := errors.New("boom")
	err = s.UpdateSubjectState(ctx, SubjectJobState, "job_1", func(prev SubjectState, _ bool) (SubjectState, []Activity, error) {
		return SubjectState{}, nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	if st2, _, _ := s.SubjectState(ctx, SubjectJobState, "job_1"); st2 != want {
		t.Errorf("after a failed decision: %+v", st2)
	}
	if err := s.UpdateSubjectState(ctx, "team", "x", nil); err == nil {
		t.Error("an unknown subject was accepted")
	}
}

// Two handles (as two processes) deciding on the same change at once: the
// transaction makes the second see the first's decision, so only one of
// them "sends".
func TestUpdateSubjectStateIsAtomicAcrossHandles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s1, path := newStore(t)
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var sent atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UpdateSubjectState(ctx, SubjectConnectionState, "conn_1", func(prev SubjectState, found bool) (SubjectState, []Activity, error) {
				if found && !prev.Healthy {
					return prev, nil, nil // a repeat
				}
				sent.Add(1)
				return SubjectState{Name: "crm", State: "unreachable", Since: time.Now(), NotifiedAt: time.Now()}, nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := sent.Load(); n != 1 {
		t.Errorf("%d decisions saw the change; want 1", n)
	}
}
