package freshdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// BenchmarkFreshdeskRun measures a whole run, Run + the tickets source +
// an NDJSON file destination, against a local server that serves 100 pages
// of 100 tickets (about 0.8 KB each) from memory with Link headers. It
// reports records/s.
func BenchmarkFreshdeskRun(b *testing.B) {
	const pages, per = 100, 100
	bodies := make([][]byte, pages)
	for p := range pages {
		page := make([]map[string]any, per)
		for i := range page {
			n := p*per + i
			page[i] = ticket(n+1, epoch.Add(time.Duration(n)*time.Second))
		}
		bodies[p], _ = json.Marshal(page)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		p = max(p, 1)
		if p < pages {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(p+1))
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v2/tickets?%s>; rel="next"`, r.Host, q.Encode()))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodies[p-1])
	}))
	defer srv.Close()

	dir := b.TempDir()
	src := TicketsSource()
	var records int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		dst, err := jobrunner.NewFileDestination(filepath.Join(dir, "tickets.ndjson"), "ndjson", nil)
		if err != nil {
			b.Fatal(err)
		}
		stats := new(jobrunner.Stats)
		req := jobrunner.Request{
			Fields:  map[string]string{"base_url": srv.URL},
			Secrets: map[string]string{"api_key": testKey},
			HTTP:    jobrunner.NewHTTP(srv.Client(), jobrunner.Sleep, stats, nil),
		}
		if _, err := jobrunner.Run(context.Background(), src, req, dst, nil); err != nil {
			b.Fatal(err)
		}
		records += stats.Records.Load()
	}
	b.ReportMetric(float64(records)/time.Since(start).Seconds(), "records/s")
}
