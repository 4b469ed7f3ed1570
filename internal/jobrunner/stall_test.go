package jobrunner_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/safehttp"
)

// A server that stalls in the middle of a page fails the run (after the
// retries) as a network failure that says the server sent nothing, instead
// of hanging: the idle limit of safehttp, lowered here.
func TestStallMidPageFailsTheRun(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"id":1},`))
		w.(http.Flusher).Flush()
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	_, f, err := runHostile(context.Background(), linkSource{start: srv.URL + "/stall"}, safehttp.New(nil, safehttp.Timeouts{Idle: 50 * time.Millisecond}), nil, nil)
	if f == nil || f.Reason != jobrunner.ReasonNetwork || !strings.Contains(f.Message, "read response: the server "+srv.URL+" sent nothing for 50ms") {
		t.Fatalf("run: %v", err)
	}
}
