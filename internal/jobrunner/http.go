package jobrunner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/connctl/connctl/internal/safehttp"
	"github.com/connctl/connctl/internal/textsafe"
)

// Retry policy. maxBody is a field of HTTP so tests can lower it.
const (
	maxAttempts   = 5
	backoffBase   = time.Second
	backoffCap    = 60 * time.Second
	retryAfterCap = 5 * time.Minute
	maxBody       = 64 << 20
)

// HTTP is the retrying client sources use for every request. It is safe for
// concurrent use when its *http.Client is.
type HTTP struct {
	client   *http.Client
	sleep    func(context.Context, time.Duration) error
	stats    *Stats
	throttle func(status int, body []byte, h http.Header) (bool, time.Duration)
	explain  func(status int, body []byte, h http.Header, f *Failure) *Failure

	now        func() time.Time // for Retry-After dates
	maxBody    int64
	beforeSend func()   // set by Run on its own copy: reports progress
	beforeWait func()   // set by Run on its own copy: reports a wait (Stats.WaitUntil)
	pages      *pageLog // set by Run on its own copy: one run's pages, for loop detection
}

// NewHTTP returns a retrying client. c carries the timeouts (set by the
// caller; nil: safehttp.New defaults), and whatever its own redirect
// policy, redirects are followed only within the origin (safehttp.SameOrigin);
// sleep waits between attempts (production: Sleep; tests record the
// waits instead); stats receives the counters (nil: a private Stats);
// throttle, when non-nil, recognises a vendor's throttle signal beyond 429
// and 5xx (Salesforce 403 REQUEST_LIMIT_EXCEEDED, S3 503 SlowDown) and says
// whether to retry and how long to wait (0: the usual backoff).
func NewHTTP(c *http.Client, sleep func(context.Context, time.Duration) error, stats *Stats, throttle func(status int, body []byte, h http.Header) (bool, time.Duration)) *HTTP {
	c = safehttp.SameOrigin(c) // whatever the caller passed: no key follows a redirect elsewhere
	if sleep == nil {
		sleep = Sleep
	}
	if stats == nil {
		stats = new(Stats)
	}
	return &HTTP{client: c, sleep: sleep, stats: stats, throttle: throttle, now: time.Now, maxBody: maxBody}
}

// Stats returns the counters the client adds to.
func (h *HTTP) Stats() *Stats { return h.stats }

// WithThrottle returns a copy of h that recognises throttle signals with
// throttle (see NewHTTP) instead of h's. The copy shares h's connection
// pool, sleep, counters and progress reporting, so a source can add its
// vendor's signal to the client a run hands it.
func (h *HTTP) WithThrottle(throttle func(status int, body []byte, h http.Header) (bool, time.Duration)) *HTTP {
	c := *h
	c.throttle = throttle
	return &c
}

// NoRedirects returns a copy of h (same sleep, stats, throttle, explain and
// progress hook) whose requests follow no redirect at all, not even within
// the origin: for token endpoints (a service account's JWT exchange), whose
// request bodies carry credentials that a 307 would send on. what names the
// endpoint in the error.
func (h *HTTP) NoRedirects(what string) *HTTP {
	c := *h
	c.client = safehttp.NoRedirects(h.client, what)
	return &c
}

// WithExplain returns a copy of h (same client, sleep, stats, throttle and
// progress hook) that passes every error answer through explain: given the
// status, the body (as read, at most the body cap), the header and the
// Failure that Do would report, explain returns the Failure to report
// instead, or nil to keep it. It lets a source classify by the vendor's
// error code (S3's NoSuchBucket is config, its 403 RequestTimeTooSkewed is
// not auth) and name the code in the message. It changes what is reported,
// not whether the request is retried: that is for the status and throttle.
// The message explain returns must hold no secret; the body may.
func (h *HTTP) WithExplain(explain func(status int, body []byte, h http.Header, f *Failure) *Failure) *HTTP {
	c := *h
	c.explain = explain
	return &c
}

// Do sends req and reads the whole body (at most 64 MiB; a larger body is a
// source_error Failure). The request is rebuilt for every attempt, with a
// body from req.GetBody or none. It retries 429, 5xx, throttle hits and
// transport errors, up to 5 attempts, waiting by exponential backoff with
// jitter (1 s base, 60 s cap) or as Retry-After says (seconds or an HTTP
// date); a wait over 5 minutes, or past ctx's deadline, is not waited: the
// request fails at once with a message that says when to try again. The
// same request answered with the same page twice in one run is a
// pagination loop (see Poll). A 2xx answer counts one page and its bytes, and
// is returned with its status; any other final outcome is a *Failure:
// 401 and 403 auth (403 unless throttle says retry), 404 config, other 4xx
// and exhausted 5xx source_error, exhausted 429 or throttle rate_limit,
// transport network. With a Failure for an answer, Do also returns that
// (last) answer's status, header and body, so that a source can read the
// vendor's error code; the Failure's message never carries the body.
// Cancellation returns ctx.Err().
func (h *HTTP) Do(ctx context.Context, req *http.Request) (int, http.Header, []byte, error) {
	var body []byte
	a, err := h.send(ctx, req, func(resp *http.Response, where string) (int64, *Failure, bool) {
		b, err := h.readBody(resp)
		if err != nil {
			return 0, &Failure{Reason: ReasonNetwork, Message: where + ": read response: " + oneLine(err.Error())}, true
		}
		if int64(len(b)) > h.maxBody {
			return 0, &Failure{Reason: ReasonSourceError, Message: fmt.Sprintf("%s: response larger than %d MiB", where, h.maxBody>>20)}, false
		}
		if f := h.pages.check(req, b, where); f != nil {
			return 0, f, false
		}
		body = b
		return int64(len(b)), nil, false
	})
	if err != nil {
		return a.Status, a.Header, a.Body, err
	}
	return a.Status, a.Header, body, nil
}

// Download sends req and streams a 2xx body into w, never holding it in
// memory; it returns the number of bytes written. Retries, waits,
// classification and Stats are as for Do (a 2xx answer counts one page and
// the bytes written), with two differences: the body has no size cap, and a
// body that breaks off after some of it was written to w is a network
// Failure that is not retried, because w already holds part of it (the
// caller discards w). A write error is a destination Failure. The error
// body of a non-2xx answer is read as Do reads it, for throttle and explain.
func (h *HTTP) Download(ctx context.Context, req *http.Request, w io.Writer) (int64, error) {
	var written int64
	_, err := h.send(ctx, req, func(resp *http.Response, where string) (int64, *Failure, bool) {
		cw := &countingWriter{w: w}
		_, err := io.Copy(cw, resp.Body)
		written = cw.n
		switch {
		case cw.err != nil:
			return cw.n, &Failure{Reason: ReasonDestination, Message: where + ": write: " + oneLine(cw.err.Error())}, false
		case err != nil:
			return cw.n, &Failure{Reason: ReasonNetwork, Message: where + ": read response: " + oneLine(err.Error())}, cw.n == 0
		}
		return cw.n, nil, false
	})
	if err != nil {
		return written, err
	}
	return written, nil
}

// readBody reads a 2xx answer's body, at most maxBody+1 bytes, into a
// buffer sized from Content-Length, or else from the run's last page, so
// that a page is read without growing and copying its buffer over and over.
func (h *HTTP) readBody(resp *http.Response) ([]byte, error) {
	size := resp.ContentLength
	if size < 0 && h.pages != nil {
		size = h.pages.lastSize.Load() + h.pages.lastSize.Load()/8
	}
	size = min(max(size, 0), h.maxBody) + bytes.MinRead
	var b []byte
	if h.pages != nil {
		select {
		case b = <-h.pages.spare:
		default:
		}
	}
	if int64(cap(b)) < size {
		b = make([]byte, 0, size)
	}
	buf := bytes.NewBuffer(b[:0])
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, h.maxBody+1))
	if h.pages != nil {
		h.pages.lastSize.Store(int64(buf.Len()))
	}
	return buf.Bytes(), err
}

// Reuse gives back a body Do returned, once the caller is done with it and
// keeps nothing that points into it (DecodePage's records and rest do not:
// they are copies), so that a later page of the run is read into it
// instead of into new memory. A paging source reads a page of 20 KB or
// more a request: without reuse, bodies were two thirds of the bytes a run
// allocates, and the collector ran every few pages. Reuse outside a run,
// or of more bodies than the run keeps, does nothing.
func (h *HTTP) Reuse(body []byte) {
	if h.pages == nil || cap(body) == 0 {
		return
	}
	if poisonReused.Load() {
		for i := range body {
			body[i] = '#' // a source that still reads it now reads garbage
		}
	}
	select {
	case h.pages.spare <- body:
	default:
	}
}

var poisonReused atomic.Bool

// PoisonReusedBodies makes Reuse overwrite every body it is given, so that
// a test of a source that keeps using a body after giving it back (its
// records pointing into it, an error message read from it) sees the
// damage on the page itself, not only when a later page lands on it. For
// tests; it stays on for the process.
func PoisonReusedBodies() { poisonReused.Store(true) }

// countingWriter counts what it passes to w and keeps w's error, so that
// Download tells a failing destination from a failing connection.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

// send is the attempt loop of Do and Download. take consumes a 2xx
// answer's body: it returns the bytes taken, or a failure and whether the
// request may be sent again. send returns the final answer's status and
// header, and on a failure for an error answer that answer's body too.
func (h *HTTP) send(ctx context.Context, req *http.Request, take func(resp *http.Response, where string) (int64, *Failure, bool)) (Answer, error) {
	where := req.Method + " " + req.URL.Host + req.URL.EscapedPath()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Answer{}, err // nothing is sent for a cancelled run
		}
		if h.beforeSend != nil {
			h.beforeSend()
		}
		r := req.Clone(ctx)
		r.Body = nil
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return Answer{}, &Failure{Reason: ReasonSourceError, Message: where + ": request body: " + oneLine(err.Error())}
			}
			r.Body = body
		} else if attempt == 1 && req.Body != nil {
			r.Body = req.Body // sent once: without GetBody it cannot be retried
		}
		res := h.attempt(r, where, take)
		if res.fail == nil {
			h.stats.Pages.Add(1)
			h.stats.Bytes.Add(res.n)
			return Answer{Status: res.Status, Header: res.Header}, nil
		}
		if ctx.Err() != nil {
			return Answer{}, ctx.Err()
		}
		wait := res.wait
		if wait < 0 || attempt == maxAttempts || (req.Body != nil && req.GetBody == nil) {
			return res.Answer, res.fail
		}
		if wait == 0 {
			wait = backoff(attempt)
		}
		if f := h.tooLong(ctx, res.fail, wait); f != nil {
			return res.Answer, f
		}
		h.stats.WaitUntil.Store(h.now().Add(wait).UnixNano())
		if h.beforeWait != nil {
			h.beforeWait()
		}
		err := h.sleep(ctx, wait)
		h.stats.WaitUntil.Store(0)
		if err != nil {
			return Answer{}, err
		}
		h.stats.Retries.Add(1)
	}
}

// result is how one attempt ended.
type result struct {
	Answer               // the answer's status and header; Body: an error answer's body
	n      int64         // the bytes take consumed from a 2xx answer
	fail   *Failure      // nil: a 2xx answer, consumed
	wait   time.Duration // with fail, before the next attempt: < 0 never retry, 0 the usual backoff
}

// attempt sends one request. It returns the answer and the bytes take
// consumed, or a failure (with the error answer's body, when there is one)
// and the wait before the next attempt.
func (h *HTTP) attempt(r *http.Request, where string, take func(*http.Response, string) (int64, *Failure, bool)) result {
	resp, err := h.client.Do(r)
	if err != nil {
		if re := safehttp.AsRedirect(err); re != nil {
			// Not retried: the next answer would point there again.
			return result{fail: &Failure{Reason: ReasonConfig, Message: where + ": " + re.Error()}, wait: -1}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, query included
		}
		return result{fail: &Failure{Reason: ReasonNetwork, Message: where + ": " + oneLine(err.Error())}}
	}
	defer resp.Body.Close()
	a := Answer{Status: resp.StatusCode, Header: resp.Header}
	if a.Status >= 200 && a.Status < 300 {
		n, fail, retry := take(resp, where)
		switch {
		case fail == nil:
			return result{Answer: a, n: n}
		case retry:
			return result{Answer: a, fail: fail}
		}
		return result{Answer: a, fail: fail, wait: -1}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBody+1))
	if err != nil {
		return result{Answer: a, fail: &Failure{Reason: ReasonNetwork, Message: where + ": read response: " + oneLine(err.Error())}}
	}
	if int64(len(body)) > h.maxBody {
		return result{Answer: a, fail: &Failure{Reason: ReasonSourceError, Message: fmt.Sprintf("%s: response larger than %d MiB", where, h.maxBody>>20)}, wait: -1}
	}
	fail, wait := h.failure(a.Status, body, resp.Header, where)
	if h.explain != nil {
		if f := h.explain(a.Status, body, resp.Header, fail); f != nil {
			fail = f
		}
	}
	a.Body = body
	return result{Answer: a, fail: fail, wait: wait}
}

// failure classifies an error answer and says how long to wait before the
// next attempt: < 0 never retry, 0 the usual backoff.
func (h *HTTP) failure(status int, body []byte, header http.Header, where string) (*Failure, time.Duration) {
	msg := fmt.Sprintf("%s: %d %s", where, status, strings.ToLower(http.StatusText(status)))
	if h.throttle != nil {
		if retry, wait := h.throttle(status, body, header); retry {
			if ra := h.retryAfter(header); ra > 0 {
				wait = ra
			}
			return &Failure{Reason: ReasonRateLimit, Message: msg + " (throttled; retries exhausted)"}, wait
		}
	}
	switch {
	case status == http.StatusTooManyRequests:
		return &Failure{Reason: ReasonRateLimit, Message: msg + " (retries exhausted)"}, h.retryAfter(header)
	case status >= 500:
		return &Failure{Reason: ReasonSourceError, Message: msg + " (retries exhausted)"}, h.retryAfter(header)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &Failure{Reason: ReasonAuth, Message: msg}, -1
	case status == http.StatusNotFound:
		return &Failure{Reason: ReasonConfig, Message: msg}, -1
	default:
		return &Failure{Reason: ReasonSourceError, Message: msg}, -1
	}
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or
// unreadable. A wait longer than retryAfterCap is not waited: tooLong
// turns it into a failure that says when to try again.
func (h *HTTP) retryAfter(hd http.Header) time.Duration {
	v := strings.TrimSpace(hd.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s > int64(maxWait/time.Second) {
			return maxWait
		}
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(h.now())
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxWait)
}

// maxWait bounds the arithmetic of a huge Retry-After (about 290 years).
const maxWait = time.Duration(1<<63 - 1)

// tooLong returns the failure to report instead of waiting wait before the
// next attempt, when the wait is longer than retryAfterCap or ends after
// ctx's deadline: the run fails at once and says when to try again, rather
// than waiting for minutes in silence. nil: wait.
func (h *HTTP) tooLong(ctx context.Context, fail *Failure, wait time.Duration) *Failure {
	now := h.now()
	deadline, hasDeadline := ctx.Deadline()
	if wait <= retryAfterCap && (!hasDeadline || !now.Add(wait).After(deadline)) {
		return nil
	}
	msg := strings.TrimSuffix(strings.TrimSuffix(fail.Message, " (retries exhausted)"), " (throttled; retries exhausted)")
	if wait >= maxWait/2 {
		return &Failure{Reason: fail.Reason, Message: msg + ": the server asks to wait longer than connctl ever waits; try again later"}
	}
	when := now.Add(wait).UTC().Round(time.Second).Format(time.RFC3339)
	why := fmt.Sprintf("more than the %s connctl waits", retryAfterCap)
	if wait <= retryAfterCap {
		why = "past the run's deadline"
	}
	return &Failure{Reason: fail.Reason, Message: fmt.Sprintf("%s: the server asks to wait %s (%s); run the job again after %s",
		msg, wait.Round(time.Second), why, when)}
}

// backoff is the wait after the given failed attempt: base·2^(attempt-1),
// capped, with "equal jitter" (half fixed, half random) so that clients
// failing together do not retry together.
func backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 10 {
		d = min(backoffBase<<(attempt-1), backoffCap)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// oneLine collapses white space so a message fits on one line, with
// terminal controls shown escaped.
func oneLine(s string) string {
	return textsafe.Sanitize(strings.Join(strings.Fields(s), " "))
}
