// Package jobrunnertest holds what the job sources' unit tests share: a
// sleep that records the waits instead of waiting (Waits), a run of a
// source through jobrunner.Run into a throwaway NDJSON file that is read
// back (Run) or straight through its Fetch (Fetch), and the check that an
// error is a classified failure that leaks no secret (Failure).
//
// Only tests import this package; connctl itself never does.
package jobrunnertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// Waits is a sleep for jobrunner.NewHTTP that records each wait and
// returns at once (with the context's error, if any). Safe for concurrent
// use; the zero value is ready.
type Waits struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d and returns ctx.Err().
func (w *Waits) Sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return ctx.Err()
}

// Durations returns the waits recorded so far, in order.
func (w *Waits) Durations() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// Result is what one run of a source gave.
type Result struct {
	Checkpoint string
	Err        error
	Records    []jobrunner.Record // for Run: what the file holds, read back (none when Err != nil)
	Waits      []time.Duration    // the client's waits between attempts
	Stats      *jobrunner.Stats   // the client's counters
}

// Option changes how Run writes and reads back the records.
type Option func(*options)

type options struct {
	path      string
	useNumber bool
}

// File makes Run write to path instead of a fresh file in t.TempDir().
func File(path string) Option { return func(o *options) { o.path = path } }

// UseNumber makes Run read numbers back as json.Number (float64 otherwise).
func UseNumber() Option { return func(o *options) { o.useNumber = true } }

// Run runs src with req through jobrunner.Run into an NDJSON file
// destination and, when the run succeeds, decodes the file's records back.
// When req.HTTP is nil it is set to jobrunner.NewHTTP(client, w.Sleep, nil,
// nil) with a fresh Waits w, whose waits the Result carries; a caller that
// sets req.HTTP itself gets no waits in the Result.
func Run(t testing.TB, src jobrunner.Source, client *http.Client, req jobrunner.Request, opts ...Option) Result {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.path == "" {
		o.path = filepath.Join(t.TempDir(), "out.ndjson")
	}
	dst, err := jobrunner.NewFileDestination(o.path, "ndjson", nil)
	if err != nil {
		t.Fatal(err)
	}
	var w Waits
	if req.HTTP == nil {
		req.HTTP = jobrunner.NewHTTP(client, w.Sleep, nil, nil)
	}
	cp, err := jobrunner.Run(context.Background(), src, req, dst, nil)
	res := Result{Checkpoint: cp, Err: err, Waits: w.Durations(), Stats: req.HTTP.Stats()}
	if err != nil {
		return res
	}
	b, err := os.ReadFile(o.path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if o.useNumber {
		dec.UseNumber()
	}
	for dec.More() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		res.Records = append(res.Records, rec)
	}
	return res
}

// Fetch calls src.Fetch with req directly (no jobrunner.Run, so errors are
// not classified and records keep their Go types) and collects what it
// emits, failed run or not. req.HTTP is filled in as by Run.
func Fetch(src jobrunner.Source, client *http.Client, req jobrunner.Request) Result {
	var w Waits
	if req.HTTP == nil {
		req.HTTP = jobrunner.NewHTTP(client, w.Sleep, nil, nil)
	}
	var res Result
	res.Checkpoint, res.Err = src.Fetch(context.Background(), req, func(r jobrunner.Record) error {
		res.Records = append(res.Records, r)
		return nil
	})
	res.Waits, res.Stats = w.Durations(), req.HTTP.Stats()
	return res
}

// Failure stops the test unless err is a *jobrunner.Failure of reason, and
// fails it when the failure's message contains any of secrets (empty ones
// are skipped) or more than one line. It returns the failure.
func Failure(t testing.TB, err error, reason string, secrets ...string) *jobrunner.Failure {
	t.Helper()
	var f *jobrunner.Failure
	if !errors.As(err, &f) {
		t.Fatalf("err = %#v, want a %s failure", err, reason)
	}
	if f.Reason != reason {
		t.Fatalf("reason %s (%s), want %s", f.Reason, f.Message, reason)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(f.Message, s) {
			t.Errorf("message leaks %q: %q", s, f.Message)
		}
	}
	if strings.Contains(f.Message, "\n") {
		t.Errorf("message spans lines: %q", f.Message)
	}
	return f
}
