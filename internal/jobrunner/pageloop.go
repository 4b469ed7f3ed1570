package jobrunner

import (
	"context"
	"encoding/binary"
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
// Each request and its answer are kept as one 64-bit hash with a seed drawn
// for the run (hash/maphash), in an open-addressed table of them: 8 to 16
// bytes a page, so a run of 10,000 pages keeps 128 KB. (SHA-256 digests took
// over a megabyte, and a Go map from request to body hash 300 KB; both were
// most of what a long run's memory grew by.) A server cannot aim at a collision
// it cannot compute; a chance one (about n²/2⁶⁵ for n pages) would end a run
// early, with the pagination-loop failure, never repeat or drop a record.
type pageLog struct {
	mu   sync.Mutex
	seed maphash.Seed
	seen hashSet

	// lastSize is the size of the last body read, the first guess at the
	// next one's when the server does not say (chunked pages).
	lastSize atomic.Int64

	// spare holds bodies the source gave back (HTTP.Reuse), for the next
	// pages to be read into: two, as a fetch ahead reads one page while
	// the source writes another.
	spare chan []byte
}

func newPageLog() *pageLog {
	return &pageLog{seed: maphash.MakeSeed(), spare: make(chan []byte, 2)}
}

type pollKey struct{}

// Poll marks ctx's requests as polls: the same request sent again on
// purpose, such as BigQuery's getQueryResults while the job runs, whose
// identical answers are not a pagination loop.
func Poll(ctx context.Context) context.Context {
	return context.WithValue(ctx, pollKey{}, true)
}

// check records req's answer body and returns a Failure when the same
// request was answered with the same body before in this run (at any
// earlier page: the set keeps pairs, not the last answer of each request).
func (l *pageLog) check(req *http.Request, body []byte, where string) *Failure {
	if l == nil || req.Context().Value(pollKey{}) != nil {
		return nil
	}
	var k maphash.Hash
	k.SetSeed(l.seed)
	_, _ = k.WriteString(req.Method + " " + req.URL.String() + "\n")
	var sent int64
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			sent, _ = io.Copy(&k, b)
			b.Close()
		}
	} else if req.Body != nil && req.Body != http.NoBody {
		return nil // sent once, cannot be read again: nothing to compare
	}
	// Each body is followed by its length, so that read from the end the
	// bytes hashed split one way only into request and answer.
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(sent))
	_, _ = k.Write(n[:])
	_, _ = k.Write(body)
	binary.LittleEndian.PutUint64(n[:], uint64(len(body)))
	_, _ = k.Write(n[:])
	pair := k.Sum64()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.seen.add(pair) {
		return &Failure{Reason: ReasonSourceError, Message: "pagination loop: server returned the same next page twice (" + where + "); stopping"}
	}
	return nil
}

// hashSet is a set of 64-bit hashes that are already uniformly random:
// linear probing from the hash's low bits, a table at most 3/4 full. Zero
// marks a free slot, so the hash 0 is kept as 1 (one more chance collision
// in 2⁶⁴).
//
// The table starts at minSlots (128 KiB) and doubles only past 12,288 pages
// (1,228,800 records at 100 a page): a run's memory then does not grow with
// its pages up to there (a 1,000,000-record run peaked 0.4 MiB above a
// 100,000-record one while the table doubled from 64 slots on, the tables
// left behind included), and beyond it grows by 13 bytes a page.
type hashSet struct {
	slots []uint64
	n     int
}

// add puts h in the set and reports whether it was new.
func (s *hashSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			s.slots[i] = h
			s.n++
			return true
		}
	}
}

const minSlots = 16384

func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(minSlots, 2*len(old)))
	mask := uint64(len(s.slots) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}
