package gainsightpx

// The fake PX below follows the shapes documented for the PX REST API:
// https://support.gainsight.com/PX/API_for_Developers/02Usage_of_Different_APIs/Work_with_the_Gainsight_PX_REST_API
// and https://px-apidocs.gainsight.com/ (X-APTRINSIC-API-KEY header; GET
// /v1/users and /v1/accounts answering {"users"|"accounts": [...],
// "scrollId": "...", "totalHits": n}; pageSize ≤ 1000; scroll with scrollId,
// which is not null on the last page). Events: GET /v1/events/{type} with
// filter=date>=X;date<Y, sort=date, a 400 beyond 190 days, and the per-type
// keys of the vendor OpenAPI (results, sessionInitializedEvents, ...: 3p,
// PostHog's gainsight_px source). 429 + Retry-After and 401 stand for the
// rate limit and a bad key (their exact shape is unconfirmed).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const testKey = "px-key-1"

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type fakePX struct {
	t      *testing.T
	users  []map[string]any
	events map[string][]map[string]any // by type, sorted by date

	mu       sync.Mutex
	n        int
	requests []*url.URL
	hook     func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newPX(t *testing.T) (*fakePX, *httptest.Server) {
	f := &fakePX{t: t, events: map[string][]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

var filterRE = regexp.MustCompile(`^date>=(\d+);date<(\d+)$`)

func (f *fakePX) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.requests = append(f.requests, r.URL)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	if r.Header.Get(APIKeyHeader) != testKey {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"externalapierror":{"status":"UNAUTHORIZED","message":"Invalid API key"}}`)
		return
	}
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("pageSize"))
	if size < 1 || size > 1000 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var rows []map[string]any
	key := ""
	switch {
	case r.URL.Path == "/v1/users":
		rows, key = f.users, "users"
	case r.URL.Path == "/v1/accounts":
		rows, key = f.users, "accounts" // same shape is enough here
	case strings.HasPrefix(r.URL.Path, "/v1/events/"):
		typ := strings.TrimPrefix(r.URL.Path, "/v1/events/")
		keys, ok := eventKeys[typ]
		m := filterRE.FindStringSubmatch(q.Get("filter"))
		if !ok || m == nil || q.Get("sort") != "date" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		from, _ := strconv.ParseInt(m[1], 10, 64)
		to, _ := strconv.ParseInt(m[2], 10, 64)
		if to-from > maxWindow.Milliseconds() {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"externalapierror":{"status":"BAD_REQUEST","message":"date range exceeds 190 days"}}`)
			return
		}
		for _, e := range f.events[typ] {
			if d := e["date"].(int64); d >= from && d < to {
				rows = append(rows, e)
			}
		}
		key = keys[0]
	default:
		http.NotFound(w, r)
		return
	}
	off := 0
	if s := q.Get("scrollId"); s != "" {
		off, _ = strconv.Atoi(strings.TrimPrefix(s, "scroll-"))
	}
	end := min(off+size, len(rows))
	page := rows[min(off, len(rows)):end]
	if page == nil {
		page = []map[string]any{}
	}
	// The scrollId stays set on the last page: clients must stop on a short page.
	_ = json.NewEncoder(w).Encode(map[string]any{key: page, "scrollId": fmt.Sprintf("scroll-%d", end), "totalHits": len(rows)})
}

func (f *fakePX) urls() []*url.URL {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func users(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{
			"aptrinsicId": fmt.Sprintf("apt-%d", i+1), "identifyId": fmt.Sprintf("u%d", i+1), "type": "USER",
			"email": fmt.Sprintf("user%d@example.com", i+1), "accountId": "acme", "id": fmt.Sprintf("u%d", i+1),
			"createDate": t0.UnixMilli(), "lastModifiedDate": t0.Add(time.Duration(i) * time.Minute).UnixMilli(),
			"customAttributes": map[string]any{"plan": "pro"},
		}
	}
	return out
}

func run(t *testing.T, src jobrunner.Source, srv *httptest.Server, since string, params map[string]string) jobrunnertest.Result {
	t.Helper()
	req := jobrunner.Request{
		Fields:  map[string]string{"region": "us", "base_url": srv.URL + "/v1"},
		Secrets: map[string]string{"api_key": testKey},
		Params:  params,
		Since:   since,
	}
	return jobrunnertest.Fetch(src, srv.Client(), req)
}

func failure(t *testing.T, err error, reason string) {
	t.Helper()
	jobrunnertest.Failure(t, err, reason, testKey)
}

func TestUsersScrollsUntilShortPage(t *testing.T) {
	t.Parallel()
	f, srv := newPX(t)
	f.users = users(2500)
	res := run(t, UsersSource(), srv, "", nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Records) != 2500 || res.Records[2499]["id"] != "u2500" {
		t.Fatalf("%d records", len(res.Records))
	}
	u := f.urls()
	if len(u) != 3 || u[0].Query().Has("scrollId") || u[1].Query().Get("scrollId") != "scroll-1000" || u[2].Query().Get("pageSize") != "1000" {
		t.Fatalf("requests %v", u)
	}
	if want := strconv.FormatInt(t0.Add(2499*time.Minute).UnixMilli(), 10); res.Checkpoint != want {
		t.Fatalf("checkpoint %s, want %s", res.Checkpoint, want)
	}
}

func TestAccountsExactPageEndsOnEmptyPage(t *testing.T) {
	t.Parallel()
	f, srv := newPX(t)
	f.users = users(1000)
	res := run(t, AccountsSource(), srv, "", nil)
	if res.Err != nil || len(res.Records) != 1000 || len(f.urls()) != 2 {
		t.Fatalf("err %v, %d records, %d requests", res.Err, len(res.Records), len(f.urls()))
	}
}

func TestUsersIncrementalFiltersClientSide(t *testing.T) {
	t.Parallel()
	f, srv := newPX(t)
	f.users = users(10)
	since := strconv.FormatInt(t0.Add(7*time.Minute).UnixMilli(), 10)
	res := run(t, UsersSource(), srv, since, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var ids []any
	for _, r := range res.Records {
		ids = append(ids, r["id"])
	}
	// Inclusive: u8 (at the checkpoint) comes again.
	if fmt.Sprint(ids) != "[u8 u9 u10]" {
		t.Fatalf("ids %v", ids)
	}
	// Nothing new: the checkpoint stays.
	res = run(t, UsersSource(), srv, strconv.FormatInt(t0.Add(time.Hour).UnixMilli(), 10), nil)
	if res.Err != nil || len(res.Records) != 0 || res.Checkpoint != strconv.FormatInt(t0.Add(time.Hour).UnixMilli(), 10) {
		t.Fatalf("%v %d %s", res.Err, len(res.Records), res.Checkpoint)
	}
}

func TestEventsWindowsAndKeys(t *testing.T) {
	t.Parallel()
	now := t0.AddDate(1, 0, 0)
	f, srv := newPX(t)
	for i := range 3 {
		f.events["session"] = append(f.events["session"], map[string]any{
			"eventId": fmt.Sprintf("e%d", i), "date": now.AddDate(0, 0, -300+i*140).UnixMilli(), "sessionId": "s", "eventType": "SESSION_INITIALIZED",
		})
	}
	src := &events{now: func() time.Time { return now }}
	res := run(t, src, srv, "", map[string]string{"type": "session", "from_date": now.AddDate(0, 0, -365).Format(time.DateOnly)})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Records) != 3 || len(f.urls()) != 2 {
		t.Fatalf("%d records, %d requests", len(res.Records), len(f.urls()))
	}
	if want := strconv.FormatInt(now.AddDate(0, 0, -20).UnixMilli(), 10); res.Checkpoint != want {
		t.Fatalf("checkpoint %s, want %s", res.Checkpoint, want)
	}
	// Incremental: from the checkpoint, inclusive.
	res = run(t, src, srv, res.Checkpoint, map[string]string{"type": "session"})
	if res.Err != nil || len(res.Records) != 1 || res.Records[0]["eventId"] != "e2" {
		t.Fatalf("%v %v", res.Err, res.Records)
	}
}

func TestEventsNeedsAKnownType(t *testing.T) {
	t.Parallel()
	_, srv := newPX(t)
	res := run(t, EventsSource(), srv, "", map[string]string{"type": "clicks"})
	failure(t, res.Err, jobrunner.ReasonConfig)
}

func TestAPIBase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fields map[string]string
		want   string
	}{
		{map[string]string{}, "https://api.aptrinsic.com/v1"},
		{map[string]string{"region": "eu"}, "https://api-eu.aptrinsic.com/v1"},
		{map[string]string{"region": "us2"}, "https://api-us2.aptrinsic.com/v1"},
		{map[string]string{"base_url": "https://proxy.example/"}, "https://proxy.example/v1"},
		{map[string]string{"base_url": "https://proxy.example/px/v1"}, "https://proxy.example/px/v1"},
	} {
		if got, err := apiBase(tc.fields); err != nil || got != tc.want {
			t.Errorf("apiBase(%v) = %q, %v", tc.fields, got, err)
		}
	}
	if _, err := apiBase(map[string]string{"region": "apac"}); err == nil {
		t.Error("region apac accepted")
	}
}
