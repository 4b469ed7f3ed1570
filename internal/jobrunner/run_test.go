package jobrunner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// fakeSource emits n records made by record, calling onEmit after each; with
// failAt > 0 it returns err instead of emitting record failAt.
type fakeSource struct {
	n       int
	err     error
	record  func(i int) jobrunner.Record
	onEmit  func(i int)
	failAt  int // emit this many, then fail with err (0: all, then err)
	ckpoint string
}

func (s *fakeSource) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	for i := range s.n {
		if s.failAt > 0 && i == s.failAt {
			return "", s.err
		}
		if err := emit(s.record(i)); err != nil {
			return "", err
		}
		if s.onEmit != nil {
			s.onEmit(i)
		}
	}
	if s.failAt == 0 && s.err != nil {
		return "", s.err
	}
	return s.ckpoint, nil
}

func small(i int) jobrunner.Record {
	return jobrunner.Record{"id": i, "name": "n"}
}

func noSleep(context.Context, time.Duration) error { return nil }

func request() jobrunner.Request {
	return jobrunner.Request{HTTP: jobrunner.NewHTTP(nil, noSleep, new(jobrunner.Stats), nil)}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestRunWritesFileAndReturnsCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "out", "tickets.ndjson")
	dst, err := jobrunner.NewFileDestination(path, "ndjson", nil)
	if err != nil {
		t.Fatal(err)
	}
	req := request()
	src := &fakeSource{n: 3, record: func(i int) jobrunner.Record {
		return jobrunner.Record{"id": i, "tags": []any{"a<b"}}
	}, ckpoint: "2026-01-02T03:04:05Z"}
	cp, err := jobrunner.Run(context.Background(), src, req, dst, nil)
	if err != nil || cp != "2026-01-02T03:04:05Z" {
		t.Fatalf("Run = %q, %v", cp, err)
	}
	want := `{"id":0,"tags":["a<b"]}
{"id":1,"tags":["a<b"]}
{"id":2,"tags":["a<b"]}
`
	if got := read(t, path); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if got := req.HTTP.Stats().Records.Load(); got != 3 {
		t.Errorf("records = %d", got)
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(filepath.Dir(path))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes: file %v, dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	if names := entries(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("left behind: %v", names)
	}
}

func TestRunFailureLeavesOldFileUntouched(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    error
		reason string
	}{
		{"failure", &jobrunner.Failure{Reason: jobrunner.ReasonNetwork, Message: "GET h/p: reset"}, jobrunner.ReasonNetwork},
		{"wrapped failure", fmt.Errorf("page 3: %w", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "401"}), jobrunner.ReasonAuth},
		{"plain error", errors.New("bad ticket"), jobrunner.ReasonSourceError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "t.ndjson")
			if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			dst, err := jobrunner.NewFileDestination(path, "ndjson", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = jobrunner.Run(context.Background(), &fakeSource{n: 200000, failAt: 150000, err: tc.err, record: small}, request(), dst, nil)
			var f *jobrunner.Failure
			if !errors.As(err, &f) || f.Reason != tc.reason {
				t.Fatalf("err = %#v, want reason %s", err, tc.reason)
			}
			if got := read(t, path); got != "old\n" {
				t.Errorf("file changed: %d bytes", len(got))
			}
			if names := entries(t, dir); len(names) != 1 {
				t.Errorf("left behind: %v", names)
			}
		})
	}
}

func TestRunCancelledAbortsAndReturnsCtxErr(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	dst, err := jobrunner.NewFileDestination(path, "csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &fakeSource{n: 100, record: small, onEmit: func(i int) {
		if i == 10 {
			cancel()
		}
	}}
	if _, err := jobrunner.Run(ctx, src, request(), dst, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Errorf("left behind: %v", names)
	}
}

type failingDest struct{ aborted bool }

func (d *failingDest) Write(jobrunner.Record) error { return errors.New("disk full") }
func (d *failingDest) Commit() error                { return nil }
func (d *failingDest) Abort()                       { d.aborted = true }

func TestRunDestinationErrorIsDestinationFailure(t *testing.T) {
	t.Parallel()
	dst := &failingDest{}
	_, err := jobrunner.Run(context.Background(), &fakeSource{n: 1, record: small}, request(), dst, nil)
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonDestination || f.Message != "write output: disk full" || !dst.aborted {
		t.Fatalf("err = %#v, aborted %v", err, dst.aborted)
	}
}

func TestStreamDestinationCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	dst := jobrunner.NewStreamDestination(&buf, "csv", nil)
	for _, r := range []jobrunner.Record{
		{"id": 1, "subject": "Hi, there", "tags": []any{"a", "b"}, "custom": map[string]any{"x": 1.5}, "spam": false, "group_id": nil},
		{"id": 2.0, "subject": "line\nbreak", "extra": "dropped"},
	} {
		if err := dst.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("wrote before Commit: %q", buf.String())
	}
	if err := dst.Commit(); err != nil {
		t.Fatal(err)
	}
	want := "custom,group_id,id,spam,subject,tags\n" +
		`"{""x"":1.5}",,1,false,"Hi, there","[""a"",""b""]"` + "\n" +
		",,2,,\"line\nbreak\",\n"
	if buf.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestStreamDestinationAbortWritesNothingMore(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	dst := jobrunner.NewStreamDestination(&buf, "ndjson", []string{"id"})
	_ = dst.Write(jobrunner.Record{"id": 1})
	dst.Abort()
	dst.Abort()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
	if err := jobrunner.NewStreamDestination(&buf, "xml", nil).Write(jobrunner.Record{}); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := jobrunner.NewFileDestination(filepath.Join(t.TempDir(), "x"), "xml", nil); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestCSVHeaderOnlyWhenNoRecordsAndColumnsGiven(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	dst := jobrunner.NewStreamDestination(&buf, "csv", []string{"id", "updated_at"})
	if err := dst.Commit(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "id,updated_at\n" {
		t.Errorf("got %q", buf.String())
	}
}

// TestRunStreamsWithFlatMemory pushes 1,000,000 records through Run into a
// file and samples the heap while it runs: records are written as they come,
// so the heap must not grow with the record count.
//
// Not parallel, so other tests' allocations do not blur the measure.
func TestRunStreamsWithFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 records")
	}
	const n = 1_000_000
	path := filepath.Join(t.TempDir(), "big.ndjson")
	dst, err := jobrunner.NewFileDestination(path, "ndjson", nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, m runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak uint64
	src := &fakeSource{n: n, ckpoint: "x", record: func(i int) jobrunner.Record {
		return jobrunner.Record{"id": i, "subject": "ticket subject", "status": 2, "updated_at": "2026-01-01T00:00:00Z"}
	}, onEmit: func(i int) {
		if i%50_000 == 0 {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
	}}
	if _, err := jobrunner.Run(context.Background(), src, request(), dst, nil); err != nil {
		t.Fatal(err)
	}
	growth := int64(peak) - int64(before.HeapAlloc)
	t.Logf("heap: before %d KiB, peak %d KiB, growth %d KiB", before.HeapAlloc>>10, peak>>10, growth>>10)
	if growth > 64<<20 {
		t.Errorf("heap grew by %d MiB streaming %d records", growth>>20, n)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(read(t, path), "\n"); lines != n {
		t.Errorf("%d lines (%d bytes), want %d", lines, fi.Size(), n)
	}
}
