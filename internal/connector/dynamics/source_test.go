package dynamics_test

// The fake Dataverse below follows the documented shapes of the Web API:
// GET [Organization URI]/api/data/v9.2/{set}?$select=&$filter=&$orderby= with
// Prefer: odata.maxpagesize=n answers Preference-Applied and
// {"@odata.context", "value":[{"@odata.etag":"W/\"72201545\"", ...columns}],
// "@odata.nextLink":"[Organization URI]/api/data/v9.2/{set}?...&$skiptoken=..."}
// (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results,
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows).
// Errors are {"error":{"code","message"}}
// (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors);
// service-protection limits answer 429 with Retry-After in seconds
// (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/dynamics"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const fakePage = 2 // rows a page in the fake, so a few rows make several pages

type fakeOrg struct {
	t    *testing.T
	rows []map[string]any // sorted by modifiedon

	mu      sync.Mutex
	token   string
	n       int
	queries []url.Values
	auths   []string
	prefers []string
	hook    func(n int, w http.ResponseWriter, r *http.Request) bool
	nextURL func(u *url.URL) string // rewrites the nextLink; nil keeps it on the server
	srv     *httptest.Server
}

func newOrg(t *testing.T, n int) *fakeOrg {
	t.Helper()
	o := &fakeOrg{t: t, token: "at-1"}
	for i := range n {
		o.rows = append(o.rows, map[string]any{
			"@odata.etag": fmt.Sprintf("W/\"%d\"", 72201545+i),
			"accountid":   fmt.Sprintf("49b0be2e-d01c-ed11-b83e-%012d", i),
			"name":        fmt.Sprintf("Account %d", i),
			"revenue":     json.Number("12000000000000000001"),
			"modifiedon":  t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05Z"),
		})
	}
	o.srv = httptest.NewServer(o)
	t.Cleanup(o.srv.Close)
	return o
}

func odataError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (o *fakeOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.n++
	n := o.n
	o.auths = append(o.auths, r.Header.Get("Authorization"))
	o.prefers = append(o.prefers, r.Header.Get("Prefer"))
	o.queries = append(o.queries, r.URL.Query())
	hook := o.hook
	o.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	o.mu.Lock()
	token := o.token
	o.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/data/v9.2/accounts" {
		odataError(w, 404, "0x80060888", "Resource not found for the segment '"+r.URL.Path+"'.")
		return
	}
	q := r.URL.Query()
	if !strings.Contains(q.Get("$select"), "modifiedon") || q.Get("$orderby") != "modifiedon asc" || r.Header.Get("OData-Version") != "4.0" {
		o.t.Errorf("query %v headers %v", q, r.Header)
	}
	var from time.Time
	if f := q.Get("$filter"); f != "" {
		lit, ok := strings.CutPrefix(f, "modifiedon ge ")
		t, err := time.Parse(time.RFC3339, lit)
		if !ok || err != nil {
			odataError(w, 400, "0x80060888", "Syntax error in $filter: "+f)
			return
		}
		from = t
	}
	var match []map[string]any
	for _, row := range o.rows {
		at, _ := time.Parse(time.RFC3339, row["modifiedon"].(string))
		if !at.Before(from) {
			match = append(match, row)
		}
	}
	size := fakePage
	if v, ok := strings.CutPrefix(r.Header.Get("Prefer"), "odata.maxpagesize="); ok {
		if m, _ := strconv.Atoi(v); m > 0 && m < size {
			size = m
		}
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+v)
	}
	off, _ := strconv.Atoi(q.Get("$skiptoken")) // real skiptokens are paging cookies; opaque to the client
	end := min(off+size, len(match))
	out := map[string]any{"@odata.context": o.srv.URL + "/api/data/v9.2/$metadata#accounts(accountid,name,modifiedon)", "value": append([]map[string]any{}, match[off:end]...)}
	if end < len(match) {
		q.Set("$skiptoken", strconv.Itoa(end))
		next := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		link := next.String()
		if o.nextURL != nil {
			link = o.nextURL(next)
		}
		out["@odata.nextLink"] = link
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	_ = json.NewEncoder(w).Encode(out)
}

func (o *fakeOrg) request(s *jobrunnertest.Waits, since string) jobrunner.Request {
	return jobrunner.Request{
		Fields:  map[string]string{"org_url": "https://acme.crm.dynamics.com", "api_base": o.srv.URL},
		Secrets: map[string]string{jobrunner.SecretAccessToken: "at-1"},
		Since:   since,
		HTTP:    jobrunner.NewHTTP(o.srv.Client(), s.Sleep, nil, nil),
	}
}

func fetch(t *testing.T, req jobrunner.Request) ([]jobrunner.Record, string, error) {
	t.Helper()
	var got []jobrunner.Record
	cp, err := dynamics.AccountsSource().Fetch(context.Background(), req, func(r jobrunner.Record) error { got = append(got, r); return nil })
	return got, cp, err
}

func TestFullRunFollowsNextLink(t *testing.T) {
	o := newOrg(t, 5)
	got, cp, err := fetch(t, o.request(&jobrunnertest.Waits{}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || o.n != 3 {
		t.Fatalf("%d rows in %d requests", len(got), o.n)
	}
	if _, ok := got[0]["@odata.etag"]; ok {
		t.Errorf("etag kept: %v", got[0])
	}
	if got[0]["revenue"] != json.Number("12000000000000000001") {
		t.Errorf("revenue %#v", got[0]["revenue"])
	}
	if cp != "2026-11-26T12:04:00Z" {
		t.Errorf("checkpoint %q", cp)
	}
	if o.prefers[0] != "odata.maxpagesize=5000" || o.auths[0] != "Bearer at-1" || o.queries[0].Has("$filter") {
		t.Errorf("prefer %q auth %q query %v", o.prefers[0], o.auths[0], o.queries[0])
	}
	if o.queries[2].Get("$skiptoken") != "4" {
		t.Errorf("nextLink not followed as-is: %v", o.queries[2])
	}
}

func TestIncrementalFiltersFromCheckpoint(t *testing.T) {
	o := newOrg(t, 5)
	got, cp, err := fetch(t, o.request(&jobrunnertest.Waits{}, "2026-11-26T12:02:00Z"))
	if err != nil || len(got) != 3 || cp != "2026-11-26T12:04:00Z" {
		t.Fatalf("%d rows, %q, %v", len(got), cp, err)
	}
	if f := o.queries[0].Get("$filter"); f != "modifiedon ge 2026-11-26T12:02:00Z" {
		t.Errorf("filter %q", f)
	}
	got, cp, err = fetch(t, o.request(&jobrunnertest.Waits{}, "2027-01-01T00:00:00Z"))
	if err != nil || len(got) != 0 || cp != "2027-01-01T00:00:00Z" {
		t.Errorf("nothing new: %d rows, %q, %v", len(got), cp, err)
	}
}

func TestBaseURLOverridesTheOrg(t *testing.T) {
	o := newOrg(t, 1)
	req := o.request(&jobrunnertest.Waits{}, "")
	req.Fields = map[string]string{"org_url": "https://acme.crm.dynamics.com", "base_url": o.srv.URL + "/api/data/v9.2/"}
	if got, _, err := fetch(t, req); err != nil || len(got) != 1 {
		t.Fatalf("%d rows, %v", len(got), err)
	}
	req.Fields = map[string]string{}
	var f *jobrunner.Failure
	if _, _, err := fetch(t, req); !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig {
		t.Errorf("no org: %v", err)
	}
}

func TestMalformedAndErrors(t *testing.T) {
	o := newOrg(t, 3)
	o.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"value":[{"accountid":`)
		return true
	}
	_, _, err := fetch(t, o.request(&jobrunnertest.Waits{}, ""))
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonSourceError || !strings.Contains(f.Message, "malformed JSON") {
		t.Fatalf("err = %v", err)
	}
	o.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		odataError(w, 400, "0x0", "Could not find a property named 'websiteurl' on type 'Microsoft.Dynamics.CRM.account'.")
		return true
	}
	if _, _, err = fetch(t, o.request(&jobrunnertest.Waits{}, "")); !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig || !strings.Contains(f.Message, "websiteurl") {
		t.Fatalf("err = %v", err)
	}
	o.hook = nil
	if _, _, err = fetch(t, o.request(&jobrunnertest.Waits{}, "last week")); !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig {
		t.Fatalf("bad checkpoint: %v", err)
	}
}
