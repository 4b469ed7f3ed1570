package safehttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/safehttp"
)

// blockingServer runs h; handlers that wait should also return when stop
// is closed, which happens before the server closes.
func blockingServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, stop <-chan struct{})) *httptest.Server {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, stop) }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

// A body that keeps coming, slowly, for longer than the whole-request limit
// connctl used to have (lowered here to 200ms) is read to the end: only a
// stall fails it.
func TestSlowSteadyBodySucceeds(t *testing.T) {
	t.Parallel()
	const chunks = 20
	srv := blockingServer(t, func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		for i := 0; i < chunks; i++ {
			_, _ = w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond): // 400ms in all
			}
		}
	})
	oldTotal := 200 * time.Millisecond
	c := safehttp.SameOrigin(safehttp.New(nil, safehttp.Timeouts{Header: 10 * time.Second, Idle: 10 * time.Second, Call: oldTotal}))
	if c.Timeout != 0 {
		t.Fatalf("a source client has a whole-request limit of %s", c.Timeout)
	}
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(b) != chunks*10 {
		t.Fatalf("read %d bytes, want %d", len(b), chunks*10)
	}
	if time.Since(start) < oldTotal {
		t.Logf("the body came faster than %s; the test proves less than it should", oldTotal)
	}
}

// A server that stops sending in the middle of a body fails the read with
// the idle error, naming the origin and the limit.
func TestStallMidBodyFailsWithIdleError(t *testing.T) {
	t.Parallel()
	srv := blockingServer(t, func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		_, _ = w.Write([]byte(`[{"id":1},`))
		w.(http.Flusher).Flush()
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	c := safehttp.SameOrigin(safehttp.New(nil, safehttp.Timeouts{Idle: 100 * time.Millisecond}))
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	te := safehttp.AsTimeout(err)
	if te == nil || !te.Body {
		t.Fatalf("read %q, err %v; want a body *TimeoutError", b, err)
	}
	want := "the server " + safehttp.Origin(resp.Request.URL) + " sent nothing for 100ms in the middle of its answer (a stalled connection); try again later"
	if err.Error() != want {
		t.Fatalf("error %q\nwant  %q", err, want)
	}
	if string(b) != `[{"id":1},` {
		t.Fatalf("read %q before the stall", b)
	}
}

// A server that accepts the request and never answers fails it with the
// header error.
func TestNoHeadersFailsWithHeaderError(t *testing.T) {
	t.Parallel()
	srv := blockingServer(t, func(_ http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	c := safehttp.SameOrigin(safehttp.New(nil, safehttp.Timeouts{Header: 100 * time.Millisecond}))
	resp, err := get(t, c, srv.URL+"/path?code=secret")
	if err == nil {
		resp.Body.Close()
		t.Fatal("got an answer")
	}
	te := safehttp.AsTimeout(err)
	if te == nil || te.Body {
		t.Fatalf("err %v; want a header *TimeoutError", err)
	}
	if !strings.Contains(te.Error(), "sent no answer within 100ms (no response headers") || strings.Contains(te.Error(), "secret") {
		t.Fatalf("error %q", te)
	}
}

// Reading the body slowly on connctl's side (a slow disk) is not a stall:
// only the time a read waits for the server counts.
func TestSlowReaderIsNotAStall(t *testing.T) {
	t.Parallel()
	srv := blockingServer(t, func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		_, _ = w.Write([]byte("abc"))
	})
	c := safehttp.SameOrigin(safehttp.New(nil, safehttp.Timeouts{Idle: 50 * time.Millisecond}))
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.Sleep(200 * time.Millisecond) // longer than Idle before the first read
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "abc" {
		t.Fatalf("read %q, %v", b, err)
	}
}

// Token, revocation, introspection, key-check and who-am-I calls are small:
// they keep a whole-request limit (Timeouts.Call); source calls do not.
func TestSmallCallsKeepATotalLimit(t *testing.T) {
	t.Parallel()
	base := safehttp.New(nil, safehttp.Timeouts{Call: 7 * time.Second})
	for name, c := range map[string]*http.Client{
		"NoRedirects": safehttp.NoRedirects(base, "token endpoint"),
		"Unfollowed":  safehttp.Unfollowed(base),
		"Call":        safehttp.Call(base),
	} {
		if c.Timeout != 7*time.Second {
			t.Errorf("%s: timeout %s, want 7s", name, c.Timeout)
		}
	}
	if c := safehttp.Call(nil); c.Timeout != safehttp.DefaultCallTimeout {
		t.Errorf("Call(nil): timeout %s, want %s", c.Timeout, safehttp.DefaultCallTimeout)
	}
	for name, c := range map[string]*http.Client{"New": base, "SameOrigin": safehttp.SameOrigin(base), "SameOrigin(nil)": safehttp.SameOrigin(nil)} {
		if c.Timeout != 0 {
			t.Errorf("%s: timeout %s, want none (downloads may be long)", name, c.Timeout)
		}
	}
}

// A small call whose server drips its answer for ever ends at Call.
func TestSmallCallDripEndsAtCallLimit(t *testing.T) {
	t.Parallel()
	srv := blockingServer(t, func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	c := safehttp.NoRedirects(safehttp.New(nil, safehttp.Timeouts{Call: 200 * time.Millisecond}), "token endpoint")
	resp, err := get(t, c, srv.URL)
	if err == nil {
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
	}
	if err == nil {
		t.Fatal("a dripping token endpoint never ended")
	}
}
