package genericoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// DefaultCursorParam is the query parameter a cursor:<pointer> next page
// sends the cursor in, unless the job sets cursor_param.
const DefaultCursorParam = "cursor"

// HTTPSource returns the `http` source: the JSON records of GET requests on
// the API at base_url, described by the job's parameters.
//
//	path               required; relative to base_url (may hold a query), or
//	                   a full URL on base_url's host
//	records            RFC 6901 JSON pointer to the array of records; ""
//	                   (default): the body is the array
//	next               link (default): the Link header's rel="next" target;
//	                   cursor:<pointer>: a cursor at that pointer, sent back
//	                   as the cursor_param query parameter (default cursor)
//	                   on the first request's URL; url:<pointer>: a next URL
//	                   (relative or absolute) at that pointer; none: one page
//	incremental_field  a field of each record (a name, or a pointer into the
//	                   record): RFC 3339 or epoch seconds/milliseconds; the
//	                   checkpoint is its largest value, kept as the API wrote it;
//	                   a record without it (absent or null) is written and
//	                   counted in Stats.WithoutCursor
//	since_param        query parameter the checkpoint is sent in on the first
//	                   request of an incremental run (needs incremental_field)
//	page_size_param,   a page size query parameter added to the first request
//	page_size
//
// Every request carries Authorization: Bearer {access token}. A 401 makes the
// source ask for a refreshed token once and send the page again. Next pages
// must be on base_url's scheme and host: the requests carry the token.
// Paging stops when there is no next link, cursor or URL (absent, null or
// "") or a page holds no records.
func HTTPSource() jobrunner.Source { return &httpSource{} }

type httpSource struct{}

// paging is how the next page is found.
type paging struct {
	kind    string   // link, cursor, url, none
	pointer []string // cursor and url: where the value is
	param   string   // cursor: the query parameter to send it in
}

// config is the job's parameters, checked.
type config struct {
	first      *url.URL
	base       *url.URL
	records    []string
	next       paging
	field      []string // incremental field as pointer tokens; nil: full run
	fieldName  string
	sinceParam string
}

func (s *httpSource) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := parseConfig(req)
	if err != nil {
		return "", err
	}
	cred, err := jobrunner.OAuthCredential(ctx, req, "Bearer")
	if err != nil {
		return "", prefix(err)
	}

	var (
		latest    time.Time // the largest incremental value emitted
		latestRaw string    // ... as the API wrote it
		sawField  bool
		emitted   int
	)
	seen := map[string]bool{}
	next := c.first.String()
	for next != "" {
		if seen[next] {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "oauth2: the next page is the one already read; stopping (check the next parameter)"}
		}
		// The token may expire mid-run: cred refreshes it once on a 401
		// and sends the page again.
		var r *http.Request
		a, err := cred.Send(ctx, req.HTTP, func() (*http.Request, error) {
			var err error
			r, err = jobrunner.JSONRequest(ctx, vendor.Name, http.MethodGet, next, nil)
			return r, err
		})
		if err != nil {
			return "", vendor.Describe(err, a)
		}
		seen[next] = true
		where := vendor.Where(r)
		doc, err := decodeBody(a.Body)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		at, ok := resolve(doc, c.records)
		if !ok {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("%s: records pointer %q is not in the response", where, pointerText(c.records))}
		}
		var list []any
		switch x := at.(type) {
		case nil: // no records
		case []any:
			list = x
		default:
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("%s: records pointer %q is not an array in the response", where, pointerText(c.records))}
		}
		for i, e := range list {
			rec, ok := e.(map[string]any)
			if !ok {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("%s: record %d at records pointer %q is not a JSON object", where, i, pointerText(c.records))}
			}
			hasCursor := true
			if c.field != nil {
				v, ok := resolve(rec, c.field)
				hasCursor = ok && v != nil
				if hasCursor {
					t, ok := parseInstant(v)
					if !ok {
						return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("%s: record %d: incremental_field %s = %v is neither RFC 3339 nor epoch time", where, i, c.fieldName, v)}
					}
					sawField = true
					if latestRaw == "" || t.After(latest) {
						latest, latestRaw = t, fmt.Sprint(v)
					}
				}
			}
			if err := emit(rec); err != nil {
				return "", err
			}
			emitted++
			// A record without the user's incremental_field (absent or
			// null) is written; it cannot move the checkpoint, and the
			// run counts it.
			if !hasCursor {
				req.HTTP.Stats().WithoutCursor.Add(1)
			}
		}
		if len(list) == 0 {
			break // an empty page ends the listing, whatever it says next
		}
		if next, err = c.nextPage(r.URL, a.Header, doc); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
	}
	switch {
	case c.field == nil:
		return "", nil // full every run: nothing to resume from
	case emitted > 0 && !sawField:
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("oauth2: no record has incremental_field %s", c.fieldName)}
	case latestRaw == "":
		return req.Since, nil
	}
	if req.Since != "" {
		if prev, ok := parseInstant(req.Since); ok && prev.After(latest) {
			return req.Since, nil
		}
	}
	return latestRaw, nil
}

// nextPage returns the URL of the page after cur, or "" at the end.
func (c *config) nextPage(cur *url.URL, h http.Header, doc any) (string, error) {
	switch c.next.kind {
	case "link":
		if l := jobrunner.NextLink(h); l != "" {
			return sameHost(c.base, cur, l)
		}
		return "", nil
	case "url", "cursor":
		v, ok := resolve(doc, c.next.pointer)
		if !ok || v == nil || v == "" {
			return "", nil
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			return "", fmt.Errorf("next %s:%s is not a string", c.next.kind, pointerText(c.next.pointer))
		}
		if c.next.kind == "url" {
			return sameHost(c.base, cur, s)
		}
		u := *c.first
		q := u.Query()
		q.Set(c.next.param, s)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return "", nil
}

// parseConfig checks the connection's base_url and the job's parameters.
func parseConfig(req jobrunner.Request) (*config, error) {
	fail := func(format string, a ...any) error {
		return &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "oauth2: " + fmt.Sprintf(format, a...)}
	}
	raw := strings.TrimRight(strings.TrimSpace(req.Fields["base_url"]), "/")
	if raw == "" {
		return nil, fail("the http source needs the connection's base_url, the API its paths are relative to: connctl edit <conn> --set base_url=https://api.example.com")
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, fail("base_url %q is not an http(s) URL without query: connctl edit <conn> --set base_url=https://api.example.com", raw)
	}
	c := &config{base: base}

	p := strings.TrimSpace(req.Params["path"])
	switch {
	case p == "":
		return nil, fail("the http source needs a path parameter, such as /v1/items")
	case strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://"):
		u, err := url.Parse(p)
		if err != nil || u.Host == "" {
			return nil, fail("path %q is not a URL", p)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			return nil, fail("path %q is not on base_url's host %s; the request carries the access token", u.Redacted(), base.Host)
		}
		c.first = u
	default:
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		u, err := url.Parse(base.String() + p)
		if err != nil || u.Host != base.Host {
			return nil, fail("path %q is not a URL path", p)
		}
		c.first = u
	}
	c.first.Fragment = ""

	if c.records, err = parsePointer(req.Params["records"]); err != nil {
		return nil, fail("records: %v", err)
	}

	n := strings.TrimSpace(req.Params["next"])
	kind, ptr, _ := strings.Cut(n, ":")
	switch kind {
	case "", "link":
		if ptr != "" {
			return nil, fail("next %q: link takes no pointer", n)
		}
		c.next.kind = "link"
	case "none":
		if ptr != "" {
			return nil, fail("next %q: none takes no pointer", n)
		}
		c.next.kind = "none"
	case "cursor", "url":
		toks, err := parsePointer(ptr)
		if err != nil || len(toks) == 0 {
			if err == nil {
				err = errors.New("want a JSON pointer such as /meta/next")
			}
			return nil, fail("next %q: %v", n, err)
		}
		c.next = paging{kind: kind, pointer: toks}
		if kind == "cursor" {
			c.next.param = strings.TrimSpace(req.Params["cursor_param"])
			if c.next.param == "" {
				c.next.param = DefaultCursorParam
			}
		}
	default:
		return nil, fail("next %q is not link, cursor:<pointer>, url:<pointer> or none", n)
	}
	if c.next.kind != "cursor" && strings.TrimSpace(req.Params["cursor_param"]) != "" {
		return nil, fail("cursor_param is set but next is not cursor:<pointer>")
	}

	q := c.first.Query()
	sizeParam, size := strings.TrimSpace(req.Params["page_size_param"]), strings.TrimSpace(req.Params["page_size"])
	switch {
	case sizeParam == "" && size == "":
	case sizeParam == "" || size == "":
		return nil, fail("page_size_param and page_size go together: set both or neither")
	default:
		if v, err := strconv.Atoi(size); err != nil || v <= 0 {
			return nil, fail("page_size %q is not a positive integer", size)
		}
		q.Set(sizeParam, size)
	}

	c.fieldName = strings.TrimSpace(req.Params["incremental_field"])
	c.sinceParam = strings.TrimSpace(req.Params["since_param"])
	switch {
	case c.fieldName == "" && c.sinceParam != "":
		return nil, fail("since_param needs incremental_field: the field whose largest value is sent in it")
	case strings.HasPrefix(c.fieldName, "/"):
		if c.field, err = parsePointer(c.fieldName); err != nil {
			return nil, fail("incremental_field: %v", err)
		}
	case c.fieldName != "":
		c.field = []string{c.fieldName}
	}
	if c.sinceParam != "" && req.Since != "" {
		q.Set(c.sinceParam, req.Since)
	}
	c.first.RawQuery = q.Encode()
	return c, nil
}

// parsePointer splits an RFC 6901 JSON pointer into its unescaped tokens:
// "" is the whole document; otherwise it starts with "/", and in each token
// ~1 stands for "/" and ~0 for "~".
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer (RFC 6901): it must be empty or start with /, as in /data/items", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("%q is not a JSON pointer (RFC 6901): ~ must be followed by 0 or 1", p)
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// resolve returns the value at the pointer's tokens in v, and whether it is
// there. Array indexes are decimal, without leading zeros.
func resolve(v any, toks []string) (any, bool) {
	for _, t := range toks {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[t]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			if t == "" || (len(t) > 1 && t[0] == '0') || strings.Trim(t, "0123456789") != "" {
				return nil, false
			}
			i, err := strconv.Atoi(t)
			if err != nil || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// pointerText writes tokens back as a pointer, for messages.
func pointerText(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString("/" + strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// decodeBody reads a JSON body; numbers stay json.Number so that they are
// written back exactly.
func decodeBody(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("malformed JSON: data after the JSON value")
	}
	return v, nil
}

// parseInstant reads an incremental value: an RFC 3339 string, or epoch
// seconds (a number or a string of digits; above 1e11 it is milliseconds).
func parseInstant(v any) (time.Time, bool) {
	var num string
	switch x := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t, true
		}
		num = x
	case json.Number:
		num = x.String()
	default:
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return time.Time{}, false
	}
	if f > 1e11 {
		return time.UnixMilli(int64(f)).UTC(), true
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// sameHost resolves a next URL against the current one and checks it is on
// base_url's scheme and host.
func sameHost(base, cur *url.URL, next string) (string, error) {
	u, err := cur.Parse(next)
	if err != nil {
		return "", fmt.Errorf("unreadable next page URL")
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return "", fmt.Errorf("next page on another host (%s); not sending the access token there", u.Host)
	}
	u.Fragment = ""
	return u.String(), nil
}

// vendor names the connector in a failure's message; the API's error
// bodies are unknown, so nothing is read from them.
var vendor = jobrunner.Vendor{Name: "oauth2"}

// prefix names the connector in a failure's message.
func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
