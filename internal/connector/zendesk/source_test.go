package zendesk_test

// The fake Zendesk below follows the documented shapes of the Incremental
// Exports API
// (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/,
// https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api):
//
//   - cursor-based (tickets, users): GET /api/v2/incremental/{tickets|users}/cursor.json
//     with start_time={unix} on the first call, then cursor={after_cursor};
//     pages are {"tickets"|"users": [...], "after_url", "after_cursor",
//     "before_url", "before_cursor", "end_of_stream"}. The last page still
//     carries an after_cursor, to resume from on the next poll.
//   - time-based (organizations: "the other endpoints only support
//     time-based exports"): GET /api/v2/incremental/organizations.json?start_time={unix};
//     pages are {"organizations": [...], "count", "end_of_stream",
//     "end_time", "next_page"}. Zendesk's next_page carries start_time=end_time
//     (and so may repeat items); this fake advances one second past it so
//     the tests read without duplicates. The source follows next_page as given.
//
// Rate limiting is 429 with Retry-After
// (https://developer.zendesk.com/documentation/api-basics/best-practices/best-practices-for-avoiding-rate-limiting);
// a bad API token is 401 {"error": "Couldn't authenticate you"}. API tokens
// are sent as Basic {email}/token:{api_token}, OAuth tokens as Bearer
// (https://developer.zendesk.com/api-reference/introduction/security-and-auth/).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/zendesk"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const (
	email    = "jane@acme.com"
	apiToken = "tok-secret"
	pageSize = 2 // items per page (Zendesk: up to 1,000); small so that 5 items make 3 pages
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func item(id int, at time.Time) map[string]any {
	return map[string]any{
		"id":         json.Number(strconv.Itoa(id)),
		"subject":    fmt.Sprintf("item %d", id),
		"created_at": t0.Add(-time.Hour).Format(time.RFC3339),
		"updated_at": at.UTC().Format(time.RFC3339),
	}
}

// fakeDesk holds items per resource in change order; a cursor is the index
// of the next change, encoded opaquely.
type fakeDesk struct {
	mu       sync.Mutex
	items    map[string][]map[string]any
	bearer   string // accepted OAuth token ("" none)
	requests []*url.URL
	auths    []string
	hook     func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newDesk(t *testing.T) (*fakeDesk, *httptest.Server) {
	d := &fakeDesk{items: map[string][]map[string]any{}}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv
}

func (d *fakeDesk) add(resource string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	from := len(d.items[resource])
	for i := range n {
		d.items[resource] = append(d.items[resource], item(from+i+1, t0.Add(time.Duration(from+i)*time.Minute)))
	}
}

func zdError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (d *fakeDesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.requests = append(d.requests, r.URL)
	d.auths = append(d.auths, r.Header.Get("Authorization"))
	n, hook := len(d.requests), d.hook
	d.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+apiToken))
	if a := r.Header.Get("Authorization"); a != basic && (d.bearer == "" || a != "Bearer "+d.bearer) {
		zdError(w, http.StatusUnauthorized, `{"error":"Couldn't authenticate you"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	q := r.URL.Query()
	switch r.URL.Path {
	case "/api/v2/incremental/tickets/cursor.json", "/api/v2/incremental/users/cursor.json":
		res := strings.Split(r.URL.Path, "/")[4]
		from := 0
		switch {
		case q.Has("cursor"):
			b, err := base64.RawURLEncoding.DecodeString(q.Get("cursor"))
			if from, err = strconv.Atoi(strings.TrimPrefix(string(b), "c:")); err != nil {
				zdError(w, http.StatusBadRequest, `{"error":"InvalidPaginationParameter","description":"cursor is invalid"}`)
				return
			}
		case q.Get("start_time") != "0":
			zdError(w, http.StatusBadRequest, `{"error":"InvalidValue","description":"this test serves start_time=0 only"}`)
			return
		}
		all := d.items[res]
		to := min(from+pageSize, len(all))
		cur := base64.RawURLEncoding.EncodeToString([]byte("c:" + strconv.Itoa(to)))
		before := base64.RawURLEncoding.EncodeToString([]byte("c:" + strconv.Itoa(from)))
		_ = json.NewEncoder(w).Encode(map[string]any{
			res:             all[from:to],
			"after_cursor":  cur,
			"after_url":     "https://" + r.Host + r.URL.Path + "?cursor=" + cur,
			"before_cursor": before,
			"before_url":    "https://" + r.Host + r.URL.Path + "?cursor=" + before,
			"end_of_stream": to == len(all),
		})
	case "/api/v2/incremental/organizations.json":
		start, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
		if err != nil {
			zdError(w, http.StatusBadRequest, `{"error":"InvalidValue","description":"start_time is invalid"}`)
			return
		}
		var page []map[string]any
		for _, it := range d.items["organizations"] {
			at, _ := time.Parse(time.RFC3339, it["updated_at"].(string))
			if at.Unix() >= start && len(page) < pageSize {
				page = append(page, it)
			}
		}
		end := start
		if len(page) > 0 {
			at, _ := time.Parse(time.RFC3339, page[len(page)-1]["updated_at"].(string))
			end = at.Unix()
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"organizations": page,
			"count":         len(page),
			"end_of_stream": len(page) < pageSize,
			"end_time":      end,
			"next_page":     "http://" + r.Host + r.URL.Path + "?start_time=" + strconv.FormatInt(end+1, 10),
		})
	default:
		zdError(w, http.StatusNotFound, `{"error":"InvalidEndpoint","description":"Not found"}`)
	}
}

func (d *fakeDesk) seen() ([]*url.URL, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*url.URL(nil), d.requests...), append([]string(nil), d.auths...)
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
	oauth func(ctx context.Context, force bool) (string, error)
}

func run(t *testing.T, src jobrunner.Source, srv *httptest.Server, o options) jobrunnertest.Result {
	t.Helper()
	req := jobrunner.Request{
		Fields:  map[string]string{"auth": "api_token", "subdomain": "acme", "email": email, "base_url": srv.URL},
		Secrets: map[string]string{"api_token": apiToken},
		Since:   o.since,
	}
	if o.oauth != nil {
		req.Fields = map[string]string{"auth": "oauth2", "subdomain": "acme", "base_url": srv.URL}
		req.Secrets = map[string]string{}
		req.Token = o.oauth
	}
	return jobrunnertest.Run(t, src, srv.Client(), req, jobrunnertest.UseNumber())
}

// failure also checks that the message leaks no secret or query.
func failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	return jobrunnertest.Failure(t, err, reason, apiToken, "Bearer", "cursor=")
}

func TestTicketsCursorExportFullThenIncremental(t *testing.T) {
	t.Parallel()
	d, srv := newDesk(t)
	d.add("tickets", 5)
	r := run(t, zendesk.TicketsSource(), srv, options{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if ids(r) != "1,2,3,4,5" {
		t.Fatalf("ids %s", ids(r))
	}
	reqs, auths := d.seen()
	if len(reqs) != 3 || reqs[0].Query().Get("start_time") != "0" || reqs[1].Query().Get("cursor") == "" {
		t.Fatalf("requests %v", reqs)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+apiToken))
	for _, a := range auths {
		if a != want {
			t.Fatalf("Authorization %q", a)
		}
	}
	// The checkpoint is the last after_cursor: the next run resumes there.
	d.add("tickets", 3)
	r2 := run(t, zendesk.TicketsSource(), srv, options{since: r.Checkpoint})
	if r2.Err != nil || ids(r2) != "6,7,8" {
		t.Fatalf("incremental: %s, %v", ids(r2), r2.Err)
	}
	reqs, _ = d.seen()
	if got := reqs[3].Query(); got.Get("cursor") != r.Checkpoint || got.Has("start_time") {
		t.Errorf("incremental request %v", reqs[3])
	}
	// Nothing new: no records, and the checkpoint stays usable.
	r3 := run(t, zendesk.TicketsSource(), srv, options{since: r2.Checkpoint})
	if r3.Err != nil || len(r3.Records) != 0 || r3.Checkpoint == "" {
		t.Fatalf("nothing new: %v, %v, %q", ids(r3), r3.Err, r3.Checkpoint)
	}
}

func TestUsersUseTheUsersCursorExport(t *testing.T) {
	t.Parallel()
	d, srv := newDesk(t)
	d.add("users", 3)
	r := run(t, zendesk.UsersSource(), srv, options{})
	if r.Err != nil || ids(r) != "1,2,3" {
		t.Fatalf("%s, %v", ids(r), r.Err)
	}
	reqs, _ := d.seen()
	if reqs[0].Path != "/api/v2/incremental/users/cursor.json" {
		t.Errorf("path %s", reqs[0].Path)
	}
}

func TestOrganizationsTimeBasedExport(t *testing.T) {
	t.Parallel()
	d, srv := newDesk(t)
	d.add("organizations", 5)
	r := run(t, zendesk.OrganizationsSource(), srv, options{})
	if r.Err != nil || ids(r) != "1,2,3,4,5" {
		t.Fatalf("%s, %v", ids(r), r.Err)
	}
	last := strconv.FormatInt(t0.Add(4*time.Minute).Unix(), 10)
	if r.Checkpoint != last {
		t.Errorf("checkpoint %q, want end_time %s", r.Checkpoint, last)
	}
	reqs, _ := d.seen()
	if reqs[0].Path != "/api/v2/incremental/organizations.json" || reqs[0].Query().Get("start_time") != "0" || len(reqs) != 3 {
		t.Fatalf("requests %v", reqs)
	}
	d.add("organizations", 1)
	r2 := run(t, zendesk.OrganizationsSource(), srv, options{since: r.Checkpoint})
	// start_time is inclusive: the item at end_time comes again (at least once).
	if r2.Err != nil || ids(r2) != "5,6" {
		t.Fatalf("incremental: %s, %v", ids(r2), r2.Err)
	}
	if _, err := zendesk.OrganizationsSource().Fetch(context.Background(), jobrunner.Request{
		Fields: map[string]string{"subdomain": "acme", "email": email}, Secrets: map[string]string{"api_token": apiToken}, Since: "yesterday",
	}, nil); err == nil {
		t.Error("a checkpoint that is not a Unix time was accepted")
	}
}

func TestDefaultBaseIsTheSubdomain(t *testing.T) {
	t.Parallel()
	var got string
	rt := roundTrip(func(r *http.Request) (*http.Response, error) {
		got = r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
		return nil, errors.New("offline")
	})
	_, err := zendesk.TicketsSource().Fetch(context.Background(), jobrunner.Request{
		Fields:  map[string]string{"subdomain": "acme", "email": email},
		Secrets: map[string]string{"api_token": apiToken},
		HTTP:    jobrunner.NewHTTP(&http.Client{Transport: rt}, (&jobrunnertest.Waits{}).Sleep, nil, nil),
	}, func(jobrunner.Record) error { return nil })
	failure(t, err, jobrunner.ReasonNetwork)
	if got != "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json" {
		t.Errorf("URL %s", got)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
