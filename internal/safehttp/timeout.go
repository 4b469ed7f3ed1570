package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// The default limits of a client from New (see Timeouts).
const (
	DefaultHeaderTimeout = 60 * time.Second
	DefaultIdleTimeout   = 60 * time.Second
	DefaultCallTimeout   = 60 * time.Second
)

// Timeouts bound a request in phases rather than as a whole, so that a
// large download over a slow link (an S3 object, a Mixpanel export) is not
// cut while it keeps sending, yet a server that stops answering is. A run
// as a whole is bounded by its own limit (jobs run --timeout). A zero field
// takes its default.
type Timeouts struct {
	// Header bounds the time from sending a request to its response
	// headers: DNS, connect, TLS and the server's think time.
	Header time.Duration
	// Idle bounds how long a read of the body may wait for its next byte.
	Idle time.Duration
	// Call bounds a whole small request, body included: token, revocation
	// and introspection endpoints (NoRedirects), key checks (Unfollowed),
	// who-am-I and discovery (Call).
	Call time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Header <= 0 {
		t.Header = DefaultHeaderTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
	if t.Call <= 0 {
		t.Call = DefaultCallTimeout
	}
	return t
}

// TimeoutError is a request that stopped because the server did not
// answer, or stopped sending, in time. Its message is one line naming the
// origin, never a path or query.
type TimeoutError struct {
	Origin string        // scheme://host:port
	Body   bool          // the answer stalled mid-body (else: no headers came)
	After  time.Duration // the limit that was reached
}

func (e *TimeoutError) Error() string {
	if e.Body {
		return fmt.Sprintf("the server %s sent nothing for %s in the middle of its answer (a stalled connection); try again later", e.Origin, e.After)
	}
	return fmt.Sprintf("the server %s sent no answer within %s (no response headers: the server or the network is not responding); try again later", e.Origin, e.After)
}

// Timeout reports true, as net.Error does for a timeout.
func (e *TimeoutError) Timeout() bool { return true }

// AsTimeout returns the *TimeoutError inside err, or nil.
func AsTimeout(err error) *TimeoutError {
	var te *TimeoutError
	if errors.As(err, &te) {
		return te
	}
	return nil
}

// bounded sets c's whole-request limit from its guard (or the default),
// unless c has one already.
func bounded(c *http.Client) *http.Client {
	if c.Timeout > 0 {
		return c
	}
	c.Timeout = DefaultCallTimeout
	if g, ok := c.Transport.(*guard); ok {
		c.Timeout = g.t.Call
	}
	return c
}

// guard is the transport of a client from New: it fails a request whose
// response headers do not come within t.Header, and a body read that waits
// longer than t.Idle for a byte. Both cancel the request's context with a
// *TimeoutError as the cause, which the transport then unblocks on.
type guard struct {
	base http.RoundTripper
	t    Timeouts
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	base := g.base
	if base == nil {
		base = http.DefaultTransport
	}
	origin := Origin(req.URL)
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(g.t.Header, func() { cancel(&TimeoutError{Origin: origin, After: g.t.Header}) })
	resp, err := base.RoundTrip(req.WithContext(ctx))
	timer.Stop()
	if err != nil {
		te := AsTimeout(context.Cause(ctx))
		cancel(nil)
		if te != nil {
			return nil, te
		}
		return nil, err
	}
	b := &idleBody{rc: resp.Body, ctx: ctx, cancel: cancel, idle: g.t.Idle}
	b.timer = time.AfterFunc(g.t.Idle, func() { cancel(&TimeoutError{Origin: origin, Body: true, After: g.t.Idle}) })
	b.timer.Stop()
	resp.Body = b
	return resp, nil
}

// idleBody fails a read that waits longer than idle for data. Only the
// time spent inside Read counts: a caller that is slow to ask for the next
// bytes (a slow disk) is not the server stalling.
type idleBody struct {
	rc     io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
	timer  *time.Timer
	once   sync.Once
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.idle)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	if err != nil && !errors.Is(err, io.EOF) {
		if te := AsTimeout(context.Cause(b.ctx)); te != nil {
			return n, te
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		b.timer.Stop()
		b.cancel(nil)
	})
	return err
}
