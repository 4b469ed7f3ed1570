package jobrunner

import (
	"context"
	"crypto/sha256"
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
type pageLog struct {
	mu   sync.Mutex
	seen map[[sha256.Size]byte][sha256.Size]byte

	// lastSize is the size of the last body read, the first guess at the
	// next one's when the server does not say (chunked pages).
	lastSize atomic.Int64
}

func newPageLog() *pageLog {
	return &pageLog{seen: map[[sha256.Size]byte][sha256.Size]byte{}}
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
	k := sha256.New()
	_, _ = io.WriteString(k, req.Method+" "+req.URL.String()+"\n")
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			_, _ = io.Copy(k, b)
			b.Close()
		}
	} else if req.Body != nil && req.Body != http.NoBody {
		return nil // sent once, cannot be read again: nothing to compare
	}
	var key [sha256.Size]byte
	k.Sum(key[:0])
	sum := sha256.Sum256(body)
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.seen[key]; ok && prev == sum {
		return &Failure{Reason: ReasonSourceError, Message: "pagination loop: server returned the same next page twice (" + where + "); stopping"}
	}
	l.seen[key] = sum
	return nil
}
