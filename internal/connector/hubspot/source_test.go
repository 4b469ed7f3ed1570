package hubspot

// The fake HubSpot below follows the documented shapes of the CRM v3 objects
// API. List: GET /crm/v3/objects/{object}?limit=&properties=&archived=&after=
// answers {"results":[{"id","properties":{...},"createdAt","updatedAt",
// "archived"}],"paging":{"next":{"after","link"}}}
// (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/companies/get-companies).
// Search: POST /crm/v3/objects/{object}/search with {"filterGroups":[{"filters":
// [{"propertyName","operator","value"}]}],"sorts":["{property}"],
// "properties","limit","after"} answers {"total","results","paging":{"next":
// {"after"}}}, with after an offset that may not reach 10,000 (a 400 past it)
// (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm).
// Errors are {"status":"error","message","correlationId","category"}; a 429
// carries policyName and the X-HubSpot-RateLimit-* headers
// (https://developers.hubspot.com/docs/api/usage-details,
// https://developers.hubspot.com/changelog/2018-11-06-rate-limit-information-headers-will-be-included-in-http-responses).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type fakeHub struct {
	t       *testing.T
	prop    string // the modified property
	objects []map[string]any
	cap     int

	mu       sync.Mutex
	token    string
	n        int
	searches []map[string]any
	auths    []string
	paths    []string
	hook     func(n int, w http.ResponseWriter, r *http.Request) bool
}

// newHub serves n objects of one type modified at at(i), sorted by it.
func newHub(t *testing.T, prop string, n int, at func(i int) time.Time) (*fakeHub, *httptest.Server) {
	t.Helper()
	h := &fakeHub{t: t, prop: prop, cap: 10_000, token: "tok-1"}
	for i := range n {
		h.objects = append(h.objects, map[string]any{
			"id":         strconv.Itoa(1000 + i),
			"properties": map[string]any{"name": fmt.Sprintf("Object %d", i), prop: iso(at(i)), "hs_object_id": strconv.Itoa(1000 + i)},
			"createdAt":  iso(t0.Add(-time.Hour)),
			"updatedAt":  iso(at(i)),
			"archived":   false,
		})
	}
	srv := httptest.NewServer(connectortest.CheckSpec(t, connectortest.HubSpotCRMSpec, h))
	t.Cleanup(srv.Close)
	return h, srv
}

func hubError(w http.ResponseWriter, status int, category, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "message": msg, "correlationId": "c0ffee", "category": category})
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.n++
	n := h.n
	h.auths = append(h.auths, r.Header.Get("Authorization"))
	h.paths = append(h.paths, r.Method+" "+r.URL.Path)
	hook := h.hook
	h.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	h.mu.Lock()
	token := h.token // the hook may have just expired the token
	h.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		hubError(w, http.StatusUnauthorized, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired")
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/crm/v3/objects/"):
		q := r.URL.Query()
		if q.Get("limit") != "100" || !strings.Contains(q.Get("properties"), h.prop) || q.Get("archived") != "false" {
			h.t.Errorf("list query %q", r.URL.RawQuery)
		}
		off := 0
		if a := q.Get("after"); a != "" {
			off, _ = strconv.Atoi(strings.TrimPrefix(a, "cur-"))
		}
		end := min(off+100, len(h.objects))
		out := map[string]any{"results": h.objects[off:end]}
		if end < len(h.objects) {
			out["paging"] = map[string]any{"next": map[string]any{"after": fmt.Sprintf("cur-%d", end), "link": "https://api.hubapi.com/crm/v3/objects/x?after=cur-" + strconv.Itoa(end)}}
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search"):
		if r.Header.Get("Content-Type") != "application/json" {
			h.t.Errorf("search Content-Type %q", r.Header.Get("Content-Type"))
		}
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			hubError(w, 400, "VALIDATION_ERROR", "Invalid input JSON")
			return
		}
		h.mu.Lock()
		h.searches = append(h.searches, body)
		h.mu.Unlock()
		f := body["filterGroups"].([]any)[0].(map[string]any)["filters"].([]any)[0].(map[string]any)
		srt, _ := body["sorts"].([]any)
		if f["propertyName"] != h.prop || f["operator"] != "GTE" || len(srt) != 1 || srt[0] != h.prop || body["limit"] != float64(100) {
			h.t.Errorf("search body %s", b)
		}
		from, err := strconv.ParseInt(f["value"].(string), 10, 64)
		if err != nil {
			hubError(w, 400, "VALIDATION_ERROR", "filter value is not a number")
			return
		}
		match := []map[string]any{}
		for _, o := range h.objects {
			at, _ := time.Parse(time.RFC3339, o["properties"].(map[string]any)[h.prop].(string))
			if at.UnixMilli() >= from {
				match = append(match, o)
			}
		}
		sort.SliceStable(match, func(i, j int) bool {
			return match[i]["properties"].(map[string]any)[h.prop].(string) < match[j]["properties"].(map[string]any)[h.prop].(string)
		})
		off := 0
		if a, ok := body["after"].(string); ok {
			off, _ = strconv.Atoi(a)
		}
		if off >= h.cap {
			hubError(w, 400, "VALIDATION_ERROR", fmt.Sprintf("There was a problem with the request. after must be less than %d", h.cap))
			return
		}
		end := min(off+100, len(match), h.cap)
		out := map[string]any{"total": len(match), "results": match[off:end]}
		if end < len(match) {
			out["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(end)}}
		}
		_ = json.NewEncoder(w).Encode(out)
	default:
		hubError(w, 404, "OBJECT_NOT_FOUND", "not found")
	}
}

func request(srv *httptest.Server, s *jobrunnertest.Waits, since string) jobrunner.Request {
	return jobrunner.Request{
		Fields:  map[string]string{"base_url": srv.URL, "auth": "private_app"},
		Secrets: map[string]string{"access_token": "tok-1"},
		Since:   since,
		HTTP:    jobrunner.NewHTTP(srv.Client(), s.Sleep, nil, nil),
	}
}

func fetch(t *testing.T, src jobrunner.Source, req jobrunner.Request) ([]jobrunner.Record, string, error) {
	t.Helper()
	var got []jobrunner.Record
	cp, err := src.Fetch(context.Background(), req, func(r jobrunner.Record) error { got = append(got, r); return nil })
	return got, cp, err
}

func ids(recs []jobrunner.Record) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[r["id"].(string)]++
	}
	return m
}

func TestFullRunPagesAndSetsCheckpoint(t *testing.T) {
	h, srv := newHub(t, "hs_lastmodifieddate", 250, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	got, cp, err := fetch(t, CompaniesSource(), request(srv, &jobrunnertest.Waits{}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 || len(ids(got)) != 250 {
		t.Fatalf("got %d records", len(got))
	}
	if want := iso(t0.Add(249 * time.Second)); cp != want {
		t.Errorf("checkpoint %q, want %q", cp, want)
	}
	if len(h.paths) != 3 || h.paths[0] != "GET /crm/v3/objects/companies" || h.auths[0] != "Bearer tok-1" {
		t.Errorf("requests %v auths %v", h.paths, h.auths)
	}
	if _, ok := got[0]["properties"].(map[string]any); !ok {
		t.Errorf("record %v", got[0])
	}
}

func TestIncrementalSearchesFromCheckpoint(t *testing.T) {
	h, srv := newHub(t, "lastmodifieddate", 150, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	since := iso(t0.Add(20 * time.Second))
	got, cp, err := fetch(t, ContactsSource(), request(srv, &jobrunnertest.Waits{}, since))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 130 || got[0]["id"] != "1020" { // GTE: the checkpoint's own record comes again
		t.Fatalf("got %d records, first %v", len(got), got[0]["id"])
	}
	if cp != iso(t0.Add(149*time.Second)) {
		t.Errorf("checkpoint %q", cp)
	}
	if len(h.searches) != 2 || h.searches[1]["after"] != "100" || h.paths[0] != "POST /crm/v3/objects/contacts/search" {
		t.Errorf("searches %v", h.searches)
	}
	f := h.searches[0]["filterGroups"].([]any)[0].(map[string]any)["filters"].([]any)[0].(map[string]any)
	if f["value"] != strconv.FormatInt(t0.Add(20*time.Second).UnixMilli(), 10) {
		t.Errorf("filter %v", f)
	}
	// Nothing newer: the checkpoint stays.
	_, srv2 := newHub(t, "lastmodifieddate", 0, nil)
	if got, cp, err := fetch(t, ContactsSource(), request(srv2, &jobrunnertest.Waits{}, since)); err != nil || len(got) != 0 || cp != since {
		t.Errorf("empty run: %d records, %q, %v", len(got), cp, err)
	}
	// A checkpoint in epoch milliseconds is read too.
	if _, _, err := fetch(t, ContactsSource(), request(srv, &jobrunnertest.Waits{}, "1795694400000")); err != nil {
		t.Errorf("epoch ms checkpoint: %v", err)
	}
}

func TestSearchRewindowsPastTheCap(t *testing.T) {
	// 700 records, 3 per millisecond; the fake (and the source) cap a search at 200.
	h, srv := newHub(t, "hs_lastmodifieddate", 700, func(i int) time.Time { return t0.Add(time.Duration(i/3) * time.Millisecond) })
	h.cap = 200
	src := CompaniesSource().(*source)
	src.cap = 200
	got, cp, err := fetch(t, src, request(srv, &jobrunnertest.Waits{}, iso(t0)))
	if err != nil {
		t.Fatal(err)
	}
	seen := ids(got)
	if len(seen) != 700 {
		t.Fatalf("%d distinct of 700 (%d emitted)", len(seen), len(got))
	}
	if cp != iso(t0.Add(233*time.Millisecond)) {
		t.Errorf("checkpoint %q", cp)
	}
	windows := 0
	for _, s := range h.searches {
		if s["after"] == "0" {
			windows++
		}
	}
	if windows < 4 {
		t.Errorf("%d windows in %d searches", windows, len(h.searches))
	}
}

func TestSearchCannotPassTooManyInOneMillisecond(t *testing.T) {
	h, srv := newHub(t, "hs_lastmodifieddate", 300, func(int) time.Time { return t0 })
	h.cap = 200
	src := CompaniesSource().(*source)
	src.cap = 200
	_, _, err := fetch(t, src, request(srv, &jobrunnertest.Waits{}, iso(t0)))
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonSourceError || !strings.Contains(f.Message, "more than 200") {
		t.Fatalf("err = %v", err)
	}
}

func TestRateLimitWaitsTheTenSecondWindow(t *testing.T) {
	h, srv := newHub(t, "hs_lastmodifieddate", 3, func(i int) time.Time { return t0 })
	h.hook = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		switch n {
		case 1:
			w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
			w.Header().Set("X-HubSpot-RateLimit-Max", "100")
			w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c0ffee","policyName":"TEN_SECONDLY_ROLLING"}`)
			return true
		case 2:
			w.Header().Set("Retry-After", "3")
			hubError(w, 429, "RATE_LIMITS", "secondly limit")
			return true
		}
		return false
	}
	var s jobrunnertest.Waits
	got, _, err := fetch(t, CompaniesSource(), request(srv, &s, ""))
	if err != nil || len(got) != 3 {
		t.Fatalf("%d records, %v", len(got), err)
	}
	if len(s.Durations()) != 2 || s.Durations()[0] != 10*time.Second || s.Durations()[1] != 3*time.Second {
		t.Errorf("waits %v", s.Durations())
	}
	// Always 429: rate_limit after the retries.
	h.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}`)
		return true
	}
	_, _, err = fetch(t, CompaniesSource(), request(srv, &jobrunnertest.Waits{}, ""))
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonRateLimit || !strings.Contains(f.Message, "DAILY") {
		t.Fatalf("err = %v", err)
	}
}

func TestMalformedAndBadConfig(t *testing.T) {
	h, srv := newHub(t, "hs_lastmodifieddate", 1, func(i int) time.Time { return t0 })
	h.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"results":[{"id":"1"`)
		return true
	}
	_, _, err := fetch(t, CompaniesSource(), request(srv, &jobrunnertest.Waits{}, ""))
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonSourceError || !strings.Contains(f.Message, "malformed JSON") {
		t.Fatalf("err = %v", err)
	}
	h.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		hubError(w, 400, "VALIDATION_ERROR", "Property hs_lastmodifieddate does not exist")
		return true
	}
	_, _, err = fetch(t, CompaniesSource(), request(srv, &jobrunnertest.Waits{}, iso(t0)))
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig || !strings.Contains(f.Message, "VALIDATION_ERROR") {
		t.Fatalf("err = %v", err)
	}
	req := request(srv, &jobrunnertest.Waits{}, "yesterday")
	if _, _, err := fetch(t, CompaniesSource(), req); !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig {
		t.Errorf("bad checkpoint: %v", err)
	}
	req = request(srv, &jobrunnertest.Waits{}, "")
	req.Fields["base_url"] = "ftp://x"
	if _, _, err := fetch(t, CompaniesSource(), req); !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig {
		t.Errorf("bad base_url: %v", err)
	}
	if b, _ := apiBase(map[string]string{}); b != DefaultBase {
		t.Errorf("default base %q", b)
	}
}
