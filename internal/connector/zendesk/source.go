package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/connctl/connctl/internal/jobrunner"
)

// The sources read Zendesk's Incremental Exports API.
// https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
// https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api
//
// "The Incremental Ticket Export and Incremental User Export endpoints
// support two export methods: cursor-based and time-based. [...] The other
// endpoints only support time-based exports." So tickets and users use the
// cursor-based export and save the after_cursor as the checkpoint;
// organizations use the time-based export and save its end_time (Unix
// seconds).
//
// The export excludes items changed in the minute before the request, and
// allows 10 requests a minute (30 with the High Volume add-on); over the
// limit Zendesk answers 429 with Retry-After, which the HTTP client waits
// out.

// TicketsSource returns the `tickets` source: the cursor-based Incremental
// Ticket Export, GET /api/v2/incremental/tickets/cursor.json.
func TicketsSource() jobrunner.Source { return &cursorExport{resource: "tickets"} }

// UsersSource returns the `users` source: the cursor-based Incremental User
// Export, GET /api/v2/incremental/users/cursor.json.
func UsersSource() jobrunner.Source { return &cursorExport{resource: "users"} }

// OrganizationsSource returns the `organizations` source: the time-based
// Incremental Organization Export, GET /api/v2/incremental/organizations.json
// (Zendesk offers no cursor-based variant for organizations).
func OrganizationsSource() jobrunner.Source { return &timeExport{resource: "organizations"} }

// cursorExport pages through a cursor-based incremental export:
//
//	GET {base}/api/v2/incremental/{resource}/cursor.json?start_time=0   (first run)
//	GET {base}/api/v2/incremental/{resource}/cursor.json?cursor={after_cursor}
//
// until end_of_stream is true. Each page is {"{resource}": [...],
// "after_cursor", "after_url", "before_cursor", "before_url",
// "end_of_stream"}. The checkpoint is the last after_cursor Zendesk returned
// (the docs: keep the after_cursor of the last page and pass it on the next
// poll); a run with nothing new returns it again, or the request's Since.
// A cursor resumes exactly where the export stopped, but an item changed
// again after it was exported comes again (with its new state): consumers
// deduplicate on id, keeping the latest updated_at.
type cursorExport struct{ resource string }

func (s *cursorExport) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(ctx, req)
	if err != nil {
		return "", err
	}
	endpoint := c.base.String() + "/api/v2/incremental/" + s.resource + "/cursor.json?"
	q := url.Values{"start_time": {"0"}}
	if req.Since != "" {
		q = url.Values{"cursor": {req.Since}}
	}
	checkpoint := req.Since
	var pd jobrunner.PageDecoder
	for {
		body, where, err := c.get(ctx, endpoint+q.Encode())
		if err != nil {
			return "", err
		}
		var p struct {
			AfterCursor *string `json:"after_cursor"`
			EndOfStream *bool   `json:"end_of_stream"`
		}
		items, err := decodePage(&pd, body, s.resource, &p)
		req.HTTP.Reuse(body) // items and p hold copies
		if err == nil && p.EndOfStream == nil {
			err = errors.New("not an incremental export page (no end_of_stream)")
		}
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		for i := range items {
			if err := req.Emit(emit, &items[i]); err != nil {
				return "", err
			}
		}
		if p.AfterCursor != nil && *p.AfterCursor != "" {
			checkpoint = *p.AfterCursor
		}
		if *p.EndOfStream {
			return checkpoint, nil
		}
		if p.AfterCursor == nil || *p.AfterCursor == "" {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": end_of_stream is false but there is no after_cursor"}
		}
		if q.Get("cursor") == *p.AfterCursor {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": after_cursor did not advance"}
		}
		q = url.Values{"cursor": {*p.AfterCursor}}
	}
}

// timeExport pages through a time-based incremental export:
//
//	GET {base}/api/v2/incremental/{resource}.json?start_time={unix}
//
// then the next_page URL, until end_of_stream is true. Each page is
// {"{resource}": [...], "count", "end_of_stream", "end_time", "next_page"}.
// The checkpoint is the last page's end_time (Unix seconds), the start_time
// of the next run; the first run starts at 0. Time-based exports may repeat
// items across pages and runs (the docs say so): delivery is at least once,
// deduplicate on id.
type timeExport struct{ resource string }

func (s *timeExport) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(ctx, req)
	if err != nil {
		return "", err
	}
	start := "0"
	if req.Since != "" {
		n, err := strconv.ParseInt(req.Since, 10, 64)
		if err != nil || n < 0 {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("zendesk: checkpoint %q is not a Unix time (start_time)", req.Since)}
		}
		start = req.Since
	}
	checkpoint := req.Since
	var pd jobrunner.PageDecoder
	next := c.base.String() + "/api/v2/incremental/" + s.resource + ".json?" + url.Values{"start_time": {start}}.Encode()
	for {
		body, where, err := c.get(ctx, next)
		if err != nil {
			return "", err
		}
		var p struct {
			EndOfStream *bool        `json:"end_of_stream"`
			EndTime     *json.Number `json:"end_time"`
			NextPage    *string      `json:"next_page"`
		}
		items, err := decodePage(&pd, body, s.resource, &p)
		req.HTTP.Reuse(body) // items and p hold copies
		if err == nil && p.EndOfStream == nil {
			err = errors.New("not an incremental export page (no end_of_stream)")
		}
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		for i := range items {
			if err := req.Emit(emit, &items[i]); err != nil {
				return "", err
			}
		}
		if p.EndTime != nil {
			if n, err := p.EndTime.Int64(); err == nil && n > 0 {
				checkpoint = strconv.FormatInt(n, 10)
			}
		}
		if *p.EndOfStream {
			return checkpoint, nil
		}
		if p.NextPage == nil || *p.NextPage == "" {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": end_of_stream is false but there is no next_page"}
		}
		u, err := c.sameHost(*p.NextPage)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		if u == next {
			// More items share one timestamp than a page holds: the
			// export cannot advance.
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": next_page is the page just read (too many items at one timestamp)"}
		}
		next = u
	}
}

// client sends the authenticated GETs of one run.
type client struct {
	base *url.URL
	http *jobrunner.HTTP
	cred *jobrunner.Credential // the Authorization header
}

func newClient(ctx context.Context, req jobrunner.Request) (*client, error) {
	base, err := apiBase(req.Fields)
	if err != nil {
		return nil, err
	}
	c := &client{base: base, http: req.HTTP}
	if req.Fields["auth"] == "oauth2" {
		cred, err := jobrunner.OAuthCredential(ctx, req, "Bearer")
		if err != nil {
			return nil, prefix(err)
		}
		c.cred = cred
		return c, nil
	}
	email, token := req.Fields["email"], req.Secrets["api_token"]
	if email == "" || token == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "zendesk: email and api_token must be set"}
	}
	c.cred = jobrunner.StaticCredential("Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+token)))
	return c, nil
}

// get sends one GET. An OAuth connection whose token is refused (401)
// refreshes it once and sends the request again.
func (c *client) get(ctx context.Context, u string) ([]byte, string, error) {
	where := ""
	a, err := c.cred.Send(ctx, c.http, func() (*http.Request, error) {
		r, err := jobrunner.JSONRequest(ctx, vendor.Name, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		where = vendor.Where(r)
		return r, nil
	})
	if err == nil {
		return a.Body, where, nil
	}
	return nil, where, vendor.Describe(err, a)
}

// sameHost checks that a next page URL is on the API host: the request
// carries the credentials.
func (c *client) sameHost(next string) (string, error) {
	u, err := c.base.Parse(next)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("unreadable next_page %q", next)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return "", fmt.Errorf("next page on another host (%s); not sending the credentials there", u.Host)
	}
	return u.String(), nil
}

// apiBase is base_url when set, else https://{subdomain}.zendesk.com.
func apiBase(fields map[string]string) (*url.URL, error) {
	raw := strings.TrimRight(fields["base_url"], "/")
	if raw == "" {
		sub := strings.TrimSpace(fields["subdomain"])
		if sub == "" {
			return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "zendesk: subdomain is not set"}
		}
		sub = strings.TrimSuffix(sub, ".zendesk.com")
		raw = "https://" + sub + ".zendesk.com"
	}
	return vendor.BaseURL("API base", raw)
}

// decodePage decodes an export page into meta and returns its items (the
// array under key), each as it is written. Numbers stay as sent, so ids are
// written exactly. Pages the fast path cannot read exactly as the decode
// below would (jobrunner.SplitPage) are decoded that way instead, so that
// errors and output do not depend on the path. The items are valid until
// pd reads the next page.
func decodePage(pd *jobrunner.PageDecoder, body []byte, key string, meta any) ([]jobrunner.RawRecord, error) {
	if rest, items, ok := jobrunner.SplitPage(pd, body, key); ok && items != nil {
		if json.Unmarshal(rest, meta) == nil {
			return items, nil
		}
	}
	raw, err := jobrunner.DecodeJSON[map[string]json.RawMessage](body, "page")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, meta); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	list, ok := raw[key]
	if !ok {
		return nil, fmt.Errorf("not an incremental export page (no %s)", key)
	}
	var items []jobrunner.Record
	d := json.NewDecoder(bytes.NewReader(list))
	d.UseNumber()
	if err := d.Decode(&items); err != nil {
		return nil, fmt.Errorf("malformed JSON: %s: %v", key, err)
	}
	return jobrunner.RawRecords(items)
}

// vendor describes Zendesk's failed answers.
var vendor = jobrunner.Vendor{Name: "zendesk", Explain: explain}

// explain adds Zendesk's error text ({"error": "...", "description": ...}
// or {"error": {"title", "message"}}) and a hint to a failed answer. (A
// 401 after a refreshed token gets Describe's note instead of a hint.)
func explain(a jobrunner.Answer, f *jobrunner.Failure) {
	var e struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"description"`
	}
	if json.Unmarshal(a.Body, &e) == nil && len(e.Error) > 0 {
		var code string
		var obj struct{ Title, Message string }
		if json.Unmarshal(e.Error, &code) != nil && json.Unmarshal(e.Error, &obj) == nil {
			code = obj.Title
		}
		if code = jobrunner.Clip(code, 200); code != "" {
			f.Message += ": " + code
		}
	}
	switch {
	case a.Status == http.StatusUnauthorized && a.Refreshed:
		// Describe says it was refused again after a refresh: no hint.
	case a.Status == http.StatusUnauthorized:
		f.Message += " (check email and api_token, or reauthorize)"
	case a.Status == http.StatusForbidden:
		f.Message += " (the incremental export needs an admin)"
	}
}

// prefix names Zendesk in a failure's message.
func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
