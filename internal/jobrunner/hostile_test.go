package jobrunner_test

// Hostile servers against every source at once: these drive jobrunner.Run
// with a naive source that follows whatever the server says (Link
// rel="next", redirects) and sends an API key on every request. What holds
// here holds for every source, because it is jobrunner that enforces it:
// no key leaves its origin, and every loop ends in pages, bytes or time.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/safehttp"
)

const apiKey = "Basic S0VZLUNBTkFSWTpY" // KEY-CANARY:X

// linkSource GETs start, then each Link rel="next" (resolved, unchecked),
// with the API key, and emits one record per page. With poll set its
// requests are marked as polls; with post, it POSTs a cursor body instead
// of following links.
type linkSource struct {
	start string
	post  bool
	poll  bool
}

func (s linkSource) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	if s.poll {
		ctx = jobrunner.Poll(ctx)
	}
	next := s.start
	for n := 0; next != ""; n++ {
		var r *http.Request
		var err error
		if s.post {
			r, err = http.NewRequestWithContext(ctx, http.MethodPost, next, strings.NewReader(`{"cursor":"c1"}`))
		} else {
			r, err = http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		}
		if err != nil {
			return "", err
		}
		r.Header.Set("Authorization", apiKey)
		_, h, body, err := req.HTTP.Do(ctx, r)
		if err != nil {
			return "", err
		}
		if err := emit(jobrunner.Record{"page": n, "body": string(body)}); err != nil {
			return "", err
		}
		l := jobrunner.NextLink(h)
		if l == "" {
			break
		}
		u, err := r.URL.Parse(l)
		if err != nil {
			return "", err
		}
		next = u.String()
	}
	return "", nil
}

// witness is a server that must never be reached: it counts requests and
// records any that carried the key.
type witness struct {
	srv  *httptest.Server
	hits atomic.Int64
	keys atomic.Int64
}

func newWitness(t *testing.T, host string) *witness {
	t.Helper()
	w := &witness{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		if strings.Contains(fmt.Sprint(r.Header), "S0VZLUNBTkFSWT") {
			w.keys.Add(1)
		}
		_, _ = rw.Write([]byte(`[]`)) // a good answer: it must not count as a good run
	}))
	t.Cleanup(w.srv.Close)
	if host != "" {
		u, _ := url.Parse(w.srv.URL)
		u.Host = host + ":" + u.Port()
		w.srv.URL = u.String()
	}
	return w
}

type recordingSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *recordingSleep) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return nil
}

func (s *recordingSleep) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func runHostile(ctx context.Context, src jobrunner.Source, client *http.Client, sl *recordingSleep, progress func(*jobrunner.Stats)) (string, *jobrunner.Failure, error) {
	if sl == nil {
		sl = &recordingSleep{}
	}
	req := jobrunner.Request{HTTP: jobrunner.NewHTTP(client, sl.sleep, new(jobrunner.Stats), nil)}
	var out bytes.Buffer
	cp, err := jobrunner.Run(ctx, src, req, jobrunner.NewStreamDestination(&out, jobrunner.FormatNDJSON, nil), progress)
	var f *jobrunner.Failure
	errors.As(err, &f)
	return cp, f, err
}

func TestHostileRedirectsNeverCarryTheKeyToAnotherOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		host   string // the witness's host in the Location: another port, or another host
		status int
	}{
		{"302 to another port of the same host", "", http.StatusFound},
		{"307 to another port of the same host", "", http.StatusTemporaryRedirect},
		{"308 to another port of the same host", "", http.StatusPermanentRedirect},
		{"301 to another host", "localhost", http.StatusMovedPermanently},
		{"307 to another host", "localhost", http.StatusTemporaryRedirect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWitness(t, tc.host)
			src := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				http.Redirect(rw, r, w.srv.URL+"/api/v2/tickets", tc.status)
			}))
			t.Cleanup(src.Close)
			// The caller's client follows anything; NewHTTP must not let it.
			_, f, err := runHostile(context.Background(), linkSource{start: src.URL + "/api/v2/tickets"}, src.Client(), nil, nil)
			if f == nil || f.Reason != jobrunner.ReasonConfig {
				t.Fatalf("run: %v, want a config failure", err)
			}
			from, _ := url.Parse(src.URL)
			to, _ := url.Parse(w.srv.URL)
			if !strings.Contains(f.Message, safehttp.Origin(from)) || !strings.Contains(f.Message, safehttp.Origin(to)) || strings.Contains(f.Message, "\n") || strings.Contains(f.Message, "S0VZ") {
				t.Fatalf("message %q should be one line naming both origins", f.Message)
			}
			if w.hits.Load() != 0 || w.keys.Load() != 0 {
				t.Fatalf("the other origin was reached %d times, %d with the key", w.hits.Load(), w.keys.Load())
			}
		})
	}
}

func TestSameOriginRedirectsStillWork(t *testing.T) {
	t.Parallel()
	var keyed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == apiKey {
			keyed.Add(1)
		}
		switch r.URL.Path {
		case "/old":
			http.Redirect(rw, r, "/new?page=1", http.StatusTemporaryRedirect) // S3 and Salesforce move requests within a host
		case "/new":
			_, _ = rw.Write([]byte(`[{"id":1}]`))
		}
	}))
	t.Cleanup(srv.Close)
	_, _, err := runHostile(context.Background(), linkSource{start: srv.URL + "/old"}, nil, nil, nil)
	if err != nil || keyed.Load() != 2 {
		t.Fatalf("run: %v; %d requests carried the key, want 2", err, keyed.Load())
	}
}

func TestHostilePaginationLoops(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	same := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n.Add(1)
		rw.Header().Set("Link", `</items?cursor=abc>; rel="next"`)
		_, _ = rw.Write([]byte(`[{"id":1}]`))
	}))
	t.Cleanup(same.Close)
	for _, tc := range []struct {
		name string
		src  linkSource
	}{
		{"the same next link forever", linkSource{start: same.URL + "/items?cursor=abc"}},
		{"the same cursor body forever", linkSource{start: same.URL + "/search", post: true}},
	} {
		_, f, err := runHostile(context.Background(), tc.src, nil, nil, nil)
		if f == nil || !strings.Contains(f.Message, "pagination loop: server returned the same next page twice") {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if n.Load() > 5 { // 2 for the link, 3 for the cursor (the first POST is to /search)
		t.Fatalf("%d requests before the loop was noticed", n.Load())
	}
}

// A poll (BigQuery's getQueryResults while the job runs) and a scroll API
// that sends one scroll id for pages that differ are not loops.
func TestPollsAndScrollsAreNotLoops(t *testing.T) {
	t.Parallel()
	var polls, scrolls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/poll":
			if polls.Add(1) < 5 {
				rw.Header().Set("Link", `</poll>; rel="next"`)
				_, _ = rw.Write([]byte(`{"jobComplete":false}`))
				return
			}
			_, _ = rw.Write([]byte(`{"jobComplete":true}`))
		case "/scroll":
			i := scrolls.Add(1)
			if i < 5 {
				rw.Header().Set("Link", `</scroll?scrollId=S>; rel="next"`)
			}
			fmt.Fprintf(rw, `[{"id":%d}]`, i)
		}
	}))
	t.Cleanup(srv.Close)
	if _, _, err := runHostile(context.Background(), linkSource{start: srv.URL + "/poll", poll: true}, nil, nil, nil); err != nil {
		t.Fatalf("poll: %v", err)
	}
	if _, _, err := runHostile(context.Background(), linkSource{start: srv.URL + "/scroll?scrollId=S"}, nil, nil, nil); err != nil {
		t.Fatalf("scroll: %v", err)
	}
}

// A server that invents a new next link for ever is a large data set as far
// as anyone can tell; it ends when the user stops the run (Ctrl-C cancels
// ctx), and the run then changes nothing.
func TestEndlessNewPagesEndOnCancel(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Link", fmt.Sprintf(`</items?page=%d>; rel="next"`, n.Add(1)))
		_, _ = rw.Write([]byte(`[]`))
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, _, err := runHostile(ctx, linkSource{start: srv.URL + "/items"}, nil, nil, func(s *jobrunner.Stats) {
		if s.Pages.Load() >= 50 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want cancelled", err)
	}
}

func TestHugeBodyIsRefusedAtTheCap(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n.Add(1)
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range 100 { // 100 MiB, if anyone reads it all
			if _, err := rw.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	_, f, err := runHostile(context.Background(), linkSource{start: srv.URL + "/big"}, nil, nil, nil)
	if f == nil || !strings.Contains(f.Message, "response larger than 64 MiB") {
		t.Fatalf("run: %v", err)
	}
	if n.Load() != 1 {
		t.Fatalf("%d requests: a body over the cap is not retried", n.Load())
	}
}

func TestHugeRetryAfterFailsAndSaysWhen(t *testing.T) {
	t.Parallel()
	later := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Second)
	for _, tc := range []struct {
		name, value string
		deadline    time.Duration // 0: none
		want        string
	}{
		{"a day in seconds", "86400", 0, "the server asks to wait 24h0m0s (more than the 5m0s connctl waits); run the job again after "},
		{"an HTTP date hours away", later.Format(http.TimeFormat), 0, "; run the job again after " + later.Format(time.RFC3339)},
		{"absurd seconds", "99999999999999", 0, "the server asks to wait longer than connctl ever waits"},
		{"within the cap but past the run's deadline", "240", time.Minute, "(past the run's deadline)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				n.Add(1)
				rw.Header().Set("Retry-After", tc.value)
				rw.WriteHeader(http.StatusTooManyRequests)
			}))
			t.Cleanup(srv.Close)
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			sl := &recordingSleep{}
			_, f, err := runHostile(ctx, linkSource{start: srv.URL + "/items"}, nil, sl, nil)
			if f == nil || f.Reason != jobrunner.ReasonRateLimit || !strings.Contains(f.Message, tc.want) || strings.Contains(f.Message, "retries exhausted") {
				t.Fatalf("run: %v, want %q", err, tc.want)
			}
			if len(sl.all()) != 0 || n.Load() != 1 {
				t.Fatalf("waited %v over %d requests: a wait too long is not waited", sl.all(), n.Load())
			}
		})
	}
}

func TestAWaitIsReportedBeforeItBegins(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			rw.Header().Set("Retry-After", "120")
			rw.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = rw.Write([]byte(`[]`))
	}))
	t.Cleanup(srv.Close)
	sl := &recordingSleep{}
	var sawWait atomic.Int64
	_, _, err := runHostile(context.Background(), linkSource{start: srv.URL + "/items"}, nil, sl, func(s *jobrunner.Stats) {
		if w := s.WaitUntil.Load(); w != 0 {
			sawWait.Store(w)
		}
	})
	if err != nil || len(sl.all()) != 1 || sl.all()[0] != 2*time.Minute {
		t.Fatalf("run: %v, waits %v", err, sl.all())
	}
	if until := time.Unix(0, sawWait.Load()); sawWait.Load() == 0 || until.Before(time.Now().Add(time.Minute)) {
		t.Fatalf("progress saw WaitUntil %v", until)
	}
}

// A server that drips its body a byte at a time never ends a request, and
// the client has no whole-request limit (a big download may be slow): the
// run's limit (jobs run --timeout, a context deadline here) ends it.
func TestSlowDripBodyEndsAtTheTimeout(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(http.StatusOK)
		for {
			if _, err := rw.Write([]byte(" ")); err != nil {
				return
			}
			rw.(http.Flusher).Flush()
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := runHostile(ctx, linkSource{start: srv.URL + "/drip"}, safehttp.New(nil, safehttp.Timeouts{}), nil, nil)
	if err == nil || ctx.Err() == nil {
		t.Fatalf("run: %v", err)
	}
}

type checkpointSource struct{ cp string }

func (s checkpointSource) Fetch(context.Context, jobrunner.Request, func(jobrunner.Record) error) (string, error) {
	return s.cp, nil
}

// A server that answers with older records cannot move the checkpoint back.
func TestCheckpointOnlyMovesForward(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ since, got, want string }{
		{"2026-03-01T12:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T12:00:00Z"},              // older records
		{"2026-03-01T12:00:00Z", "2026-03-01T12:00:01Z", "2026-03-01T12:00:01Z"},              // forward
		{"2026-03-01T12:00:00.500Z", "2026-03-01T13:00:00+02:00", "2026-03-01T12:00:00.500Z"}, // zones compared as instants
		{"2026-03-01T12:00:00Z", "2026-03-01T12:00:00.000Z", "2026-03-01T12:00:00.000Z"},      // equal
		{"2026-03-02", "2026-03-01", "2026-03-02"},                                            // Mixpanel days
		{"1772366400000", "1772280000000", "1772366400000"},                                   // epoch ms
		{"1772366400000", "1772366400001", "1772366400001"},                                   // epoch ms forward
		{"cursor-b", "cursor-a", "cursor-a"},                                                  // opaque: as returned
		{"", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},                                  // first run
	} {
		req := jobrunner.Request{Since: tc.since, HTTP: jobrunner.NewHTTP(nil, nil, nil, nil)}
		cp, err := jobrunner.Run(context.Background(), checkpointSource{tc.got}, req, jobrunner.NewStreamDestination(io.Discard, jobrunner.FormatNDJSON, nil), nil)
		if err != nil || cp != tc.want {
			t.Errorf("since %s, source %s: checkpoint %q, %v; want %q", tc.since, tc.got, cp, err, tc.want)
		}
	}
}

// A token endpoint reached through the run's client (a service account's
// JWT exchange) follows no redirect, not even within its origin.
func TestTokenRequestsThroughTheRunFollowNoRedirect(t *testing.T) {
	t.Parallel()
	var moved atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			moved.Add(1)
			return
		}
		http.Redirect(rw, r, "/moved", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	h := jobrunner.NewHTTP(nil, (&recordingSleep{}).sleep, nil, nil).NoRedirects("token endpoint")
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/token", strings.NewReader("assertion=JWT-CANARY"))
	_, _, _, err := h.Do(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "never follows a redirect from a token endpoint") || moved.Load() != 0 {
		t.Fatalf("got %v; /moved reached %d times", err, moved.Load())
	}
}
