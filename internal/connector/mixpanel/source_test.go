package mixpanel

// The fake Mixpanel below follows the raw event export API:
// https://docs.mixpanel.com/reference/raw-event-export (GET
// /api/2.0/export?project_id=&from_date=YYYY-MM-DD&to_date=YYYY-MM-DD, both
// dates inclusive, any range, Accept: text/plain; the answer is newline-delimited JSON,
// one {"event": ..., "properties": {"time", "distinct_id", "$insert_id",
// ...}} per line) and https://docs.mixpanel.com/reference/raw-data-export-api-authentication
// (service account Basic username:secret plus project_id). Over the rate
// limit (https://docs.mixpanel.com/reference/rate-limits) it answers 429;
// a bad service account gets 401; errors carry {"request": ..., "error": ...}.

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const (
	testUser   = "export.a1b2c3.mp-service-account"
	testSecret = "mp-secret-1"
)

var today = time.Date(2024, 3, 10, 15, 30, 0, 0, time.UTC)

type fakeMP struct {
	perDay map[string]int // events per day

	mu    sync.Mutex
	n     int
	days  []string
	hook  func(n int, w http.ResponseWriter, r *http.Request) bool
	lines func(day string, i int) string
}

func newMP(t *testing.T) (*fakeMP, *httptest.Server) {
	f := &fakeMP{perDay: map[string]int{}}
	srv := httptest.NewServer(connectortest.CheckSpec(t, connectortest.MixpanelExportSpec, f))
	t.Cleanup(srv.Close)
	return f, srv
}

func eventLine(day string, i int) string {
	d, _ := time.Parse(time.DateOnly, day)
	return fmt.Sprintf(`{"event":"Signed Up","properties":{"time":%d,"distinct_id":"u%d","$insert_id":"%s-%d","$os":"Mac OS X","mp_lib":"web","plan":"pro"}}`,
		d.Add(time.Duration(i)*time.Second).Unix(), i, day, i)
}

func (f *fakeMP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(testUser+":"+testSecret)) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"request": "/api/2.0/export", "error": "Invalid service account credentials"}`)
		return
	}
	q := r.URL.Query()
	from, to := q.Get("from_date"), q.Get("to_date")
	f0, err1 := time.Parse(time.DateOnly, from)
	t0, err2 := time.Parse(time.DateOnly, to)
	if r.URL.Path != "/api/2.0/export" || q.Get("project_id") != "1234567" || err1 != nil || err2 != nil || t0.Before(f0) || r.Header.Get("Accept") != "text/plain" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"request": "/api/2.0/export", "error": "bad request"}`)
		return
	}
	f.mu.Lock()
	f.days = append(f.days, from+".."+to)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	line := eventLine
	if f.lines != nil {
		line = f.lines
	}
	for d := f0; !d.After(t0); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		for i := range f.perDay[day] {
			fmt.Fprintln(w, line(day, i))
		}
	}
}

func (f *fakeMP) fetched() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.days)
}

func run(srv *httptest.Server, secret, since string, params map[string]string) jobrunnertest.Result {
	req := jobrunner.Request{
		Fields:  map[string]string{"project_id": "1234567", "region": "eu", "base_url": srv.URL, "service_account_username": testUser},
		Secrets: map[string]string{"service_account_secret": secret},
		Params:  params,
		Since:   since,
	}
	return jobrunnertest.Fetch(&events{now: func() time.Time { return today }}, srv.Client(), req)
}

func failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	return jobrunnertest.Failure(t, err, reason, testSecret, "Basic")
}

func TestEventsAsksForARangeAndStreams(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	f.perDay["2024-03-08"] = 20000 // several MB, decoded as it streams
	f.perDay["2024-03-09"] = 2
	f.perDay["2024-03-10"] = 1
	res := run(srv, testSecret, "", map[string]string{"from_date": "2024-03-07"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !slices.Equal(f.fetched(), []string{"2024-03-07..2024-03-10"}) {
		t.Fatalf("days %v", f.fetched())
	}
	if len(res.Records) != 20003 || res.Checkpoint != "2024-03-09" {
		t.Fatalf("%d records, checkpoint %s", len(res.Records), res.Checkpoint)
	}
	r := res.Records[20000]
	if r["event"] != "Signed Up" || r["$insert_id"] != "2024-03-09-0" || r["distinct_id"] != "u0" || fmt.Sprint(r["time"]) != "1709942400" {
		t.Fatalf("record %v", r)
	}
}

func TestEventsDefaultsToThirtyDays(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	res := run(srv, testSecret, "", nil)
	days := f.fetched()
	if res.Err != nil || !slices.Equal(days, []string{"2024-02-09..2024-03-09", "2024-03-10..2024-03-10"}) || res.Checkpoint != "2024-03-09" {
		t.Fatalf("err %v, days %v, checkpoint %s", res.Err, days, res.Checkpoint)
	}
}

func TestEventsIncrementalRepullsTheCheckpointDay(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	f.perDay["2024-03-09"] = 3
	res := run(srv, testSecret, "2024-03-09", map[string]string{"from_date": "2020-01-01"})
	if res.Err != nil || !slices.Equal(f.fetched(), []string{"2024-03-09..2024-03-10"}) || len(res.Records) != 3 || res.Checkpoint != "2024-03-09" {
		t.Fatalf("err %v, days %v, %d records, checkpoint %s", res.Err, f.fetched(), len(res.Records), res.Checkpoint)
	}
}

func TestEventsBrokenStreamIsNetworkFailure(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	f.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Length", "100000")
		fmt.Fprintln(w, eventLine("2024-03-10", 0))
		return true
	}
	res := run(srv, testSecret, "", map[string]string{"from_date": "2024-03-10"})
	failure(t, res.Err, jobrunner.ReasonNetwork)
}

func TestEventsEmitErrorStopsTheDownload(t *testing.T) {
	t.Parallel()
	f, srv := newMP(t)
	f.perDay["2024-03-10"] = 50000
	req := jobrunner.Request{
		Fields:  map[string]string{"project_id": "1234567", "base_url": srv.URL, "service_account_username": testUser},
		Secrets: map[string]string{"service_account_secret": testSecret},
		Params:  map[string]string{"from_date": "2024-03-10"},
		HTTP:    jobrunner.NewHTTP(srv.Client(), (&jobrunnertest.Waits{}).Sleep, nil, nil),
	}
	boom := &jobrunner.Failure{Reason: jobrunner.ReasonDestination, Message: "disk full"}
	n := 0
	_, err := (&events{now: func() time.Time { return today }}).Fetch(context.Background(), req, func(jobrunner.Record) error {
		if n++; n == 10 {
			return boom
		}
		return nil
	})
	if err != boom {
		t.Fatalf("err = %v", err)
	}
}

func TestEventsConfig(t *testing.T) {
	t.Parallel()
	_, srv := newMP(t)
	failure(t, run(srv, testSecret, "March 9", nil).Err, jobrunner.ReasonConfig)
	failure(t, run(srv, testSecret, "", map[string]string{"from_date": "2024-04-01"}).Err, jobrunner.ReasonConfig)
	for region, want := range map[string]string{"": "https://data.mixpanel.com", "eu": "https://data-eu.mixpanel.com", "in": "https://data-in.mixpanel.com"} {
		if got, err := exportBase(map[string]string{"region": region}); err != nil || got != want {
			t.Errorf("exportBase(%q) = %q, %v", region, got, err)
		}
	}
}
