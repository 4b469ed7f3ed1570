package zoho_test

// The fake Zoho CRM below follows the documented shapes of Get Records (v8):
// GET /crm/v8/{module}?fields=&per_page=&page_token= with
// Authorization: Zoho-oauthtoken {token} and an optional If-Modified-Since
// header (records modified after that time) answers {"data":[{"id",
// ...fields, "Modified_Time":"2026-11-26T17:30:00+05:30"}],"info":{"per_page",
// "count","page","sort_by","sort_order","more_records","next_page_token",
// "previous_page_token","page_token_expiry"}}; 204 No Content when there is
// no record, 304 Not Modified when none changed since If-Modified-Since
// (https://www.zoho.com/crm/developer/docs/api/v8/get-records.html).
// Errors are {"code","details","message","status":"error"}: 401
// INVALID_TOKEN, 400 INVALID_DATA, 429 TOO_MANY_REQUESTS
// (https://www.zoho.com/crm/developer/docs/api/v8/status-codes.html,
// https://www.zoho.com/crm/developer/docs/api/v8/api-limits.html).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/zoho"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

var (
	t0  = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ist = time.FixedZone("IST", 5*3600+1800) // Zoho writes times in the org's zone
)

const fakePage = 2

type fakeCRM struct {
	t       *testing.T
	records []map[string]any

	mu      sync.Mutex
	token   string
	n       int
	auths   []string
	ims     []string
	tokens  []string
	modules []string
	hook    func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newCRM(t *testing.T, n int) (*fakeCRM, *httptest.Server) {
	t.Helper()
	c := &fakeCRM{t: t, token: "1000.abc"}
	for i := range n {
		c.records = append(c.records, map[string]any{
			"id":            strconv.Itoa(4150868000000224000 + i),
			"Account_Name":  fmt.Sprintf("Account %d", i),
			"Owner":         map[string]any{"name": "Patricia Boyle", "id": "4150868000000225013", "email": "p.boyle@zylker.com"},
			"Modified_Time": t0.Add(time.Duration(i) * time.Minute).In(ist).Format(time.RFC3339),
		})
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv
}

func zohoError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "details": map[string]any{}, "message": msg, "status": "error"})
}

func (c *fakeCRM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n++
	n := c.n
	c.auths = append(c.auths, r.Header.Get("Authorization"))
	c.ims = append(c.ims, r.Header.Get("If-Modified-Since"))
	c.tokens = append(c.tokens, r.URL.Query().Get("page_token"))
	c.modules = append(c.modules, r.URL.Path)
	hook := c.hook
	c.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	if r.Header.Get("Authorization") != "Zoho-oauthtoken "+token {
		zohoError(w, 401, "INVALID_TOKEN", "invalid oauth token")
		return
	}
	q := r.URL.Query()
	if q.Get("fields") == "" || !strings.Contains(q.Get("fields"), "Modified_Time") {
		zohoError(w, 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		return
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per < 1 || per > 200 {
		zohoError(w, 400, "INVALID_DATA", "invalid per_page")
		return
	}
	var match []map[string]any
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		from, err := time.Parse(time.RFC3339, ims)
		if err != nil {
			zohoError(w, 400, "INVALID_DATA", "invalid If-Modified-Since")
			return
		}
		for _, rec := range c.records {
			at, _ := time.Parse(time.RFC3339, rec["Modified_Time"].(string))
			if at.After(from) {
				match = append(match, rec)
			}
		}
		if len(match) == 0 {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else {
		match = c.records
	}
	if len(match) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	off := 0
	if tok := q.Get("page_token"); tok != "" {
		off, _ = strconv.Atoi(strings.TrimPrefix(tok, "tok-"))
	}
	end := min(off+min(per, fakePage), len(match))
	info := map[string]any{"per_page": per, "count": end - off, "sort_by": "id", "sort_order": "desc", "more_records": end < len(match),
		"next_page_token": nil, "previous_page_token": nil, "page_token_expiry": t0.Add(24 * time.Hour).In(ist).Format(time.RFC3339)}
	if end < len(match) {
		info["next_page_token"] = fmt.Sprintf("tok-%d", end)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": match[off:end], "info": info})
}

func request(srv *httptest.Server, s *jobrunnertest.Waits, since string) jobrunner.Request {
	return jobrunner.Request{
		Fields:  map[string]string{"accounts_server": "https://accounts.zoho.eu", "api_base": srv.URL},
		Secrets: map[string]string{jobrunner.SecretAccessToken: "1000.abc"},
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

func TestFullRunFollowsPageTokens(t *testing.T) {
	c, srv := newCRM(t, 5)
	got, cp, err := fetch(t, zoho.AccountsSource(), request(srv, &jobrunnertest.Waits{}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || c.n != 3 || c.tokens[1] != "tok-2" || c.tokens[2] != "tok-4" {
		t.Fatalf("%d records in %d requests, tokens %v", len(got), c.n, c.tokens)
	}
	if c.modules[0] != "/crm/v8/Accounts" || c.auths[0] != "Zoho-oauthtoken 1000.abc" || c.ims[0] != "" {
		t.Errorf("path %q auth %q ims %q", c.modules[0], c.auths[0], c.ims[0])
	}
	if cp != "2026-11-26T12:04:00Z" {
		t.Errorf("checkpoint %q", cp)
	}
	for name, src := range map[string]jobrunner.Source{"/crm/v8/Contacts": zoho.ContactsSource(), "/crm/v8/Deals": zoho.DealsSource()} {
		c.modules = nil
		if _, _, err := fetch(t, src, request(srv, &jobrunnertest.Waits{}, "")); err != nil || c.modules[0] != name {
			t.Errorf("%s: %v %v", name, c.modules, err)
		}
	}
}

func TestIncrementalSendsIfModifiedSince(t *testing.T) {
	c, srv := newCRM(t, 5)
	got, cp, err := fetch(t, zoho.AccountsSource(), request(srv, &jobrunnertest.Waits{}, "2026-11-26T12:02:00Z"))
	if err != nil || len(got) != 3 || cp != "2026-11-26T12:04:00Z" { // the checkpoint's own record comes again
		t.Fatalf("%d records, %q, %v", len(got), cp, err)
	}
	if c.ims[0] != "2026-11-26T12:01:59+00:00" {
		t.Errorf("If-Modified-Since %q", c.ims[0])
	}
	// 304: nothing changed; the checkpoint stays.
	got, cp, err = fetch(t, zoho.AccountsSource(), request(srv, &jobrunnertest.Waits{}, "2027-01-01T00:00:00Z"))
	if err != nil || len(got) != 0 || cp != "2027-01-01T00:00:00Z" {
		t.Fatalf("304: %d records, %q, %v", len(got), cp, err)
	}
	// 204: no records at all.
	_, empty := newCRM(t, 0)
	if got, cp, err := fetch(t, zoho.AccountsSource(), request(empty, &jobrunnertest.Waits{}, "")); err != nil || len(got) != 0 || cp != "" {
		t.Fatalf("204: %d records, %q, %v", len(got), cp, err)
	}
}

func TestMalformedAndConfig(t *testing.T) {
	c, srv := newCRM(t, 3)
	c.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[{"id":"1",`)
		return true
	}
	_, _, err := fetch(t, zoho.AccountsSource(), request(srv, &jobrunnertest.Waits{}, ""))
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonSourceError || !strings.Contains(f.Message, "malformed JSON") {
		t.Fatalf("err = %v", err)
	}
	c.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[],"info":{"more_records":true}}`)
		return true
	}
	if _, _, err = fetch(t, zoho.AccountsSource(), request(srv, &jobrunnertest.Waits{}, "")); !errors.As(err, &f) || !strings.Contains(f.Message, "no next_page_token") {
		t.Fatalf("err = %v", err)
	}
	c.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		zohoError(w, 400, "INVALID_DATA", "the field Account_Type is not available")
		return true
	}
	if _, _, err = fetch(t, zoho.AccountsSource(), request(srv, &jobrunnertest.Waits{}, "")); !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig {
		t.Fatalf("err = %v", err)
	}
	req := request(srv, &jobrunnertest.Waits{}, "")
	req.Fields = map[string]string{}
	if _, _, err = fetch(t, zoho.AccountsSource(), req); !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig || !strings.Contains(f.Message, "reauthorize") {
		t.Fatalf("no api_base: %v", err)
	}
	c.hook = nil
	req = request(srv, &jobrunnertest.Waits{}, "")
	req.Fields["base_url"] = srv.URL + "/"
	req.Fields["api_base"] = "https://www.zohoapis.eu"
	if got, _, err := fetch(t, zoho.AccountsSource(), req); err != nil || len(got) != 3 {
		t.Fatalf("base_url: %d, %v", len(got), err)
	}
}
