package keycheck

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds what is read of an answer: who-am-I answers are small.
const maxBody = 1 << 20

// Request is one call to a provider.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Response is a provider's answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Host   string // the provider host, as named in messages
	Path   string // the path called, as named in messages
}

// Do sends req. A transport failure, a timeout or a cancelled ctx is a
// network *Error naming the host.
func (in *Call) Do(ctx context.Context, req Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &Error{Kind: KindConfig, Message: fmt.Sprintf("the %s connection's API address is not an http(s) URL: check base_url", in.connector)}
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return nil, &Error{Kind: KindConfig, Message: fmt.Sprintf("cannot build the request to %s: check base_url", u.Host)}
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	resp, err := in.hc.Do(hr)
	if err != nil {
		return nil, &Error{Kind: KindNetwork, Message: "cannot reach " + u.Host + ": " + shortErr(ctx, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &Error{Kind: KindNetwork, Status: resp.StatusCode, Message: "lost the connection to " + u.Host + " while reading its answer: " + shortErr(ctx, err)}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data, Host: u.Host, Path: u.EscapedPath()}, nil
}

// shortErr is the last, most specific part of a transport error.
func shortErr(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "cancelled"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timed out"
		}
		err = ue.Err
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// Fixes says, per failure, what the user should check. Each is a short
// phrase that follows a colon in the message.
type Fixes struct {
	Unauthorized string // HTTP 401
	Forbidden    string // HTTP 403
	NotFound     string // HTTP 404 or a redirect: which field is probably wrong
}

// OK reports whether r is a 2xx answer.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// StatusError maps a non-2xx answer to an *Error, as package authorization
// maps them for OAuth connections (getJSON), with 404 and redirects added
// as configuration problems. It returns nil for a 2xx answer.
func StatusError(r *Response, f Fixes) *Error {
	e := &Error{Status: r.Status}
	switch s := r.Status; {
	case r.OK():
		return nil
	case s == http.StatusUnauthorized:
		e.Kind, e.Message = KindUnauthorized, r.Host+" rejected the credentials (HTTP 401): "+f.Unauthorized
	case s == http.StatusForbidden:
		e.Kind, e.Message = KindForbidden, r.Host+" refused access (HTTP 403): "+f.Forbidden
	case s == http.StatusNotFound:
		e.Kind, e.Message = KindConfig, fmt.Sprintf("%s answered HTTP 404 for %s: %s", r.Host, r.Path, f.NotFound)
	case s == http.StatusTooManyRequests:
		e.Kind, e.Message = KindRateLimit, r.Host+" is rate limiting (HTTP 429): "+RetryAfter(r.Header)
	case s >= 500:
		e.Kind, e.Message = KindServer, fmt.Sprintf("%s answered HTTP %d (a server error): try again later", r.Host, s)
	case s >= 300 && s < 400:
		to := "another address"
		if loc, err := url.Parse(r.Header.Get("Location")); err == nil && loc.Host != "" {
			to = loc.Host
		}
		e.Kind, e.Message = KindConfig, fmt.Sprintf("%s redirected %s to %s (HTTP %d): %s", r.Host, r.Path, to, s, f.NotFound)
	default:
		e.Kind, e.Message = KindServer, fmt.Sprintf("%s answered HTTP %d", r.Host, s)
	}
	return e
}

// RetryAfter turns a Retry-After header (seconds or an HTTP date) into the
// advice of a rate-limit message.
func RetryAfter(h http.Header) string {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return "try again later"
	}
	secs, err := strconv.Atoi(v)
	if err != nil {
		t, perr := http.ParseTime(v)
		if perr != nil {
			return "try again later"
		}
		secs = int(time.Until(t).Round(time.Second) / time.Second)
	}
	switch {
	case secs <= 0:
		return "try again now"
	case secs == 1:
		return "try again in 1 second"
	}
	return fmt.Sprintf("try again in %d seconds", secs)
}

// DecodeJSON decodes a 2xx answer, or reports that it is not JSON (a server
// error: a proxy, a login page or a wrong base_url answered instead).
func DecodeJSON(r *Response, out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return NotJSON(r)
	}
	return nil
}

// NotJSON reports a 2xx answer that is not JSON.
func NotJSON(r *Response) *Error {
	return &Error{Kind: KindServer, Status: r.Status, Message: fmt.Sprintf("%s answered %s with something that is not JSON: check base_url", r.Host, r.Path)}
}

// Unexpected reports a JSON answer that lacks what a who-am-I answer holds.
func Unexpected(r *Response, what string) *Error {
	return &Error{Kind: KindServer, Status: r.Status, Message: fmt.Sprintf("%s answered %s without %s: check base_url", r.Host, r.Path, what)}
}

// Basic returns an HTTP Basic Authorization value and records it as
// sensitive.
func (in *Call) Basic(user, password string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	in.Sensitive(enc)
	return "Basic " + enc
}

// BaseURL returns the base_url field without a trailing slash, or def.
func (in *Call) BaseURL(def string) string {
	return strings.TrimRight(in.Optional("base_url", def), "/")
}

// Quote makes a provider's own error text fit in a one-line message:
// secrets removed, white space collapsed and at most 160 characters.
// Secrets go first, so that cutting the text cannot leave part of one that
// scrub would no longer recognise.
func (in *Call) Quote(s string) string {
	s = in.redact(s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:157]) + "..."
	}
	return s
}

// JSONString reads a JSON value that may be a string or a number as text,
// for ids that providers send either way.
func JSONString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

// GetJSON GETs u with one credential header and decodes a 2xx answer into
// out. inspect, when not nil, may classify a non-2xx answer first from the
// provider's own error body; otherwise StatusError does, with f.
func (in *Call) GetJSON(ctx context.Context, u, header, value string, f Fixes, inspect func(*Response) *Error, out any) (*Response, error) {
	return in.SendJSON(ctx, Request{Method: http.MethodGet, URL: u, Header: http.Header{header: {value}}}, f, inspect, out)
}

// SendJSON sends req and decodes a 2xx answer into out, as GetJSON does.
func (in *Call) SendJSON(ctx context.Context, req Request, f Fixes, inspect func(*Response) *Error, out any) (*Response, error) {
	r, err := in.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		if inspect != nil {
			if e := inspect(r); e != nil {
				return r, e
			}
		}
		if in.fields["base_url"] != "" && !strings.Contains(f.NotFound, "base_url") {
			f.NotFound += ", and base_url"
		}
		return r, StatusError(r, f)
	}
	return r, DecodeJSON(r, out)
}
