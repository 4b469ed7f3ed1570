package jobrunner

import (
	"context"
	"time"
)

// Partial is what a Source returns as its error when it stopped early on
// purpose and what it emitted so far is complete up to the checkpoint it
// returns with it: a vendor's hourly query budget is spent, say, and waiting
// for the next hour would hold the run (and its lock) for up to an hour.
// Run keeps the output and returns the checkpoint together with the
// *Partial; the caller saves the checkpoint and records a partially
// succeeded run, which the next run resumes.
type Partial struct {
	Reason  string // why the source stopped, as a failure reason (rate_limit)
	Message string // one line, no secret
}

// Error returns the message.
func (p *Partial) Error() string { return p.Message }

// Sleep waits for d with the client's sleep (the injected one in tests), for
// a source that paces its own requests.
func (h *HTTP) Sleep(ctx context.Context, d time.Duration) error { return h.sleep(ctx, d) }
