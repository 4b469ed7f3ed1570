package genericoauth_test

// The fake API below is user-described, as the http source is: one server
// answers GET {path} with JSON and pages in each of the styles the source
// supports: an RFC 8288 Link rel="next" header
// (https://www.rfc-editor.org/rfc/rfc8288#section-3), a cursor value in the
// body sent back as a query parameter, or a next URL in the body. Records are
// located with RFC 6901 JSON pointers (https://www.rfc-editor.org/rfc/rfc6901).
// Bearer tokens follow RFC 6750; 401 means the token expired.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/genericoauth"
	"github.com/connctl/connctl/internal/jobrunner"
)

type fake struct {
	mu      sync.Mutex
	queries []string
	auths   []string
	answer  func(n int, w http.ResponseWriter, r *http.Request)
}

func newFake(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) (*fake, *httptest.Server) {
	t.Helper()
	f := &fake{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.queries = append(f.queries, r.URL.RequestURI())
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		n := len(f.queries)
		f.mu.Unlock()
		f.answer(n, w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

type run struct {
	recs      []jobrunner.Record
	cp        string
	err       error
	waits     []time.Duration
	refreshes int
}

func fetch(t *testing.T, srv *httptest.Server, params map[string]string, since string) *run {
	t.Helper()
	out := &run{}
	sleep := func(_ context.Context, d time.Duration) error { out.waits = append(out.waits, d); return nil }
	req := jobrunner.Request{
		Fields: map[string]string{"base_url": srv.URL},
		Params: params,
		Since:  since,
		HTTP:   jobrunner.NewHTTP(srv.Client(), sleep, nil, nil),
		Token: func(_ context.Context, force bool) (string, error) {
			if force {
				out.refreshes++
				return "at-2", nil
			}
			return "at-1", nil
		},
	}
	out.cp, out.err = genericoauth.HTTPSource().Fetch(context.Background(), req, func(r jobrunner.Record) error {
		out.recs = append(out.recs, r)
		return nil
	})
	return out
}

func ids(recs []jobrunner.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, string(r["id"].(json.Number)))
	}
	return strings.Join(s, ",")
}

func items(from, to int) []map[string]any {
	var out []map[string]any
	for i := from; i <= to; i++ {
		out = append(out, map[string]any{"id": i, "updated_at": time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC).Format(time.RFC3339)})
	}
	return out
}

func failure(t *testing.T, err error, reason, contains string) {
	t.Helper()
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != reason || !strings.Contains(f.Message, contains) {
		t.Fatalf("err = %#v, want %s failure containing %q", err, reason, contains)
	}
}

func TestLinkPagingWholeBodyArray(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, nil)
	f.answer = func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "":
			w.Header().Set("Link", `<`+srv.URL+`/v1/items?page=2&per_page=2>; rel="next", <`+srv.URL+`/v1/items?page=3>; rel="last"`)
			writeJSON(w, items(1, 2))
		case "2":
			w.Header().Set("Link", `</v1/items?page=3&per_page=2>; rel="next"`) // relative
			writeJSON(w, items(3, 4))
		default:
			writeJSON(w, items(5, 5))
		}
	}
	got := fetch(t, srv, map[string]string{"path": "/v1/items", "page_size_param": "per_page", "page_size": "2"}, "")
	if got.err != nil || ids(got.recs) != "1,2,3,4,5" || got.cp != "" {
		t.Fatalf("got %q, %q, %v", ids(got.recs), got.cp, got.err)
	}
	if f.queries[0] != "/v1/items?per_page=2" || f.auths[0] != "Bearer at-1" {
		t.Errorf("first request %q auth %q", f.queries[0], f.auths[0])
	}
}

func TestCursorPagingWithRecordsPointer(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("after") {
		case "":
			writeJSON(w, map[string]any{"data": map[string]any{"my/items": items(1, 2)}, "meta": map[string]any{"next": "c2"}})
		case "c2":
			writeJSON(w, map[string]any{"data": map[string]any{"my/items": items(3, 3)}, "meta": map[string]any{"next": nil}})
		}
	})
	got := fetch(t, srv, map[string]string{"path": "/v1/items?filter=a", "records": "/data/my~1items", "next": "cursor:/meta/next", "cursor_param": "after"}, "")
	if got.err != nil || ids(got.recs) != "1,2,3" {
		t.Fatalf("got %q, %v", ids(got.recs), got.err)
	}
	if len(f.queries) != 2 || f.queries[1] != "/v1/items?after=c2&filter=a" {
		t.Errorf("queries %q", f.queries)
	}
}

func TestNextURLPagingAndIncremental(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			writeJSON(w, map[string]any{"results": items(3, 4), "paging": map[string]any{"next": "/v1/items?page=2&updated_since=x"}})
			return
		}
		writeJSON(w, map[string]any{"results": items(1, 1), "paging": map[string]any{"next": ""}})
	})
	got := fetch(t, srv, map[string]string{"path": "/v1/items", "records": "/results", "next": "url:/paging/next",
		"incremental_field": "updated_at", "since_param": "updated_since"}, "2026-01-01T00:02:00Z")
	if got.err != nil || ids(got.recs) != "3,4,1" || got.cp != "2026-01-01T00:04:00Z" {
		t.Fatalf("got %q, %q, %v", ids(got.recs), got.cp, got.err)
	}
	if f.queries[0] != "/v1/items?updated_since=2026-01-01T00%3A02%3A00Z" || f.queries[1] != "/v1/items?page=2&updated_since=x" {
		t.Errorf("queries %q", f.queries)
	}
	// First run: no since_param; epoch values kept as the API wrote them.
	f2, srv2 := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, []any{map[string]any{"id": 1, "ts": 1767225600}, map[string]any{"id": 2, "ts": 1767225700}})
	})
	got = fetch(t, srv2, map[string]string{"path": "/v1/items", "next": "none", "incremental_field": "ts", "since_param": "since"}, "")
	if got.err != nil || got.cp != "1767225700" || f2.queries[0] != "/v1/items" {
		t.Fatalf("epoch: cp %q, %v, %q", got.cp, got.err, f2.queries)
	}
	// Nothing new: the checkpoint stays.
	_, srv4 := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, []any{}) })
	if got = fetch(t, srv4, map[string]string{"path": "/x", "incremental_field": "ts", "since_param": "since"}, "1767225700"); got.err != nil || got.cp != "1767225700" {
		t.Fatalf("empty: cp %q, %v", got.cp, got.err)
	}
}

func TestNextOnAnotherHostRefused(t *testing.T) {
	t.Parallel()
	for _, params := range []map[string]string{
		{"path": "/v1/items", "records": "/items", "next": "url:/next"},
		{"path": "/v1/items", "records": "/items"},
	} {
		f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", `<https://evil.example/steal>; rel="next"`)
			writeJSON(w, map[string]any{"items": items(1, 1), "next": "https://evil.example/steal"})
		})
		got := fetch(t, srv, params, "")
		failure(t, got.err, jobrunner.ReasonSourceError, "another host (evil.example)")
		if len(f.queries) != 1 {
			t.Errorf("%d requests", len(f.queries))
		}
	}
}

func TestConfigFailures(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"data": items(1, 1), "obj": map[string]any{}})
	})
	for _, tc := range []struct {
		params   map[string]string
		contains string
	}{
		{map[string]string{}, "needs a path"},
		{map[string]string{"path": "/x", "records": "data"}, "not a JSON pointer"},
		{map[string]string{"path": "/x", "records": "/data/~2"}, "~ must be followed by 0 or 1"},
		{map[string]string{"path": "/x", "next": "cursor:"}, "JSON pointer"},
		{map[string]string{"path": "/x", "next": "pages"}, "not link, cursor"},
		{map[string]string{"path": "/x", "page_size": "10"}, "set both"},
		{map[string]string{"path": "/x", "since_param": "since"}, "needs incremental_field"},
		{map[string]string{"path": "https://other.example/x"}, "not on base_url's host"},
		{map[string]string{"path": "/x", "records": "/missing"}, `records pointer "/missing" is not in the response`},
		{map[string]string{"path": "/x", "records": "/obj"}, "is not an array"},
		{map[string]string{"path": "/x", "records": "/data", "incremental_field": "nope"}, "no record has incremental_field nope"},
		{map[string]string{"path": "/x", "records": "/data", "incremental_field": "id"}, ""}, // epoch 1 is a time
		{map[string]string{"path": "/x", "records": "/data", "incremental_field": "/id/x"}, "no record"},
	} {
		got := fetch(t, srv, tc.params, "")
		if tc.contains == "" {
			if got.err != nil {
				t.Errorf("%v: %v", tc.params, got.err)
			}
			continue
		}
		var fl *jobrunner.Failure
		if !errors.As(got.err, &fl) || fl.Reason != jobrunner.ReasonConfig || !strings.Contains(fl.Message, tc.contains) {
			t.Errorf("%v: err = %v, want config containing %q", tc.params, got.err, tc.contains)
		}
	}
	// No base_url: a config failure naming the fix.
	req := jobrunner.Request{Params: map[string]string{"path": "/x"}, HTTP: jobrunner.NewHTTP(nil, nil, nil, nil)}
	_, err := genericoauth.HTTPSource().Fetch(context.Background(), req, func(jobrunner.Record) error { return nil })
	failure(t, err, jobrunner.ReasonConfig, "connctl edit <conn> --set base_url=")
}
