package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// freshdesk is a local server that follows Freshdesk's documented List All
// Tickets shapes (https://developers.freshdesk.com/api/#list_all_tickets and
// #pagination): Basic auth with the API key as user name and "X" as the
// password, per_page (at most 100) and page, updated_since (inclusive),
// order_by=updated_at ascending, a Link rel="next" header while more pages
// follow, 401 {"code":"invalid_credentials"} for a wrong key and 429 with
// Retry-After when throttled (#ratelimit).
//
// The API key picks the behaviour, so that scripts can run in parallel:
//
//	fd-CANARY-key        normal
//	fd-CANARY-malformed  page 2 is not JSON (a source error mid-run)
//	fd-CANARY-throttled  the first request is answered 429, Retry-After: 1
//	fd-CANARY-hangonce-* the first tickets request never gets an answer (a
//	                     process killed mid-run); later ones are normal
type freshdesk struct {
	srv     *httptest.Server
	mu      sync.Mutex
	tickets []map[string]any
	hits    map[string]int // API key -> requests
	// fd-CANARY-blocking requests wait for release (or the client's
	// disconnect); arrived is signalled as each one comes in.
	arrived  chan struct{}
	release  chan struct{}
	released bool
	// hung has a closed channel per fd-CANARY-hangonce-* key whose first
	// request has come in.
	hung map[string]chan struct{}
}

var fdFake *freshdesk

func startFreshdesk() *freshdesk {
	f := &freshdesk{hits: map[string]int{}, hung: map[string]chan struct{}{}, arrived: make(chan struct{}, 100), release: make(chan struct{})}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 250; i++ {
		f.tickets = append(f.tickets, map[string]any{"id": i, "subject": fmt.Sprintf("ticket %d", i), "status": 2,
			"updated_at": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)})
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *freshdesk) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	user, pass, ok := basicAuth(r)
	if !ok || pass != "X" || !strings.HasPrefix(user, "fd-CANARY-") {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`))
		return
	}
	if r.URL.Path == "/api/v2/agents/me" {
		// View the currently authenticated agent (https://developers.freshdesk.com/api/#me):
		// the check on save and `connctl test`.
		_, _ = w.Write([]byte(`{"id":19000000001,"contact":{"email":"agent@acme.test","name":"Support Agent"}}`))
		return
	}
	f.mu.Lock()
	f.hits[user]++
	hit := f.hits[user]
	f.mu.Unlock()
	f.mu.Lock()
	block, release := user == "fd-CANARY-blocking" && !f.released, f.release
	f.mu.Unlock()
	if block {
		f.arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	}
	if strings.HasPrefix(user, "fd-CANARY-hangonce-") && r.URL.Path == "/api/v2/tickets" {
		f.mu.Lock()
		_, seen := f.hung[user]
		if !seen {
			f.hung[user] = make(chan struct{})
			close(f.hung[user])
		}
		f.mu.Unlock()
		if !seen {
			<-r.Context().Done()
			return
		}
	}
	if user == "fd-CANARY-throttled" && hit == 1 {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if r.URL.Path != "/api/v2/tickets" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 || perPage > 100 {
		perPage = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	if user == "fd-CANARY-malformed" && page == 2 {
		_, _ = w.Write([]byte(`[{"id": 101, "subject": `))
		return
	}
	since := time.Time{}
	if s := q.Get("updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"description":"Validation failed","errors":[{"field":"updated_since","message":"It should be in the 'valid date' format","code":"invalid_value"}]}`))
			return
		}
		since = t
	}
	f.mu.Lock()
	var match []map[string]any
	for _, t := range f.tickets {
		u, _ := time.Parse(time.RFC3339, t["updated_at"].(string))
		if !u.Before(since) {
			match = append(match, t)
		}
	}
	f.mu.Unlock()
	sortByUpdated(match)
	from, to := (page-1)*perPage, page*perPage
	if from > len(match) {
		from = len(match)
	}
	if to > len(match) {
		to = len(match)
	}
	if to < len(match) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
	}
	_ = json.NewEncoder(w).Encode(match[from:to])
}

func sortByUpdated(ts []map[string]any) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j]["updated_at"].(string) < ts[j-1]["updated_at"].(string); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func basicAuth(r *http.Request) (string, string, bool) {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "", "", false
	}
	u, p, ok := strings.Cut(string(b), ":")
	return u, p, ok
}

// freshdesk-touch ID...: the tickets are updated now (for incremental runs).
func cmdFreshdeskTouch(ts *testscript.TestScript, neg bool, args []string) {
	fdFake.mu.Lock()
	defer fdFake.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC3339)
	for _, a := range args {
		id, _ := strconv.Atoi(a)
		for _, t := range fdFake.tickets {
			if t["id"] == id {
				t["updated_at"] = now
			}
		}
	}
}

// freshdesk-arrived: wait (up to 30 s) until a blocking request has come in.
func cmdFreshdeskArrived(ts *testscript.TestScript, neg bool, args []string) {
	select {
	case <-fdFake.arrived:
	case <-time.After(30 * time.Second):
		ts.Fatalf("no request reached the Freshdesk server")
	}
}

// freshdesk-release: let blocked requests through, and later ones too.
func cmdFreshdeskRelease(ts *testscript.TestScript, neg bool, args []string) {
	fdFake.mu.Lock()
	defer fdFake.mu.Unlock()
	if !fdFake.released {
		close(fdFake.release)
		fdFake.released = true
	}
}

// freshdesk-block: blocking requests wait again until the next release.
func cmdFreshdeskBlock(ts *testscript.TestScript, neg bool, args []string) {
	fdFake.mu.Lock()
	defer fdFake.mu.Unlock()
	if fdFake.released {
		fdFake.release = make(chan struct{})
		fdFake.released = false
	}
}

// freshdesk-hung KEY: wait (up to 30 s) until the first request of an
// fd-CANARY-hangonce-* key has come in (and hangs).
func cmdFreshdeskHung(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: freshdesk-hung KEY")
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		fdFake.mu.Lock()
		_, ok := fdFake.hung[args[0]]
		fdFake.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("no request with key %s reached the Freshdesk server", args[0])
}
