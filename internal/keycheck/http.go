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

// request is one call to a provider.
type request struct {
	method string
	url    string
	header http.Header
	body   []byte
}

// response is a provider's answer.
type response struct {
	status int
	header http.Header
	body   []byte
	host   string // the provider host, as named in messages
	path   string // the path called, as named in messages
}

// do sends req. A transport failure, a timeout or a cancelled ctx is a
// network *Error naming the host.
func (in *input) do(ctx context.Context, req request) (*response, error) {
	u, err := url.Parse(req.url)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &Error{Kind: kindConfig, Message: fmt.Sprintf("the %s connection's API address is not an http(s) URL: check base_url", in.connector)}
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, &Error{Kind: kindConfig, Message: fmt.Sprintf("cannot build the request to %s: check base_url", u.Host)}
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	resp, err := in.hc.Do(hr)
	if err != nil {
		return nil, &Error{Kind: kindNetwork, Message: "cannot reach " + u.Host + ": " + shortErr(ctx, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &Error{Kind: kindNetwork, Status: resp.StatusCode, Message: "lost the connection to " + u.Host + " while reading its answer: " + shortErr(ctx, err)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data, host: u.Host, path: u.EscapedPath()}, nil
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

// fixes says, per failure, what the user should check. Each is a short
// phrase that follows a colon in the message.
type fixes struct {
	unauthorized string // HTTP 401
	forbidden    string // HTTP 403
	notFound     string // HTTP 404 or a redirect: which field is probably wrong
}

// ok reports whether r is a 2xx answer.
func (r *response) ok() bool { return r.status >= 200 && r.status < 300 }

// statusError maps a non-2xx answer to an *Error, as package authorization
// maps them for OAuth connections (getJSON), with 404 and redirects added
// as configuration problems. It returns nil for a 2xx answer.
func statusError(r *response, f fixes) *Error {
	e := &Error{Status: r.status}
	switch s := r.status; {
	case r.ok():
		return nil
	case s == http.StatusUnauthorized:
		e.Kind, e.Message = kindUnauthorized, r.host+" rejected the credentials (HTTP 401): "+f.unauthorized
	case s == http.StatusForbidden:
		e.Kind, e.Message = kindForbidden, r.host+" refused access (HTTP 403): "+f.forbidden
	case s == http.StatusNotFound:
		e.Kind, e.Message = kindConfig, fmt.Sprintf("%s answered HTTP 404 for %s: %s", r.host, r.path, f.notFound)
	case s == http.StatusTooManyRequests:
		e.Kind, e.Message = kindRateLimit, r.host+" is rate limiting (HTTP 429): "+retryAfter(r.header)
	case s >= 500:
		e.Kind, e.Message = kindServer, fmt.Sprintf("%s answered HTTP %d (a server error): try again later", r.host, s)
	case s >= 300 && s < 400:
		to := "another address"
		if loc, err := url.Parse(r.header.Get("Location")); err == nil && loc.Host != "" {
			to = loc.Host
		}
		e.Kind, e.Message = kindConfig, fmt.Sprintf("%s redirected %s to %s (HTTP %d): %s", r.host, r.path, to, s, f.notFound)
	default:
		e.Kind, e.Message = kindServer, fmt.Sprintf("%s answered HTTP %d", r.host, s)
	}
	return e
}

// retryAfter turns a Retry-After header (seconds or an HTTP date) into the
// advice of a rate-limit message.
func retryAfter(h http.Header) string {
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

// decodeJSON decodes a 2xx answer, or reports that it is not JSON (a server
// error: a proxy, a login page or a wrong base_url answered instead).
func decodeJSON(r *response, out any) error {
	if err := json.Unmarshal(r.body, out); err != nil {
		return notJSON(r)
	}
	return nil
}

func notJSON(r *response) *Error {
	return &Error{Kind: kindServer, Status: r.status, Message: fmt.Sprintf("%s answered %s with something that is not JSON: check base_url", r.host, r.path)}
}

// unexpected reports a JSON answer that lacks what a who-am-I answer holds.
func unexpected(r *response, what string) *Error {
	return &Error{Kind: kindServer, Status: r.status, Message: fmt.Sprintf("%s answered %s without %s: check base_url", r.host, r.path, what)}
}

// basic returns an HTTP Basic Authorization value and records it as
// sensitive.
func (in *input) basic(user, password string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	in.sensitiveValue(enc)
	return "Basic " + enc
}

// baseURL returns the base_url field without a trailing slash, or def.
func (in *input) baseURL(def string) string {
	return strings.TrimRight(in.optional("base_url", def), "/")
}

// quote makes a provider's own error text fit in a one-line message:
// secrets removed, white space collapsed and at most 160 characters.
// Secrets go first, so that cutting the text cannot leave part of one that
// scrub would no longer recognise.
func (in *input) quote(s string) string {
	s = in.redact(s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:157]) + "..."
	}
	return s
}

// jsonString reads a JSON value that may be a string or a number as text,
// for ids that providers send either way.
func jsonString(v any) string {
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
