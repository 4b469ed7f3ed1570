package jobrunnertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

// pages is a source that GETs its server once and emits the JSON array it
// answers, then fails with fail when that is set.
type pages struct{ url, fail string }

func (p pages) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return "", err
	}
	_, _, body, err := req.HTTP.Do(ctx, r)
	if err != nil {
		return "", err
	}
	var recs []jobrunner.Record
	if err := json.Unmarshal(body, &recs); err != nil {
		return "", err
	}
	for _, rec := range recs {
		if err := emit(rec); err != nil {
			return "", err
		}
	}
	if p.fail != "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: p.fail}
	}
	return "cp-" + req.Since, nil
}

// server answers 429 with Retry-After: 7 once, then two records.
func server(t *testing.T) *httptest.Server {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `[{"id":12345678901},{"id":2,"name":"b"}]`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunReadsBackTheRecordsAndTheWaits(t *testing.T) {
	t.Parallel()
	srv := server(t)
	res := jobrunnertest.Run(t, pages{url: srv.URL}, srv.Client(), jobrunner.Request{Since: "s"})
	if res.Err != nil || res.Checkpoint != "cp-s" {
		t.Fatalf("checkpoint %q, err %v", res.Checkpoint, res.Err)
	}
	if len(res.Records) != 2 || res.Records[0]["id"] != 12345678901.0 || res.Records[1]["name"] != "b" {
		t.Errorf("records %v", res.Records)
	}
	if !slices.Equal(res.Waits, []time.Duration{7 * time.Second}) {
		t.Errorf("waits %v", res.Waits)
	}
	if res.Stats.Records.Load() != 2 || res.Stats.Retries.Load() != 1 {
		t.Errorf("records %d, retries %d", res.Stats.Records.Load(), res.Stats.Retries.Load())
	}
}

func TestRunOptionsAndFailedRun(t *testing.T) {
	t.Parallel()
	srv := server(t)
	path := filepath.Join(t.TempDir(), "x", "out.ndjson")
	res := jobrunnertest.Run(t, pages{url: srv.URL}, srv.Client(), jobrunner.Request{}, jobrunnertest.File(path), jobrunnertest.UseNumber())
	if res.Err != nil || len(res.Records) != 2 || res.Records[0]["id"] != json.Number("12345678901") {
		t.Fatalf("records %v, err %v", res.Records, res.Err)
	}
	if b, err := os.ReadFile(path); err != nil || strings.Count(string(b), "\n") != 2 {
		t.Errorf("file %q, %v", b, err)
	}

	res = jobrunnertest.Run(t, pages{url: srv.URL, fail: "boom"}, srv.Client(), jobrunner.Request{})
	if f := jobrunnertest.Failure(t, res.Err, jobrunner.ReasonSourceError, "secret"); f.Message != "boom" {
		t.Errorf("message %q", f.Message)
	}
	if res.Records != nil || res.Checkpoint != "" {
		t.Errorf("records %v, checkpoint %q after a failed run", res.Records, res.Checkpoint)
	}
}

func TestFetchKeepsWhatWasEmittedBeforeAFailure(t *testing.T) {
	t.Parallel()
	srv := server(t)
	res := jobrunnertest.Fetch(pages{url: srv.URL, fail: "boom"}, srv.Client(), jobrunner.Request{})
	var f *jobrunner.Failure
	if !errors.As(res.Err, &f) || len(res.Records) != 2 || len(res.Waits) != 1 {
		t.Fatalf("err %v, records %v, waits %v", res.Err, res.Records, res.Waits)
	}
}

// recorder is a testing.TB that notes what Failure reports; Fatalf ends
// the goroutine, as testing's does.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func check(err error, reason string, secrets ...string) []string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		jobrunnertest.Failure(r, err, reason, secrets...)
	}()
	<-done
	return r.msgs
}

func TestFailure(t *testing.T) {
	t.Parallel()
	auth := &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "401 from GET /x"}
	for _, c := range []struct {
		name    string
		err     error
		secrets []string
		want    string // in the one message reported; "" for none
	}{
		{"matches", fmt.Errorf("wrapped: %w", auth), []string{"tok-1", ""}, ""},
		{"not a failure", errors.New("plain"), nil, "want a auth failure"},
		{"other reason", &jobrunner.Failure{Reason: jobrunner.ReasonNetwork, Message: "m"}, nil, "reason network (m), want auth"},
		{"leak", auth, []string{"tok-1", "GET"}, `message leaks "GET"`},
		{"two lines", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "a\nb"}, nil, "spans lines"},
	} {
		msgs := check(c.err, jobrunner.ReasonAuth, c.secrets...)
		if c.want == "" && len(msgs) != 0 || c.want != "" && (len(msgs) != 1 || !strings.Contains(msgs[0], c.want)) {
			t.Errorf("%s: reported %q, want %q", c.name, msgs, c.want)
		}
	}
}
