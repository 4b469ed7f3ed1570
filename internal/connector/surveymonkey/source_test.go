package surveymonkey_test

// The fake SurveyMonkey below follows the documented shapes of the v3 API
// (https://api.surveymonkey.com/v3/docs):
//   - GET /v3/surveys?page&per_page&sort_by&sort_order&start_modified_at&include
//     answers {"data": [{"id", "title", "nickname", "href", ...include}],
//     "per_page", "page", "total", "links": {"self", "next", "last"}}; without
//     include only id, title, nickname and href come
//     (https://api.surveymonkey.com/v3/docs#api-endpoints-get-surveys)
//   - GET /v3/surveys/{id}/responses/bulk?per_page&sort_by=date_modified&
//     sort_order=ASC&start_modified_at answers the same envelope with full
//     responses {"id", "survey_id", "date_created", "date_modified",
//     "response_status", "pages": [...]}
//     (https://api.surveymonkey.com/v3/docs#api-endpoints-get-surveys-id-responses-bulk)
//   - errors {"error": {"id", "name", "docs", "message", "http_status_code"}}:
//     1011 bad token (401), 1018 wrong data centre, 1040 rate limit (429)
//     (https://api.surveymonkey.com/v3/docs#error-codes,
//     https://api.surveymonkey.com/v3/docs#request-and-response-limits)
//
// start_modified_at selects items modified after the date (UTC,
// YYYY-MM-DDTHH:MM:SS). Private-app and OAuth tokens are both sent as
// Bearer (https://api.surveymonkey.com/v3/docs#authentication).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/surveymonkey"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const (
	token    = "pat-secret"
	pageSize = 2
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type fakeMonkey struct {
	mu        sync.Mutex
	surveys   []map[string]any
	responses map[string][]map[string]any
	token     string
	requests  []*url.URL
	auths     []string
	hook      func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newMonkey(t *testing.T) (*fakeMonkey, *httptest.Server) {
	m := &fakeMonkey{responses: map[string][]map[string]any{}, token: token}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, srv
}

func (m *fakeMonkey) addSurvey(modified time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := strconv.Itoa(400000000 + len(m.surveys) + 1)
	m.surveys = append(m.surveys, map[string]any{
		"id": id, "title": "Survey " + id, "nickname": "", "href": "https://api.surveymonkey.com/v3/surveys/" + id,
		"date_created": t0.Add(-48 * time.Hour).Format("2006-01-02T15:04:05"), "date_modified": modified.UTC().Format("2006-01-02T15:04:05"),
		"response_count": 0, "language": "en", "question_count": 3,
	})
	return id
}

func (m *fakeMonkey) addResponse(survey string, modified time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, rs := range m.responses {
		n += len(rs)
	}
	id := strconv.Itoa(11000000000 + n + 1)
	m.responses[survey] = append(m.responses[survey], map[string]any{
		"id": id, "survey_id": survey, "response_status": "completed",
		"date_created": modified.UTC().Format("2006-01-02T15:04:05+00:00"), "date_modified": modified.UTC().Format("2006-01-02T15:04:05+00:00"),
		"pages": []any{map[string]any{"id": "1", "questions": []any{}}},
	})
}

func smError(w http.ResponseWriter, status int, id, name, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"id": id, "name": name, "docs": "https://developer.surveymonkey.com/api/v3/#error-codes", "message": msg, "http_status_code": status}})
}

func (m *fakeMonkey) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, r.URL)
	m.auths = append(m.auths, r.Header.Get("Authorization"))
	n, hook := len(m.requests), m.hook
	m.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+m.token {
		smError(w, http.StatusUnauthorized, "1011", "Authorization Error", "The authorization token provided was invalid.")
		return
	}
	q := r.URL.Query()
	var items []map[string]any
	include := map[string]bool{}
	switch parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/"); {
	case r.URL.Path == "/v3/surveys":
		items = m.surveys
		for _, f := range strings.Split(q.Get("include"), ",") {
			include[f] = true
		}
	case len(parts) == 5 && parts[0] == "v3" && parts[1] == "surveys" && parts[3] == "responses" && parts[4] == "bulk":
		items = m.responses[parts[2]]
		if q.Get("sort_by") != "date_modified" || q.Get("sort_order") != "ASC" {
			smError(w, http.StatusBadRequest, "1002", "Bad Request", "this fake serves sort_by=date_modified&sort_order=ASC only")
			return
		}
	default:
		smError(w, http.StatusNotFound, "1020", "Resource Not Found", "There was an error retrieving the requested resource.")
		return
	}
	var match []map[string]any
	after := time.Time{}
	if s := q.Get("start_modified_at"); s != "" {
		var err error
		if after, err = time.Parse("2006-01-02T15:04:05", s); err != nil {
			smError(w, http.StatusBadRequest, "1002", "Bad Request", "Invalid start_modified_at")
			return
		}
	}
	for _, it := range items {
		at, err := time.Parse(time.RFC3339, it["date_modified"].(string))
		if err != nil {
			at, _ = time.Parse("2006-01-02T15:04:05", it["date_modified"].(string))
		}
		if q.Has("start_modified_at") && !at.After(after) {
			continue
		}
		out := it
		if r.URL.Path == "/v3/surveys" {
			out = map[string]any{}
			for k, v := range it {
				if k == "id" || k == "title" || k == "nickname" || k == "href" || include[k] {
					out[k] = v
				}
			}
		}
		match = append(match, out)
	}
	if r.URL.Path != "/v3/surveys" || q.Get("sort_by") == "date_modified" {
		sort.SliceStable(match, func(i, j int) bool {
			return fmt.Sprint(match[i]["date_modified"]) < fmt.Sprint(match[j]["date_modified"])
		})
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	per := min(pageSize, max(1, atoi(q.Get("per_page"))))
	from, to := min((page-1)*per, len(match)), min(page*per, len(match))
	link := func(p int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(per))
		return "http://" + r.Host + r.URL.Path + "?" + v.Encode()
	}
	links := map[string]any{"self": link(page), "last": link(max(1, (len(match)+per-1)/per))}
	if to < len(match) {
		links["next"] = link(page + 1)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Ratelimit-App-Global-Minute-Remaining", "119")
	data := match[from:to]
	if data == nil {
		data = []map[string]any{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "per_page": per, "page": page, "total": len(match), "links": links})
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (m *fakeMonkey) seen() []*url.URL {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*url.URL(nil), m.requests...)
}

func ids(r jobrunnertest.Result) string {
	var out []string
	for _, rec := range r.Records {
		out = append(out, fmt.Sprint(rec["id"]))
	}
	return strings.Join(out, ",")
}

type options struct {
	since string
	tok   string
	oauth func(ctx context.Context, force bool) (string, error)
}

func run(t *testing.T, src jobrunner.Source, srv *httptest.Server, o options) jobrunnertest.Result {
	t.Helper()
	tok := token
	if o.tok != "" {
		tok = o.tok
	}
	req := jobrunner.Request{
		Fields:  map[string]string{"auth": "private_app", "base_url": srv.URL},
		Secrets: map[string]string{"access_token": tok},
		Since:   o.since,
	}
	if o.oauth != nil {
		req.Fields = map[string]string{"auth": "oauth2", "api_base": srv.URL} // the token's access_url
		req.Secrets = map[string]string{}
		req.Token = o.oauth
	}
	return jobrunnertest.Run(t, src, srv.Client(), req)
}

func failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	return jobrunnertest.Failure(t, err, reason, token, "Bearer")
}

func TestSurveysFollowLinksNextThenRunIncrementally(t *testing.T) {
	t.Parallel()
	m, srv := newMonkey(t)
	for i := range 5 {
		m.addSurvey(t0.Add(time.Duration(i) * time.Hour))
	}
	r := run(t, surveymonkey.SurveysSource(), srv, options{})
	if r.Err != nil || ids(r) != "400000001,400000002,400000003,400000004,400000005" {
		t.Fatalf("%s, %v", ids(r), r.Err)
	}
	if r.Checkpoint != t0.Add(4*time.Hour).Format(time.RFC3339) {
		t.Errorf("checkpoint %q", r.Checkpoint)
	}
	if r.Records[0]["date_modified"] == nil || r.Records[0]["response_count"] == nil {
		t.Errorf("include not sent: %v", r.Records[0])
	}
	if reqs := m.seen(); len(reqs) != 3 || reqs[0].Query().Has("start_modified_at") {
		t.Errorf("requests %v", reqs)
	}
	m.addSurvey(t0.Add(10 * time.Hour))
	r2 := run(t, surveymonkey.SurveysSource(), srv, options{since: r.Checkpoint})
	// start_modified_at is one second before the checkpoint: the survey at
	// the checkpoint comes again (at least once).
	if r2.Err != nil || ids(r2) != "400000005,400000006" {
		t.Fatalf("incremental: %s, %v", ids(r2), r2.Err)
	}
	reqs := m.seen()
	if got := reqs[3].Query().Get("start_modified_at"); got != "2026-11-26T15:59:59" {
		t.Errorf("start_modified_at %q", got)
	}
}

func TestResponsesOfEverySurveyWithMaxDateModified(t *testing.T) {
	t.Parallel()
	m, srv := newMonkey(t)
	a := m.addSurvey(t0.Add(-time.Hour))
	b := m.addSurvey(t0.Add(-time.Hour))
	for i := range 3 {
		m.addResponse(a, t0.Add(time.Duration(i)*time.Minute))
	}
	m.addResponse(b, t0.Add(30*time.Minute))
	r := run(t, surveymonkey.ResponsesSource(), srv, options{})
	if r.Err != nil || ids(r) != "11000000001,11000000002,11000000003,11000000004" {
		t.Fatalf("%s, %v", ids(r), r.Err)
	}
	if r.Checkpoint != t0.Add(30*time.Minute).Format(time.RFC3339) {
		t.Errorf("checkpoint %q", r.Checkpoint)
	}
	// A new response to the old survey a: its survey did not change. Survey
	// by survey: a's new response, then b's at the checkpoint again.
	m.addResponse(a, t0.Add(time.Hour))
	r2 := run(t, surveymonkey.ResponsesSource(), srv, options{since: r.Checkpoint})
	if r2.Err != nil || ids(r2) != "11000000005,11000000004" || r2.Checkpoint != t0.Add(time.Hour).Format(time.RFC3339) {
		t.Fatalf("incremental: %s, %v, %q", ids(r2), r2.Err, r2.Checkpoint)
	}
	for _, u := range m.seen() {
		if strings.HasSuffix(u.Path, "/responses/bulk") && r2.Err == nil && u.Query().Get("sort_by") != "date_modified" {
			t.Errorf("request %v", u)
		}
	}
	// Nothing new keeps the checkpoint.
	r3 := run(t, surveymonkey.ResponsesSource(), srv, options{since: "2027-01-01T00:00:00Z"})
	if r3.Err != nil || len(r3.Records) != 0 || r3.Checkpoint != "2027-01-01T00:00:00Z" {
		t.Fatalf("nothing new: %s, %v, %q", ids(r3), r3.Err, r3.Checkpoint)
	}
}

func TestWrongDataCentreIsConfig(t *testing.T) {
	t.Parallel()
	m, srv := newMonkey(t)
	m.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		smError(w, http.StatusUnauthorized, "1018", "Authorization Error", "Invalid or deprecated host.")
		return true
	}
	r := run(t, surveymonkey.SurveysSource(), srv, options{})
	if f := failure(t, r.Err, jobrunner.ReasonConfig); !strings.Contains(f.Message, "api.eu.surveymonkey.com") {
		t.Errorf("message %q", f.Message)
	}
}

func TestOAuthBearerAtTheAccessURL(t *testing.T) {
	t.Parallel()
	m, srv := newMonkey(t)
	m.token = "oauth-at"
	id := m.addSurvey(t0)
	m.addResponse(id, t0)
	r := run(t, surveymonkey.ResponsesSource(), srv, options{oauth: func(context.Context, bool) (string, error) { return "oauth-at", nil }})
	if r.Err != nil || ids(r) != "11000000001" {
		t.Fatalf("%s, %v", ids(r), r.Err)
	}
	for _, a := range m.auths {
		if a != "Bearer oauth-at" {
			t.Fatalf("Authorization %q", a)
		}
	}
}
