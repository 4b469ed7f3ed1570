package jobrunner_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/jobrunner"
)

// partialSource emits two records and stops early on purpose.
type partialSource struct{}

func (partialSource) Fetch(_ context.Context, _ jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	for i := range 2 {
		if err := emit(small(i)); err != nil {
			return "", err
		}
	}
	return "2024-03-01", &jobrunner.Partial{Reason: jobrunner.ReasonRateLimit, Message: "budget spent"}
}

// A source's *Partial keeps the output and the checkpoint: the file is
// committed and Run returns both.
func TestRunPartialCommitsAndReturnsCheckpoint(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.ndjson")
	dst, err := jobrunner.NewFileDestination(path, "ndjson", nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := jobrunner.Run(context.Background(), partialSource{}, request(), dst, nil)
	var p *jobrunner.Partial
	if !errors.As(err, &p) || p.Reason != jobrunner.ReasonRateLimit || cp != "2024-03-01" {
		t.Fatalf("checkpoint %q, err %v", cp, err)
	}
	if got := read(t, path); strings.Count(got, "\n") != 2 {
		t.Errorf("file %q, want the two records", got)
	}
}

// A cancelled run is cancelled even when the source said partial.
func TestRunPartialAfterCancelIsCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dst, err := jobrunner.NewFileDestination(filepath.Join(dir, "out.ndjson"), "ndjson", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = jobrunner.Run(ctx, partialSource{}, request(), dst, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if e := entries(t, dir); len(e) != 0 {
		t.Errorf("left %v", e)
	}
}
