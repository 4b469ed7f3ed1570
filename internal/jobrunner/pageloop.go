package jobrunner

import (
	"context"
	"hash/maphash"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// pageLog remembers, for one run, each request answered 2xx and a digest of
// its answer, so that a server that hands out the same next page again (the
// same link, cursor or offset, answered with the same page) ends the run
// instead of looping forever. Every source gets this through HTTP.Do; a
// source that polls the same request on purpose marks it with Poll.
//
// Only a request answered with the same body as before counts: a scroll API
// may send one scroll id for every page, and then the pages differ.
//
// Requests and bodies are kept as 64-bit hashes with a seed drawn for the
// run (hash/maphash), 16 bytes a page (plus the map's own): a run of
// 10,000 pages keeps a few hundred KB, where SHA-256 digests took over a
// megabyte and were most of what a long run's memory grew by. A server
// cannot aim at a collision it cannot
// compute; a chance one (about n²/2⁶⁵ for n pages) would end a run early,
// with the pagination-loop failure, never repeat or drop a record.
type pageLog struct {
	mu   sync.Mutex
	seed maphash.Seed
	seen map[uint64]uint64

	// lastSize is the size of the last body read, the first guess at the
	// next one's when the server does not say (chunked pages).
	lastSize atomic.Int64
}

func newPageLog() *pageLog {
	return &pageLog{seed: maphash.MakeSeed(), seen: map[uint64]uint64{}}
}

type pollKey struct{}

// Poll marks ctx's requests as polls: the same request sent again on
// purpose, such as BigQuery's getQueryResults while the job runs, whose
// identical answers are not a pagination loop.
func Poll(ctx context.Context) context.Context {
	return context.WithValue(ctx, pollKey{}, true)
}

// check records req's answer body and returns a Failure when the same
// request was answered with the same body before in this run.
func (l *pageLog) check(req *http.Request, body []byte, where string) *Failure {
	if l == nil || req.Context().Value(pollKey{}) != nil {
		return nil
	}
	var k maphash.Hash
	k.SetSeed(l.seed)
	_, _ = k.WriteString(req.Method + " " + req.URL.String() + "\n")
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			_, _ = io.Copy(&k, b)
			b.Close()
		}
	} else if req.Body != nil && req.Body != http.NoBody {
		return nil // sent once, cannot be read again: nothing to compare
	}
	key := k.Sum64()
	sum := maphash.Bytes(l.seed, body)
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.seen[key]; ok && prev == sum {
		return &Failure{Reason: ReasonSourceError, Message: "pagination loop: server returned the same next page twice (" + where + "); stopping"}
	}
	l.seen[key] = sum
	return nil
}
