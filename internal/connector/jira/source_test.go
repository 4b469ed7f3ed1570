package jira_test

// The fake Jira Cloud below follows the documented shapes of:
//   - the enhanced JQL search, POST /rest/api/3/search/jql with a JSON body
//     {"jql", "fields", "maxResults", "nextPageToken"}, answering
//     {"issues": [{"id", "key", "self", "fields": {...}}], "nextPageToken",
//     "isLast"}; the last page has no nextPageToken (JRACLOUD-92184), and
//     unbounded JQL is refused with 400 "Unbounded JQL queries are not
//     allowed here."
//     https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
//   - GET /rest/api/3/myself, whose timeZone is the zone JQL dates are read in
//     https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get
//   - GET /rest/api/3/project/search?startAt&maxResults, answering
//     {"self", "nextPage", "maxResults", "startAt", "total", "isLast", "values"}
//     https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get
//   - errors {"errorMessages": [...], "errors": {}}; 429 with Retry-After
//     https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
//
// API tokens go as Basic {email}:{api_token} against the site
// (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/),
// OAuth tokens as Bearer against https://api.atlassian.com/ex/jira/{cloudId}
// (https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/connctl/connctl/internal/connector/jira"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const (
	email    = "jane@acme.com"
	apiToken = "tok-secret"
	userZone = "America/Los_Angeles"
	pageSize = 2
)

var t0 = time.Date(2026, 11, 26, 12, 0, 30, 0, time.UTC)

func jiraTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

type fakeJira struct {
	mu       sync.Mutex
	issues   []map[string]any // by update time
	projects []map[string]any
	prefix   string // path prefix: "" for a site, /ex/jira/{cloudId} through the gateway
	bearer   string
	jqls     []string
	paths    []string
	auths    []string
	hook     func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newJira(t *testing.T) (*fakeJira, *httptest.Server) {
	j := &fakeJira{}
	srv := httptest.NewServer(connectortest.CheckSpec(t, connectortest.JiraPlatformSpec, j))
	t.Cleanup(srv.Close)
	return j, srv
}

func (j *fakeJira) addIssues(n int, project string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for range n {
		i := len(j.issues) + 1
		j.issues = append(j.issues, map[string]any{
			"id": strconv.Itoa(10000 + i), "key": fmt.Sprintf("%s-%d", project, i), "self": "https://acme.atlassian.net/rest/api/3/issue/" + strconv.Itoa(10000+i),
			"fields": map[string]any{
				"summary": fmt.Sprintf("issue %d", i),
				"project": map[string]any{"key": project},
				"updated": jiraTime(t0.Add(time.Duration(i-1) * time.Hour)),
			},
		})
	}
}

func jiraError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errorMessages": []string{msg}, "errors": map[string]any{}})
}

var jqlRE = regexp.MustCompile(`^updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)"(?: AND \(project = (\w+)\))? (?i:ORDER BY updated ASC)$`)

func (j *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	j.paths = append(j.paths, r.Method+" "+r.URL.Path)
	j.auths = append(j.auths, r.Header.Get("Authorization"))
	n, hook := len(j.paths), j.hook
	j.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+apiToken))
	if a := r.Header.Get("Authorization"); a != basic && (j.bearer == "" || a != "Bearer "+j.bearer) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("Client must be authenticated to access this resource."))
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	switch r.Method + " " + strings.TrimPrefix(r.URL.Path, j.prefix) {
	case "GET /rest/api/3/myself":
		_ = json.NewEncoder(w).Encode(map[string]any{"accountId": "5b10a2844c20165700ede21g", "emailAddress": email, "timeZone": userZone})
	case "POST /rest/api/3/search/jql":
		var body struct {
			JQL           string   `json:"jql"`
			Fields        []string `json:"fields"`
			MaxResults    int      `json:"maxResults"`
			NextPageToken string   `json:"nextPageToken"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			jiraError(w, http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
			return
		}
		j.jqls = append(j.jqls, body.JQL)
		m := jqlRE.FindStringSubmatch(body.JQL)
		if m == nil {
			jiraError(w, http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
			return
		}
		loc, _ := time.LoadLocation(userZone)
		since, _ := time.ParseInLocation("2006-01-02 15:04", m[1], loc)
		match := []map[string]any{}
		for _, is := range j.issues {
			f := is["fields"].(map[string]any)
			at, _ := time.Parse("2006-01-02T15:04:05.000-0700", f["updated"].(string))
			if !at.Before(since) && (m[2] == "" || f["project"].(map[string]any)["key"] == m[2]) {
				match = append(match, is)
			}
		}
		from := 0
		if body.NextPageToken != "" {
			b, _ := base64.StdEncoding.DecodeString(body.NextPageToken)
			from, _ = strconv.Atoi(string(b))
		}
		to := min(from+pageSize, len(match))
		out := map[string]any{"issues": match[from:to], "isLast": to == len(match)}
		if to < len(match) {
			out["nextPageToken"] = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(to)))
		}
		_ = json.NewEncoder(w).Encode(out)
	case "GET /rest/api/3/project/search":
		start, _ := strconv.Atoi(r.URL.Query().Get("startAt"))
		max, _ := strconv.Atoi(r.URL.Query().Get("maxResults"))
		max = min(max, pageSize)
		to := min(start+max, len(j.projects))
		_ = json.NewEncoder(w).Encode(map[string]any{
			"self": "https://acme.atlassian.net/rest/api/3/project/search", "maxResults": max, "startAt": start,
			"total": len(j.projects), "isLast": to == len(j.projects), "values": j.projects[start:to],
		})
	default:
		jiraError(w, http.StatusNotFound, "Not found")
	}
}

func keys(r jobrunnertest.Result) string {
	var out []string
	for _, rec := range r.Records {
		out = append(out, fmt.Sprint(rec["key"]))
	}
	return strings.Join(out, ",")
}

type options struct {
	since  string
	params map[string]string
	oauth  func(ctx context.Context, force bool) (string, error)
	apiTok string
}

func run(t *testing.T, src jobrunner.Source, srv *httptest.Server, o options) jobrunnertest.Result {
	t.Helper()
	tok := apiToken
	if o.apiTok != "" {
		tok = o.apiTok
	}
	req := jobrunner.Request{
		Fields:  map[string]string{"auth": "api_token", "site_url": srv.URL, "email": email},
		Secrets: map[string]string{"api_token": tok},
		Params:  o.params,
		Since:   o.since,
	}
	if o.oauth != nil {
		req.Fields = map[string]string{"auth": "oauth2", "api_base": srv.URL + "/ex/jira/cloud-1"}
		req.Secrets = map[string]string{}
		req.Token = o.oauth
	}
	return jobrunnertest.Run(t, src, srv.Client(), req)
}

func failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	return jobrunnertest.Failure(t, err, reason, apiToken, "Bearer")
}

func TestIssuesPagesByNextPageTokenThenRunsIncrementally(t *testing.T) {
	t.Parallel()
	j, srv := newJira(t)
	j.addIssues(5, "SUP")
	r := run(t, jira.IssuesSource(), srv, options{})
	if r.Err != nil || keys(r) != "SUP-1,SUP-2,SUP-3,SUP-4,SUP-5" {
		t.Fatalf("%s, %v", keys(r), r.Err)
	}
	want := t0.Add(4 * time.Hour).Format(time.RFC3339)
	if r.Checkpoint != want {
		t.Errorf("checkpoint %q, want %q", r.Checkpoint, want)
	}
	if j.jqls[0] != `updated >= "1970-01-01 00:00" ORDER BY updated ASC` || len(j.jqls) != 3 {
		t.Errorf("jql %q", j.jqls)
	}
	if f := r.Records[0]["fields"].(map[string]any); f["summary"] != "issue 1" {
		t.Errorf("fields not returned: %v", r.Records[0])
	}

	// Incremental: the checkpoint (16:00:30 UTC) goes out as 08:00 in the
	// user's zone (Los Angeles, UTC-8 in November), inclusive.
	j.addIssues(2, "SUP")
	r2 := run(t, jira.IssuesSource(), srv, options{since: r.Checkpoint, params: map[string]string{"jql": "project = SUP"}})
	if r2.Err != nil || keys(r2) != "SUP-5,SUP-6,SUP-7" {
		t.Fatalf("incremental: %s, %v", keys(r2), r2.Err)
	}
	if got := j.jqls[len(j.jqls)-2]; got != `updated >= "2026-11-26 08:00" AND (project = SUP) ORDER BY updated ASC` {
		t.Errorf("jql %q", got)
	}
	if !strings.Contains(strings.Join(j.paths, " "), "GET /rest/api/3/myself") {
		t.Errorf("paths %v", j.paths)
	}
	// Nothing new keeps the checkpoint.
	j.mu.Lock()
	j.issues = nil
	j.mu.Unlock()
	r3 := run(t, jira.IssuesSource(), srv, options{since: r2.Checkpoint})
	if r3.Err != nil || len(r3.Records) != 0 || r3.Checkpoint != r2.Checkpoint {
		t.Fatalf("nothing new: %v %v %q", keys(r3), r3.Err, r3.Checkpoint)
	}
}

func TestJQLBuilding(t *testing.T) {
	t.Parallel()
	j, srv := newJira(t)
	j.addIssues(1, "SUP")
	r := run(t, jira.IssuesSource(), srv, options{params: map[string]string{"jql": "project = SUP order by created DESC"}})
	// The fake serves updated ASC only; the user's own ORDER BY is kept.
	f := failure(t, r.Err, jobrunner.ReasonConfig)
	if j.jqls[0] != `updated >= "1970-01-01 00:00" AND (project = SUP) order by created DESC` {
		t.Errorf("jql %q", j.jqls[0])
	}
	if !strings.Contains(f.Message, "Unbounded JQL") {
		t.Errorf("message %q", f.Message)
	}
	// The default of the brief, "order by updated asc", is an ORDER BY only.
	r = run(t, jira.IssuesSource(), srv, options{params: map[string]string{"jql": "order by updated asc"}})
	if r.Err != nil || keys(r) != "SUP-1" || j.jqls[1] != `updated >= "1970-01-01 00:00" order by updated asc` {
		t.Errorf("%s, %v, jql %q", keys(r), r.Err, j.jqls[1])
	}
}

func TestProjectsPageByStartAtUntilIsLast(t *testing.T) {
	t.Parallel()
	j, srv := newJira(t)
	for i := range 5 {
		j.projects = append(j.projects, map[string]any{"id": strconv.Itoa(10000 + i), "key": fmt.Sprintf("P%d", i), "name": fmt.Sprintf("Project %d", i)})
	}
	r := run(t, jira.ProjectsSource(), srv, options{since: "2026-01-01T00:00:00Z"})
	if r.Err != nil || keys(r) != "P0,P1,P2,P3,P4" || r.Checkpoint != "" {
		t.Fatalf("%s, %v, %q", keys(r), r.Err, r.Checkpoint)
	}
	if len(j.paths) != 3 {
		t.Errorf("paths %v", j.paths)
	}
}

func TestMissingSiteIsConfig(t *testing.T) {
	t.Parallel()
	_, err := jira.IssuesSource().Fetch(context.Background(), jobrunner.Request{
		Fields: map[string]string{"email": email}, Secrets: map[string]string{"api_token": apiToken},
	}, nil)
	failure(t, err, jobrunner.ReasonConfig)
}
