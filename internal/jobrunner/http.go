package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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

	now        func() time.Time // for Retry-After dates
	maxBody    int64
	beforeSend func() // set by Run on its own copy: reports progress
}

// NewHTTP returns a retrying client. c carries the timeouts (set by the
// caller); sleep waits between attempts (production: Sleep; tests record the
// waits instead); stats receives the counters (nil: a private Stats);
// throttle, when non-nil, recognises a vendor's throttle signal beyond 429
// and 5xx (Salesforce 403 REQUEST_LIMIT_EXCEEDED, S3 503 SlowDown) and says
// whether to retry and how long to wait (0: the usual backoff).
func NewHTTP(c *http.Client, sleep func(context.Context, time.Duration) error, stats *Stats, throttle func(status int, body []byte, h http.Header) (bool, time.Duration)) *HTTP {
	if c == nil {
		c = http.DefaultClient
	}
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

// Do sends req and reads the whole body (at most 64 MiB; a larger body is a
// source_error Failure). The request is rebuilt for every attempt, with a
// body from req.GetBody or none. It retries 429, 5xx, throttle hits and
// transport errors, up to 5 attempts, waiting by exponential backoff with
// jitter (1 s base, 60 s cap) or as Retry-After says (seconds or an HTTP
// date, at most 5 minutes). A 2xx answer counts one page and its bytes, and
// is returned with its status; any other final outcome is a *Failure:
// 401 and 403 auth (403 unless throttle says retry), 404 config, other 4xx
// and exhausted 5xx source_error, exhausted 429 or throttle rate_limit,
// transport network. Cancellation returns ctx.Err().
func (h *HTTP) Do(ctx context.Context, req *http.Request) (int, http.Header, []byte, error) {
	where := req.Method + " " + req.URL.Host + req.URL.EscapedPath()
	for attempt := 1; ; attempt++ {
		if h.beforeSend != nil {
			h.beforeSend()
		}
		r := req.Clone(ctx)
		r.Body = nil
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return 0, nil, nil, &Failure{Reason: ReasonSourceError, Message: where + ": request body: " + oneLine(err.Error())}
			}
			r.Body = body
		} else if attempt == 1 && req.Body != nil {
			r.Body = req.Body // sent once: without GetBody it cannot be retried
		}
		status, header, body, fail, wait := h.attempt(r, where)
		if fail == nil {
			h.stats.Pages.Add(1)
			h.stats.Bytes.Add(int64(len(body)))
			return status, header, body, nil
		}
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		if wait < 0 || attempt == maxAttempts || (req.Body != nil && req.GetBody == nil) {
			return status, header, nil, fail
		}
		if wait == 0 {
			wait = backoff(attempt)
		}
		if err := h.sleep(ctx, wait); err != nil {
			return 0, nil, nil, err
		}
		h.stats.Retries.Add(1)
	}
}

// attempt sends one request. It returns the answer, or a failure with the
// wait before the next attempt: < 0 never retry, 0 the usual backoff.
func (h *HTTP) attempt(r *http.Request, where string) (int, http.Header, []byte, *Failure, time.Duration) {
	resp, err := h.client.Do(r)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, query included
		}
		return 0, nil, nil, &Failure{Reason: ReasonNetwork, Message: where + ": " + oneLine(err.Error())}, 0
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBody+1))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, &Failure{Reason: ReasonNetwork, Message: where + ": read response: " + oneLine(err.Error())}, 0
	}
	if int64(len(body)) > h.maxBody {
		return resp.StatusCode, resp.Header, nil, &Failure{Reason: ReasonSourceError, Message: fmt.Sprintf("%s: response larger than %d MiB", where, h.maxBody>>20)}, -1
	}
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		return status, resp.Header, body, nil, 0
	}
	msg := fmt.Sprintf("%s: %d %s", where, status, strings.ToLower(http.StatusText(status)))
	if h.throttle != nil {
		if retry, wait := h.throttle(status, body, resp.Header); retry {
			if ra := h.retryAfter(resp.Header); ra > 0 {
				wait = ra
			}
			return status, resp.Header, nil, &Failure{Reason: ReasonRateLimit, Message: msg + " (throttled; retries exhausted)"}, min(wait, retryAfterCap)
		}
	}
	switch {
	case status == http.StatusTooManyRequests:
		return status, resp.Header, nil, &Failure{Reason: ReasonRateLimit, Message: msg + " (retries exhausted)"}, h.retryAfter(resp.Header)
	case status >= 500:
		return status, resp.Header, nil, &Failure{Reason: ReasonSourceError, Message: msg + " (retries exhausted)"}, h.retryAfter(resp.Header)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return status, resp.Header, nil, &Failure{Reason: ReasonAuth, Message: msg}, -1
	case status == http.StatusNotFound:
		return status, resp.Header, nil, &Failure{Reason: ReasonConfig, Message: msg}, -1
	default:
		return status, resp.Header, nil, &Failure{Reason: ReasonSourceError, Message: msg}, -1
	}
}

// retryAfter reads Retry-After as seconds or an HTTP date, capped at five
// minutes; 0 when absent or unreadable.
func (h *HTTP) retryAfter(hd http.Header) time.Duration {
	v := strings.TrimSpace(hd.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s > int64(retryAfterCap/time.Second) {
			return retryAfterCap
		}
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(h.now())
	}
	if d <= 0 {
		return 0
	}
	return min(d, retryAfterCap)
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

// oneLine collapses white space so a message fits on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
