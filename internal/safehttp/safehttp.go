// Package safehttp builds every HTTP client connctl sends a credential with,
// and it is the only package that may: a test (architecture_test.go) fails
// when code elsewhere under internal/ builds an http.Client, sets a redirect
// policy or uses http.DefaultClient. So a new source or endpoint cannot
// forget the rule it enforces: a credential never leaves its origin.
//
// An origin is scheme, host and port (RFC 6454). Go's own client forwards
// Authorization to a subdomain and a custom header (an API key, Gainsight's
// AccessKey) to any host; connctl follows a redirect only within the origin
// of the first request, and from a token, revocation or introspection
// endpoint not at all: those requests carry the client secret, the code, the
// PKCE verifier or a refresh token in their body, which a 307 or 308 would
// send again to wherever it points.
//
// It also bounds every request in phases (timeout.go): response headers
// within Timeouts.Header, no pause in a body longer than Timeouts.Idle, and
// a whole-request limit only for small calls (tokens, key checks,
// who-am-I), so that a big download over a slow link is not cut while a
// stalled server is.
//
// The package never prints and holds no state.
package safehttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is how many same-origin redirects a request may follow (Go's
// own limit).
const maxRedirects = 10

// New returns a client with the given transport (nil:
// http.DefaultTransport) that follows redirects only within the origin of
// the first request, and whose requests are bounded by t (see Timeouts):
// no whole-request limit, so a big download over a slow link is not cut,
// but a server that does not answer, or stops sending, ends in a
// *TimeoutError.
func New(rt http.RoundTripper, t Timeouts) *http.Client {
	return &http.Client{Transport: &guard{base: rt, t: t.withDefaults()}, CheckRedirect: sameOrigin}
}

// SameOrigin returns a copy of c (nil: New(nil, Timeouts{})) that follows
// redirects only within the origin of the first request. A redirect
// elsewhere fails the request with a *RedirectError. Every source uses it;
// a small call (who-am-I, discovery) uses Call, which adds a total limit.
func SameOrigin(c *http.Client) *http.Client {
	cp := clone(c)
	cp.CheckRedirect = sameOrigin
	return cp
}

// NoRedirects returns a copy of c (nil: New(nil, Timeouts{})) that follows
// no redirect at all: any 3xx with a Location fails the request with a
// *RedirectError naming what (such as "token endpoint"). Token, revocation
// and introspection requests use it; their answers are small, so the whole
// request is bounded too (Timeouts.Call).
func NoRedirects(c *http.Client, what string) *http.Client {
	cp := bounded(clone(c))
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return &RedirectError{What: what, From: Origin(via[0].URL), To: Origin(req.URL), Never: true}
	}
	return cp
}

// Unfollowed returns a copy of c (nil: New(nil, Timeouts{})) that hands a
// 3xx answer back to the caller instead of following it, for callers that
// report a redirect themselves (keycheck: "a redirect means base_url is
// wrong"). Those are small calls: the whole request is bounded
// (Timeouts.Call).
func Unfollowed(c *http.Client) *http.Client {
	cp := bounded(clone(c))
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return cp
}

// Call returns a copy of c (nil: New(nil, Timeouts{})) for a small request
// (who-am-I, userinfo, discovery): redirects only within the origin, as
// SameOrigin, and the whole request, body included, bounded by
// Timeouts.Call.
func Call(c *http.Client) *http.Client {
	return bounded(SameOrigin(c))
}

func clone(c *http.Client) *http.Client {
	if c == nil {
		return New(nil, Timeouts{})
	}
	cp := *c
	return &cp
}

func sameOrigin(req *http.Request, via []*http.Request) error {
	from, to := Origin(via[0].URL), Origin(req.URL)
	if from != to {
		return &RedirectError{From: from, To: to}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects within %s", maxRedirects, from)
	}
	return nil
}

// RedirectError is a redirect connctl refused to follow. Its message is one
// line and names both origins, never a path or query (they may hold a
// code or a token).
type RedirectError struct {
	What  string // "token endpoint", ...; "" for a source or who-am-I call
	From  string // origin of the request, scheme://host:port
	To    string // origin the answer pointed to
	Never bool   // no redirect is followed at all (token endpoints)
}

func (e *RedirectError) Error() string {
	if e.Never {
		what := e.What
		if what == "" {
			what = "endpoint"
		}
		return fmt.Sprintf("the %s %s redirected to %s; connctl never follows a redirect from a %s, because the request carries credentials", what, e.From, e.To, what)
	}
	return fmt.Sprintf("%s redirected to another origin, %s; connctl does not send credentials to another origin (scheme, host and port must stay the same): check the configured URL", e.From, e.To)
}

// AsRedirect returns the *RedirectError inside err (a *url.Error from
// http.Client.Do wraps it), or nil.
func AsRedirect(err error) *RedirectError {
	var re *RedirectError
	if errors.As(err, &re) {
		return re
	}
	return nil
}

// Origin is u's scheme://host:port, lowercased, with the scheme's default
// port made explicit, so that https://a and https://A:443 are one origin.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// IsLoopback reports whether host (no port) is localhost or a loopback IP
// address, where plain http is acceptable.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// CheckEndpoint checks an endpoint URL connctl will send a credential to:
// absolute, https unless the host is loopback, with no user info. what names
// it in the error ("token endpoint").
func CheckEndpoint(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("the %s %q is not an absolute http(s) URL", what, raw)
	}
	if u.User != nil {
		return fmt.Errorf("the %s of %s contains credentials in the URL", what, u.Host)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("the %s %s uses plain http on a host that is not loopback: only https is accepted (http only for localhost, 127.0.0.1 and [::1])", what, Origin(u))
	}
	return nil
}
