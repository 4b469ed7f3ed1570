package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sleeps records the waits asked for instead of sleeping.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

// serve answers the n-th request (from 0) with answers[min(n, last)].
func serve(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"description":"x"}`)
	}
}

func ok(body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }
}

func get(t *testing.T, h *HTTP, u string) (int, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic c2VjcmV0LWtleTpY")
	st, _, body, err := h.Do(context.Background(), req)
	return st, body, err
}

func TestDoHonoursRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	srv, n := serve(t, status(429, "Retry-After", "7"), status(429, "Retry-After", "7"), ok(`[1,2]`))
	var s sleeps
	stats := new(Stats)
	h := NewHTTP(srv.Client(), s.sleep, stats, nil)
	st, body, err := get(t, h, srv.URL+"/api/v2/tickets?page=1")
	if err != nil || st != 200 || string(body) != `[1,2]` {
		t.Fatalf("Do = %d %q %v", st, body, err)
	}
	if got := s.waits; len(got) != 2 || got[0] != 7*time.Second || got[1] != 7*time.Second {
		t.Errorf("waits = %v, want [7s 7s]", got)
	}
	if n.Load() != 3 || stats.Retries.Load() != 2 || stats.Pages.Load() != 1 || stats.Bytes.Load() != 5 {
		t.Errorf("requests %d, stats retries %d pages %d bytes %d", n.Load(), stats.Retries.Load(), stats.Pages.Load(), stats.Bytes.Load())
	}
}

func TestRetryAfterDatesAndCap(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := NewHTTP(nil, nil, nil, nil)
	h.now = func() time.Time { return now }
	for v, want := range map[string]time.Duration{
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		"100000": 100000 * time.Second, // not waited: see TestHugeRetryAfterFailsAndSaysWhen
		"2":      2 * time.Second,
		"soon":   0,
		"":       0,
	} {
		if got := h.retryAfter(http.Header{"Retry-After": {v}}); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}

func TestBackoffGrowsWithJitterUpToCap(t *testing.T) {
	t.Parallel()
	for attempt, max := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 7: 60 * time.Second, 40: 60 * time.Second} {
		for range 50 {
			if d := backoff(attempt); d < max/2 || d > max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
}

func TestDoRetries5xxThenSucceeds(t *testing.T) {
	t.Parallel()
	srv, _ := serve(t, status(500), status(503), ok(`[]`))
	var s sleeps
	stats := new(Stats)
	if _, _, err := get(t, NewHTTP(srv.Client(), s.sleep, stats, nil), srv.URL+"/x"); err != nil {
		t.Fatal(err)
	}
	if len(s.waits) != 2 || s.waits[0] < 500*time.Millisecond || s.waits[0] > time.Second || s.waits[1] < time.Second || s.waits[1] > 2*time.Second {
		t.Errorf("waits = %v", s.waits)
	}
	if stats.Retries.Load() != 2 {
		t.Errorf("retries = %d", stats.Retries.Load())
	}
}

func TestDoClassifiesFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer   func(http.ResponseWriter, *http.Request)
		reason   string
		requests int64
		text     string
	}{
		{status(401), ReasonAuth, 1, "401 unauthorized"},
		{status(403), ReasonAuth, 1, "403 forbidden"},
		{status(404), ReasonConfig, 1, "404 not found"},
		{status(400), ReasonSourceError, 1, "400 bad request"},
		{status(429), ReasonRateLimit, 5, "429 too many requests"},
		{status(502), ReasonSourceError, 5, "502 bad gateway"},
	} {
		srv, n := serve(t, tc.answer)
		var s sleeps
		_, _, err := get(t, NewHTTP(srv.Client(), s.sleep, nil, nil), srv.URL+"/api/v2/tickets?api_key=secret-key")
		var f *Failure
		if !errors.As(err, &f) || f.Reason != tc.reason {
			t.Errorf("%s: err = %#v, want reason %s", tc.text, err, tc.reason)
			continue
		}
		host := strings.TrimPrefix(srv.URL, "http://")
		if want := "GET " + host + "/api/v2/tickets: " + tc.text; !strings.HasPrefix(f.Message, want) {
			t.Errorf("message %q, want prefix %q", f.Message, want)
		}
		if strings.Contains(f.Message, "secret") || strings.Contains(f.Message, "Basic") || strings.Contains(f.Message, "\n") {
			t.Errorf("message leaks or spans lines: %q", f.Message)
		}
		if n.Load() != tc.requests || int64(len(s.waits)) != tc.requests-1 {
			t.Errorf("%s: %d requests, %d waits; want %d", tc.text, n.Load(), len(s.waits), tc.requests)
		}
	}
}

func TestDoTransportErrorIsNetworkFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/api/v2/tickets?updated_since=2020"
	srv.Close()
	var s sleeps
	_, _, err := get(t, NewHTTP(srv.Client(), s.sleep, nil, nil), u)
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonNetwork || strings.Contains(f.Message, "updated_since") {
		t.Fatalf("err = %#v", err)
	}
	if len(s.waits) != 4 {
		t.Errorf("waits = %v, want 4", s.waits)
	}
}

func TestDoRetriesVendorThrottle(t *testing.T) {
	t.Parallel()
	limit := func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(403)
		_, _ = io.WriteString(w, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]`)
	}
	srv, _ := serve(t, limit, ok(`{}`))
	throttle := func(st int, body []byte, _ http.Header) (bool, time.Duration) {
		return st == 403 && strings.Contains(string(body), "REQUEST_LIMIT_EXCEEDED"), 42 * time.Second
	}
	var s sleeps
	if _, _, err := get(t, NewHTTP(srv.Client(), s.sleep, nil, throttle), srv.URL); err != nil {
		t.Fatal(err)
	}
	if len(s.waits) != 1 || s.waits[0] != 42*time.Second {
		t.Errorf("waits = %v", s.waits)
	}
	// Exhausted throttle retries are a rate_limit failure.
	srv2, _ := serve(t, limit)
	_, _, err := get(t, NewHTTP(srv2.Client(), s.sleep, nil, throttle), srv2.URL)
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonRateLimit {
		t.Errorf("err = %#v", err)
	}
}

func TestDoCapsBody(t *testing.T) {
	t.Parallel()
	srv, _ := serve(t, ok(strings.Repeat("x", 11)))
	h := NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil)
	h.maxBody = 10
	_, _, err := get(t, h, srv.URL)
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonSourceError {
		t.Fatalf("err = %#v", err)
	}
}

func TestDoRebuildsBodyForEachAttempt(t *testing.T) {
	t.Parallel()
	var bodies []string
	var mu sync.Mutex
	record := func(next func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
			next(w, r)
		}
	}
	srv, _ := serve(t, record(status(500)), record(ok(`{}`)))
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, strings.NewReader("q=1"))
	if _, _, _, err := NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil).Do(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || bodies[0] != "q=1" || bodies[1] != "q=1" {
		t.Errorf("bodies = %q", bodies)
	}
}

func TestDoStopsWhenCancelledDuringWait(t *testing.T) {
	t.Parallel()
	srv, n := serve(t, status(503))
	ctx, cancel := context.WithCancel(context.Background())
	sleep := func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, _, _, err := NewHTTP(srv.Client(), sleep, nil, nil).Do(ctx, req)
	if !errors.Is(err, context.Canceled) || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
}

func TestDoReturnsTheFailedAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Vendor", "v")
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `[{"errorCode":"MALFORMED_QUERY"}]`)
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	st, hd, body, err := NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil).Do(context.Background(), req)
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonSourceError {
		t.Fatalf("err = %#v", err)
	}
	if st != 400 || hd.Get("X-Vendor") != "v" || string(body) != `[{"errorCode":"MALFORMED_QUERY"}]` {
		t.Errorf("Do = %d %v %q", st, hd, body)
	}
	if strings.Contains(f.Message, "MALFORMED") {
		t.Errorf("message %q carries the body", f.Message)
	}
	// After exhausted retries, the last answer comes back.
	srv2, _ := serve(t, status(503))
	req2, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv2.URL, nil)
	if st, _, body, err := NewHTTP(srv2.Client(), (&sleeps{}).sleep, nil, nil).Do(context.Background(), req2); err == nil || st != 503 || string(body) != `{"description":"x"}` {
		t.Errorf("Do = %d %q %v", st, body, err)
	}
}

func TestWithThrottleSharesTheClient(t *testing.T) {
	t.Parallel()
	limit := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(403) }
	srv, n := serve(t, limit, ok(`{}`), limit)
	var s sleeps
	stats := new(Stats)
	base := NewHTTP(srv.Client(), s.sleep, stats, nil)
	h := base.WithThrottle(func(st int, _ []byte, _ http.Header) (bool, time.Duration) { return st == 403, 3 * time.Second })
	if _, _, err := get(t, h, srv.URL); err != nil {
		t.Fatal(err)
	}
	if h.Stats() != stats || stats.Pages.Load() != 1 || stats.Retries.Load() != 1 || len(s.waits) != 1 || s.waits[0] != 3*time.Second {
		t.Errorf("stats %p/%p pages %d retries %d waits %v", h.Stats(), stats, stats.Pages.Load(), stats.Retries.Load(), s.waits)
	}
	// The original keeps its own (no) throttle: 403 is auth at once.
	_, _, err := get(t, base, srv.URL)
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonAuth || n.Load() != 3 {
		t.Errorf("err = %#v after %d requests", err, n.Load())
	}
}

// A body given back with Reuse is where a later page of the run is read;
// outside a run Reuse does nothing, and a body too small is not used.
func TestReuseReadsTheNextPageIntoAGivenBackBody(t *testing.T) {
	t.Parallel()
	page := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page++
		fmt.Fprintf(w, `[%d,%q]`, page, strings.Repeat("x", 100*page))
	}))
	t.Cleanup(srv.Close)
	h := NewHTTP(srv.Client(), nil, nil, nil)
	h.Reuse(make([]byte, 10)) // outside a run: nothing kept
	h.pages = newPageLog()    // as Run sets it
	u := func(i int) string { return fmt.Sprintf("%s/p%d", srv.URL, i) }

	_, first, err := get(t, h, u(1))
	if err != nil {
		t.Fatal(err)
	}
	h.Reuse(first)
	_, second, err := get(t, h, u(2))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(second), `[2,"`) {
		t.Fatalf("second page = %.20q", second)
	}
	big := make([]byte, 0, 1<<16)
	h.Reuse(second)
	h.Reuse(big) // two kept: second, then big
	h.Reuse(make([]byte, 0, 1<<16))
	_, third, err := get(t, h, u(3))
	if err != nil {
		t.Fatal(err)
	}
	_, fourth, err := get(t, h, u(4))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(third), `[3,"`) || !strings.HasPrefix(string(fourth), `[4,"`) {
		t.Fatalf("pages 3 and 4 = %.20q, %.20q", third, fourth)
	}
	if &fourth[:1][0] != &big[:1][0] {
		t.Error("page 4 was not read into the body given back for it")
	}
}
