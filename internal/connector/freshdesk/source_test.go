package freshdesk

// The fake Freshdesk below follows the documented shapes of
// https://developers.freshdesk.com/api/#list_all_tickets (a JSON array of
// tickets; updated_since, order_by=updated_at, order_type, per_page ≤ 100;
// without updated_since only the last 30 days) and
// https://developers.freshdesk.com/api/#pagination (page=n, and a
// Link: <…page=n+1>; rel="next" header while more pages remain), with 429 +
// Retry-After for the rate limit and 401 for a bad key.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const testKey = "fd-key-1"

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// ticket returns a ticket with the fields of the list endpoint.
func ticket(id int, updated time.Time) map[string]any {
	return map[string]any{
		"cc_emails": []string{}, "fwd_emails": []string{}, "reply_cc_emails": []string{},
		"fr_escalated": false, "spam": false, "email_config_id": nil, "group_id": 42,
		"priority": 1, "requester_id": 1000 + id, "responder_id": nil, "source": 2,
		"company_id": nil, "status": 2, "subject": fmt.Sprintf("Ticket %d: printer on fire", id),
		"to_emails": nil, "product_id": nil, "id": id, "type": "Question",
		"due_by": "2024-02-01T00:00:00Z", "fr_due_by": "2024-01-20T00:00:00Z", "is_escalated": false,
		"custom_fields": map[string]any{"cf_region": "emea"}, "tags": []string{"printer"},
		"created_at": epoch.Format(time.RFC3339), "updated_at": updated.UTC().Format(time.RFC3339),
	}
}

// fakeDesk is a Freshdesk ticket list. hook, when set, may answer a request
// first (n counts requests from 1).
type fakeDesk struct {
	t       *testing.T
	tickets []map[string]any // sorted by updated_at, then id
	maxPage int              // the deepest page served (0: no limit)
	now     time.Time        // for the 30-day default window

	mu       sync.Mutex
	n        int
	requests []url.Values
	hook     func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newDesk(t *testing.T, tickets []map[string]any) (*fakeDesk, *httptest.Server) {
	t.Helper()
	d := &fakeDesk{t: t, tickets: tickets, now: epoch.AddDate(1, 0, 0)}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv
}

func (d *fakeDesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.n++
	n := d.n
	d.requests = append(d.requests, r.URL.Query())
	hook := d.hook
	d.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(testKey+":X")) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`)
		return
	}
	if r.URL.Path != "/api/v2/tickets" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	page, _ := strconv.Atoi(q.Get("page"))
	if page == 0 {
		page = 1
	}
	if perPage > 100 || q.Get("order_by") != "updated_at" || q.Get("order_type") != "asc" || (d.maxPage > 0 && page > d.maxPage) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"description":"Validation failed","errors":[{"field":"page","message":"invalid","code":"invalid_value"}]}`)
		return
	}
	since := d.now.AddDate(0, 0, -30)
	if s := q.Get("updated_since"); s != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	var match []map[string]any
	for _, tk := range d.tickets {
		at, _ := time.Parse(time.RFC3339, tk["updated_at"].(string))
		if !at.Before(since) {
			match = append(match, tk)
		}
	}
	from := min((page-1)*perPage, len(match))
	to := min(from+perPage, len(match))
	if to < len(match) {
		next := *r.URL
		q.Set("page", strconv.Itoa(page+1))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(match[from:to])
}

func (d *fakeDesk) queries() []url.Values {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.requests)
}

// manyTickets returns n tickets, updated one minute apart from epoch.
func manyTickets(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = ticket(i+1, epoch.Add(time.Duration(i)*time.Minute))
	}
	return out
}

// run runs src against srv into the NDJSON file at path (a fresh one when "").
func run(t *testing.T, src jobrunner.Source, srv *httptest.Server, since, path string) jobrunnertest.Result {
	t.Helper()
	var opts []jobrunnertest.Option
	if path != "" {
		opts = append(opts, jobrunnertest.File(path))
	}
	req := jobrunner.Request{
		Fields:  map[string]string{"domain": "acme", "base_url": srv.URL},
		Secrets: map[string]string{"api_key": testKey},
		Since:   since,
	}
	return jobrunnertest.Run(t, src, srv.Client(), req, opts...)
}

// ids returns the records' ids (0 where one has none).
func ids(r jobrunnertest.Result) []int {
	var out []int
	for _, rec := range r.Records {
		id, _ := rec["id"].(float64)
		out = append(out, int(id))
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	return jobrunnertest.Failure(t, err, reason, testKey, "Basic")
}

func TestTicketsFullRunPagesThroughLinkHeader(t *testing.T) {
	t.Parallel()
	d, srv := newDesk(t, manyTickets(250))
	res := run(t, TicketsSource(), srv, "", "")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !slices.Equal(ids(res), seq(1, 250)) {
		t.Errorf("ids = %v", ids(res))
	}
	if want := epoch.Add(249 * time.Minute).Format(time.RFC3339); res.Checkpoint != want {
		t.Errorf("checkpoint = %q, want %q", res.Checkpoint, want)
	}
	if res.Stats.Pages.Load() != 3 || res.Stats.Records.Load() != 250 {
		t.Errorf("pages %d, records %d", res.Stats.Pages.Load(), res.Stats.Records.Load())
	}
	q := d.queries()
	if len(q) != 3 || q[0].Get("updated_since") != fullHistory || q[0].Get("per_page") != "100" || q[2].Get("page") != "3" {
		t.Errorf("queries = %v", q)
	}
}

func TestTicketsIncrementalHonoursUpdatedSince(t *testing.T) {
	t.Parallel()
	d, srv := newDesk(t, manyTickets(250))
	since := epoch.Add(239 * time.Minute).Format(time.RFC3339) // ticket 240
	res := run(t, TicketsSource(), srv, since, "")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !slices.Equal(ids(res), seq(240, 250)) {
		t.Errorf("ids = %v", ids(res))
	}
	if q := d.queries(); len(q) != 1 || q[0].Get("updated_since") != since {
		t.Errorf("queries = %v", q)
	}
	// Nothing new: the checkpoint stays.
	_, empty := newDesk(t, nil)
	if res := run(t, TicketsSource(), empty, since, ""); res.Err != nil || res.Checkpoint != since || len(ids(res)) != 0 {
		t.Errorf("empty run = %q, %v, %v", res.Checkpoint, ids(res), res.Err)
	}
}

// TestTicketsReWindowsAtPageCap lowers the page cap to 2 (the server refuses
// page 3, as Freshdesk refuses pages past its limit) and puts several
// tickets on the instant where the window is cut: every ticket must come
// exactly once, in order.
func TestTicketsReWindowsAtPageCap(t *testing.T) {
	t.Parallel()
	all := manyTickets(530)
	for i := 195; i < 205; i++ { // tickets 196..205 share one instant across the cut at 200
		all[i]["updated_at"] = epoch.Add(195 * time.Minute).Format(time.RFC3339)
	}
	d, srv := newDesk(t, all)
	d.maxPage = 2
	res := run(t, &tickets{pageCap: 2}, srv, "", "")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !slices.Equal(ids(res), seq(1, 530)) {
		t.Errorf("got %d ids: %v", len(ids(res)), ids(res))
	}
	var windows []string
	for _, q := range d.queries() {
		if q.Get("page") == "" {
			windows = append(windows, q.Get("updated_since"))
		}
	}
	want := []string{fullHistory, epoch.Add(195 * time.Minute).Format(time.RFC3339), epoch.Add(394 * time.Minute).Format(time.RFC3339)}
	if !slices.Equal(windows, want) {
		t.Errorf("windows = %v, want %v", windows, want)
	}
}

func TestTicketsWindowThatCannotAdvanceFails(t *testing.T) {
	t.Parallel()
	all := manyTickets(300)
	for _, tk := range all {
		tk["updated_at"] = epoch.Format(time.RFC3339)
	}
	d, srv := newDesk(t, all)
	d.maxPage = 2
	res := run(t, &tickets{pageCap: 2}, srv, "", "")
	failure(t, res.Err, jobrunner.ReasonSourceError)
}

func TestAPIBase(t *testing.T) {
	t.Parallel()
	for fields, want := range map[[2]string]string{
		{"acme", ""}:                          "https://acme.freshdesk.com",
		{"acme.freshdesk.com", ""}:            "https://acme.freshdesk.com",
		{"acme", "http://127.0.0.1:8080/"}:    "http://127.0.0.1:8080",
		{"", "https://proxy.example/freshd/"}: "https://proxy.example/freshd",
	} {
		got, err := apiBase(map[string]string{"domain": fields[0], "base_url": fields[1]})
		if err != nil || got != want {
			t.Errorf("apiBase(%v) = %q, %v; want %q", fields, got, err, want)
		}
	}
	_, err := apiBase(map[string]string{})
	failure(t, err, jobrunner.ReasonConfig)
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	cur, _ := url.Parse("https://acme.freshdesk.com/api/v2/tickets?page=1")
	for link, want := range map[string]string{
		`<https://acme.freshdesk.com/api/v2/tickets?page=2>; rel="next"`:                                             "https://acme.freshdesk.com/api/v2/tickets?page=2",
		`</api/v2/tickets?page=2&a=b,c>; rel=next`:                                                                   "https://acme.freshdesk.com/api/v2/tickets?page=2&a=b,c",
		`<https://acme.freshdesk.com/api/v2/tickets?page=1>; rel="prev", <https://acme.freshdesk.com/x>; rel="next"`: "https://acme.freshdesk.com/x",
		`<https://acme.freshdesk.com/api/v2/tickets?page=1>; rel="prev"`:                                             "",
	} {
		got, err := nextLink(http.Header{"Link": {link}}, cur)
		if err != nil || got != want {
			t.Errorf("nextLink(%s) = %q, %v; want %q", link, got, err, want)
		}
	}
	_, err := nextLink(http.Header{"Link": {`<https://evil.example/steal>; rel="next"`}}, cur)
	failure(t, err, jobrunner.ReasonSourceError)
}
