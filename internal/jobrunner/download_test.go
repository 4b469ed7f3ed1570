package jobrunner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func download(t *testing.T, h *HTTP, u string, w io.Writer) (int64, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.Download(context.Background(), req, w)
}

// A body far over the body cap streams through; the retries before it are
// counted as for Do, and the page and its bytes once.
func TestDownloadStreamsPastTheBodyCapAfterRetries(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789", 1000)
	srv, n := serve(t, status(503), status(429, "Retry-After", "3"), ok(big))
	var s sleeps
	stats := new(Stats)
	h := NewHTTP(srv.Client(), s.sleep, stats, nil)
	h.maxBody = 64 // error bodies are read under the cap; the object is not
	var out bytes.Buffer
	got, err := download(t, h, srv.URL+"/bucket/key", &out)
	if err != nil || got != int64(len(big)) || out.String() != big {
		t.Fatalf("Download = %d, %v; wrote %d bytes", got, err, out.Len())
	}
	if n.Load() != 3 || len(s.waits) != 2 || s.waits[1] != 3*time.Second {
		t.Errorf("%d requests, waits %v", n.Load(), s.waits)
	}
	if stats.Pages.Load() != 1 || stats.Bytes.Load() != int64(len(big)) || stats.Retries.Load() != 2 {
		t.Errorf("stats pages %d bytes %d retries %d", stats.Pages.Load(), stats.Bytes.Load(), stats.Retries.Load())
	}
}

func TestDownloadClassifiesLikeDo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer   func(http.ResponseWriter, *http.Request)
		reason   string
		requests int64
	}{
		{status(403), ReasonAuth, 1},
		{status(404), ReasonConfig, 1},
		{status(500), ReasonSourceError, 5},
		{status(429), ReasonRateLimit, 5},
	} {
		srv, n := serve(t, tc.answer)
		var out bytes.Buffer
		_, err := download(t, NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil), srv.URL+"/k?X-Amz-Signature=secret", &out)
		var f *Failure
		if !errors.As(err, &f) || f.Reason != tc.reason || n.Load() != tc.requests {
			t.Errorf("err = %#v after %d requests, want %s after %d", err, n.Load(), tc.reason, tc.requests)
			continue
		}
		if out.Len() != 0 || strings.Contains(f.Message, "secret") || strings.Contains(f.Message, "description") {
			t.Errorf("wrote %q; message %q", out.String(), f.Message)
		}
	}
}

// A body that breaks off midway is not sent again: w already holds part of it.
func TestDownloadBrokenBodyIsNotRetried(t *testing.T) {
	t.Parallel()
	srv, n := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, "only part")
	})
	var s sleeps
	var out bytes.Buffer
	got, err := download(t, NewHTTP(srv.Client(), s.sleep, nil, nil), srv.URL, &out)
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonNetwork || got != 9 || n.Load() != 1 || len(s.waits) != 0 {
		t.Fatalf("Download = %d, %#v after %d requests, waits %v", got, err, n.Load(), s.waits)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestDownloadWriteErrorIsDestination(t *testing.T) {
	t.Parallel()
	srv, n := serve(t, ok("data"))
	_, err := download(t, NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil), srv.URL, failWriter{})
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonDestination || !strings.Contains(f.Message, "disk full") || n.Load() != 1 {
		t.Fatalf("err = %#v after %d requests", err, n.Load())
	}
}

// WithExplain rewrites what is reported, for Do and Download alike, and
// leaves retrying to the status and the throttle.
func TestWithExplainRewritesTheFailure(t *testing.T) {
	t.Parallel()
	s3err := func(st int, code string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(st)
			_, _ = io.WriteString(w, "<Error><Code>"+code+"</Code></Error>")
		}
	}
	var seen []string
	explain := func(st int, body []byte, _ http.Header, f *Failure) *Failure {
		seen = append(seen, string(body))
		if strings.Contains(string(body), "RequestTimeTooSkewed") {
			return &Failure{Reason: ReasonConfig, Message: f.Message + " (RequestTimeTooSkewed)"}
		}
		return nil
	}
	srv, n := serve(t, s3err(403, "RequestTimeTooSkewed"))
	base := NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil)
	h := base.WithExplain(explain)
	_, _, _, err := h.Do(context.Background(), mustGet(t, srv.URL))
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonConfig || !strings.HasSuffix(f.Message, "403 forbidden (RequestTimeTooSkewed)") || n.Load() != 1 {
		t.Fatalf("Do: err = %#v after %d requests", err, n.Load())
	}
	if _, err := h.Download(context.Background(), mustGet(t, srv.URL), io.Discard); !errors.As(err, &f) || f.Reason != ReasonConfig {
		t.Fatalf("Download: err = %#v", err)
	}
	// nil keeps Do's own failure; the 5xx is still retried.
	srv2, n2 := serve(t, s3err(500, "InternalError"))
	_, _, _, err = NewHTTP(srv2.Client(), (&sleeps{}).sleep, nil, nil).WithExplain(explain).Do(context.Background(), mustGet(t, srv2.URL))
	if !errors.As(err, &f) || f.Reason != ReasonSourceError || n2.Load() != 5 {
		t.Fatalf("err = %#v after %d requests", err, n2.Load())
	}
	if len(seen) != 7 || seen[0] != "<Error><Code>RequestTimeTooSkewed</Code></Error>" {
		t.Errorf("explain saw %q", seen)
	}
	// The original client is unchanged.
	if _, _, _, err := base.Do(context.Background(), mustGet(t, srv.URL)); !errors.As(err, &f) || f.Reason != ReasonAuth {
		t.Errorf("base: err = %#v", err)
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
