package jobrunner

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func pget(t testing.TB, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func ppost(t testing.TB, u, body string) *http.Request {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A scroll API sends one scroll id for pages that differ; when its pages
// come round again, at whatever distance, the run is in a loop.
func TestPageLogLoopAtAnyDistance(t *testing.T) {
	l := newPageLog()
	for i, body := range []string{"X", "Y", "Z"} {
		if f := l.check(pget(t, "https://h/scroll?id=S"), []byte(body), "p"); f != nil {
			t.Fatalf("page %d: %s", i, f.Message)
		}
	}
	if f := l.check(pget(t, "https://h/scroll?id=S"), []byte("X"), "p"); f == nil {
		t.Fatal("the first page again after 3 was not a loop")
	}
}

// The same answer to different requests, and different answers to one,
// are pages; where the request's bytes end and the answer's begin counts.
func TestPageLogDistinguishes(t *testing.T) {
	l := newPageLog()
	for i, c := range []struct {
		req  *http.Request
		body string
	}{
		{pget(t, "https://h/a"), "[]"},
		{pget(t, "https://h/b"), "[]"},
		{ppost(t, "https://h/s", `{"c":1}`), "[]"},
		{ppost(t, "https://h/s", `{"c":2}`), "[]"},
		{ppost(t, "https://h/s", `ab`), "c"},
		{ppost(t, "https://h/s", `a`), "bc"},
		{pget(t, "https://h/a"), "[1]"},
	} {
		if f := l.check(c.req, []byte(c.body), "p"); f != nil {
			t.Fatalf("page %d: %s", i, f.Message)
		}
	}
	if f := l.check(ppost(t, "https://h/s", `{"c":2}`), []byte("[]"), "p"); f == nil {
		t.Fatal("the same POST answered the same was not a loop")
	}
}

// BenchmarkPageLog reports what the log keeps a page over a long run: what
// a 1,000,000-record run's memory grows by over a 100,000-record one.
func BenchmarkPageLog(b *testing.B) {
	const pages = 10000
	body := []byte(strings.Repeat(`{"id":1}`, 100))
	reqs := make([]*http.Request, pages)
	for i := range reqs {
		reqs[i] = pget(b, fmt.Sprintf("https://h/items?page=%d", i))
	}
	var kept uint64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		l := newPageLog()
		for _, r := range reqs {
			if f := l.check(r, body, "p"); f != nil {
				b.Fatal(f.Message)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		kept = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(l)
	}
	b.ReportMetric(float64(kept)/pages, "kept-B/page")
}

func TestHashSet(t *testing.T) {
	var s hashSet
	r := rand.New(rand.NewPCG(1, 2))
	in := map[uint64]bool{}
	for i := 0; i < 50000; i++ {
		h := r.Uint64()
		if i%7 == 0 {
			h &= 0xff // crowd the low slots
		}
		if i == 3 {
			h = 0
		}
		if got, want := s.add(h), !in[max(h, 1)]; got != want {
			t.Fatalf("add(%#x) = %v, want %v", h, got, want)
		}
		in[max(h, 1)] = true
	}
	if s.n != len(in) || s.n*4 > len(s.slots)*3 {
		t.Fatalf("%d in a table of %d, want %d", s.n, len(s.slots), len(in))
	}
}
