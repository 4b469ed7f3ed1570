package mixpanel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

// runPaced runs the source through jobrunner.Run (as `jobs run` does) into
// a file, with the waits recorded and the clock fixed at today, and
// returns the result, the waits and the lines the file holds afterwards (a
// partial run keeps its file).
func runPaced(t *testing.T, f *fakeMP, url, since, fromDate string) (jobrunnertest.Result, *jobrunnertest.Waits, []string) {
	t.Helper()
	waits := &jobrunnertest.Waits{}
	// The clock moves only when the source or the client sleeps.
	var mu sync.Mutex
	clock := today
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		clock = clock.Add(d)
		mu.Unlock()
		return waits.Sleep(ctx, d)
	}
	req := jobrunner.Request{
		Fields:  map[string]string{"project_id": "1234567", "base_url": url, "service_account_username": testUser},
		Secrets: map[string]string{"service_account_secret": testSecret},
		Params:  map[string]string{"from_date": fromDate},
		Since:   since,
		HTTP:    jobrunner.NewHTTP(http.DefaultClient, sleep, nil, nil),
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	res := jobrunnertest.Run(t, &events{now: now}, nil, req, jobrunnertest.File(path))
	var lines []string
	if fh, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		fh.Close()
	}
	return res, waits, lines
}

// A year of backfill is 13 queries of up to 30 days, not 365 of one, and
// never more than 3 start in a second.
func TestEventsBackfillsAYearInThirtyDayRanges(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	f.perDay["2023-03-11"] = 1
	f.perDay["2024-03-09"] = 1
	res, waits, _ := runPaced(t, f, srv.URL, "", "2023-03-11")
	got := f.fetched()
	if res.Err != nil || len(got) != 13 || got[0] != "2023-03-11..2023-04-09" || got[12] != "2024-03-05..2024-03-10" {
		t.Fatalf("err %v, ranges %v", res.Err, got)
	}
	if len(res.Records) != 2 || res.Checkpoint != "2024-03-09" {
		t.Errorf("%d records, checkpoint %q", len(res.Records), res.Checkpoint)
	}
	// Three queries a second: the fourth, seventh, tenth and thirteenth
	// wait for the next second.
	if w := waits.Durations(); !slices.Equal(w, []time.Duration{time.Second, time.Second, time.Second, time.Second}) {
		t.Errorf("waits %v", w)
	}
}

// More than 60 ranges (five years of backfill) spend the hour's budget: the
// run stops with a partial result that keeps what it fetched, and the next
// run resumes at the last complete day.
func TestEventsStopsPartialWhenTheHourlyBudgetIsSpent(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	f.perDay["2019-01-01"] = 2
	f.perDay["2019-02-01"] = 1
	res, _, lines := runPaced(t, f, srv.URL, "", "2019-01-01")
	var p *jobrunner.Partial
	if !errors.As(res.Err, &p) || p.Reason != jobrunner.ReasonRateLimit {
		t.Fatalf("err %v, want a *jobrunner.Partial", res.Err)
	}
	got := f.fetched()
	if len(got) != queriesPerHour {
		t.Fatalf("%d queries, want %d", len(got), queriesPerHour)
	}
	// 60 ranges of 30 days from 2019-01-01 end on 2023-12-05.
	last := got[len(got)-1]
	if last != "2023-11-06..2023-12-05" || res.Checkpoint != "2023-12-05" {
		t.Errorf("last range %s, checkpoint %q", last, res.Checkpoint)
	}
	if len(lines) != 3 {
		t.Errorf("the partial run's file holds %d events, want 3", len(lines))
	}
	if !strings.Contains(p.Message, "60 queries an hour") || !strings.Contains(p.Message, "resumes from 2023-12-05") {
		t.Errorf("message %q", p.Message)
	}

	// The next run picks up there.
	f2, srv2 := newMP(t)
	res, _, _ = runPaced(t, f2, srv2.URL, res.Checkpoint, "2019-01-01")
	if res.Err != nil || f2.fetched()[0] != "2023-12-05..2024-01-03" || res.Checkpoint != "2024-03-09" {
		t.Errorf("resume: err %v, ranges %v, checkpoint %q", res.Err, f2.fetched(), res.Checkpoint)
	}
}

// A 429 that outlasts the client's retries after a range is complete keeps
// that range (partial); before any range is complete it is a rate_limit
// failure that changes nothing.
func TestEventsRateLimitAfterARangeIsPartial(t *testing.T) {
	t.Parallel()
	throttle := func(from int) func(int, http.ResponseWriter, *http.Request) bool {
		return func(n int, w http.ResponseWriter, _ *http.Request) bool {
			if n < from {
				return false
			}
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"request": "/api/2.0/export", "error": "Query rate limit exceeded"}`)
			return true
		}
	}
	f, srv := newMP(t)
	f.perDay["2024-01-02"] = 4
	f.hook = throttle(2)
	res, _, lines := runPaced(t, f, srv.URL, "", "2024-01-01")
	var p *jobrunner.Partial
	if !errors.As(res.Err, &p) || res.Checkpoint != "2024-01-30" || len(lines) != 4 {
		t.Fatalf("err %v, checkpoint %q, %d lines", res.Err, res.Checkpoint, len(lines))
	}
	if !strings.Contains(p.Message, "2024-01-31..2024-02-29") || !strings.Contains(p.Message, "429") {
		t.Errorf("message %q", p.Message)
	}

	f, srv = newMP(t)
	f.hook = throttle(1)
	res, _, _ = runPaced(t, f, srv.URL, "", "2024-01-01")
	jobrunnertest.Failure(t, res.Err, jobrunner.ReasonRateLimit, testSecret)
}

// The client's retries count against the hour's 60.
func TestPacerCountsRetries(t *testing.T) {
	t.Parallel()
	p := &pacer{now: func() time.Time { return today }, sleep: (&jobrunnertest.Waits{}).Sleep}
	for i := range queriesPerHour - 5 {
		if ok, err := p.take(t.Context()); !ok || err != nil {
			t.Fatalf("query %d refused: %v", i, err)
		}
	}
	p.spent(5)
	if ok, _ := p.take(t.Context()); ok {
		t.Fatal("a 61st query in the hour was allowed")
	}
	// An hour later the budget is back.
	p.now = func() time.Time { return today.Add(time.Hour + 10*time.Second) }
	if ok, _ := p.take(t.Context()); !ok {
		t.Fatal("the budget did not come back after an hour")
	}
}

// A budget spent by retries before any range is complete is a rate_limit
// failure: there is nothing to keep, and the last output stays.
func TestEventsBudgetSpentBeforeAnyRangeFails(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	req := jobrunner.Request{
		Fields:  map[string]string{"project_id": "1234567", "base_url": srv.URL, "service_account_username": testUser},
		Secrets: map[string]string{"service_account_secret": testSecret},
		Params:  map[string]string{"from_date": "2024-03-01"},
		HTTP:    jobrunner.NewHTTP(srv.Client(), (&jobrunnertest.Waits{}).Sleep, nil, nil),
	}
	// Every query of the hour was spent already (by retries, say).
	spent := &pacer{now: func() time.Time { return today }}
	spent.spent(queriesPerHour)
	src := &events{now: func() time.Time { return today }, pace: spent}
	_, err := src.Fetch(t.Context(), req, func(jobrunner.Record) error { return nil })
	jobrunnertest.Failure(t, err, jobrunner.ReasonRateLimit, testSecret)
	if len(f.fetched()) != 0 {
		t.Errorf("queried %v", f.fetched())
	}
}
