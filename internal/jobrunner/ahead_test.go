package jobrunner_test

import (
	"context"
	"errors"
	"testing"

	"github.com/connctl/connctl/internal/jobrunner"
)

func TestFetchAheadWait(t *testing.T) {
	t.Parallel()
	a := jobrunner.FetchAhead(t.Context(), func(context.Context) (int, error) { return 7, nil })
	if v, err := a.Wait(); v != 7 || err != nil {
		t.Fatalf("Wait() = %d, %v", v, err)
	}
	a.Stop() // after Wait: nothing to do
	var none *jobrunner.Ahead[int]
	none.Stop()
}

func TestFetchAheadStopCancelsAndWaits(t *testing.T) {
	t.Parallel()
	started, ended := make(chan struct{}), false
	a := jobrunner.FetchAhead(t.Context(), func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		ended = true
		return 0, ctx.Err()
	})
	<-started
	a.Stop()
	if !ended {
		t.Fatal("Stop returned before the fetch ended")
	}
}

func TestFetchAheadOnDoneContextStartsNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	a := jobrunner.FetchAhead(ctx, func(context.Context) (int, error) {
		t.Error("fetch started on a cancelled context")
		return 0, nil
	})
	if _, err := a.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() error %v, want context.Canceled", err)
	}
}
