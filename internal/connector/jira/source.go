package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// Page sizes. search/jql serves at most 100 issues a page when fields are
// requested (up to 5,000 for ids only); project/search at most 50.
const (
	issuesPerPage   = 100
	projectsPerPage = 50
)

// fullHistory bounds the JQL of a run without a checkpoint: search/jql
// refuses unbounded JQL ("Unbounded JQL queries are not allowed here.
// Please add a search restriction to your query."), so the first run asks
// for everything updated since the epoch.
const fullHistory = "1970-01-01 00:00"

// IssuesSource returns the `issues` source: the issues matching the job's
// `jql` parameter, through the enhanced search
//
//	POST {base}/rest/api/3/search/jql
//	{"jql": "updated >= \"{since}\" AND ({jql}) ORDER BY updated ASC",
//	 "fields": ["*all"], "maxResults": 100, "nextPageToken": ...}
//
// following nextPageToken until isLast is true or no token comes (Jira
// omits it on the last page: JRACLOUD-92184). The old /rest/api/3/search is
// gone (410).
// https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
//
// The jql parameter is a filter; an ORDER BY in it is kept, else the
// source orders by updated ASC. Every run is bounded by updated >= the
// checkpoint (the epoch on the first run). JQL datetimes are minutes in the
// Jira user's time zone, so the source asks GET /rest/api/3/myself for
// timeZone and writes the checkpoint, truncated to the minute, in that zone
// (when the zone is unknown to this system, in UTC-12, which can only
// widen the window). The comparison is inclusive: issues updated in the
// checkpoint's minute come again (at least once; deduplicate on id).
//
// The checkpoint is the largest fields.updated emitted, RFC 3339 UTC, or
// the request's Since when nothing came. An issue without a readable
// fields.updated is emitted too, leaves the checkpoint alone and is counted
// in Stats.WithoutCursor (the activity's without_cursor).
func IssuesSource() jobrunner.Source { return issues{} }

// ProjectsSource returns the `projects` source: every project visible to
// the user, GET {base}/rest/api/3/project/search?startAt=&maxResults=50,
// until isLast, until startAt + len(values) reaches total, or until an
// empty page, whichever comes first: a server that keeps saying
// isLast: false must not keep the run going. Projects carry no update time: every run is full and the
// checkpoint is empty.
// https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get
func ProjectsSource() jobrunner.Source { return projects{} }

type issues struct{}

// issuePage is a page of search/jql.
type issuePage struct {
	Issues        []jobrunner.Record `json:"issues"` // nil after DecodePage, which returns them
	NextPageToken string             `json:"nextPageToken"`
	IsLast        *bool              `json:"isLast"`
}

func issuesOf(p *issuePage) *[]jobrunner.Record { return &p.Issues }

func (issues) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(ctx, req)
	if err != nil {
		return "", err
	}
	bound := fullHistory
	if req.Since != "" {
		since, err := time.Parse(time.RFC3339, req.Since)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("jira: checkpoint %q is not an RFC 3339 time", req.Since)}
		}
		loc, err := c.userZone(ctx)
		if err != nil {
			return "", err
		}
		bound = since.In(loc).Format("2006-01-02 15:04")
	}
	jql := buildJQL(req.Params["jql"], bound)

	var hw jobrunner.HighWater   // the largest fields.updated emitted
	var pd jobrunner.PageDecoder // a page is written before the next is read
	token := ""
	for {
		body := map[string]any{"jql": jql, "fields": []string{"*all"}, "maxResults": issuesPerPage}
		if token != "" {
			body["nextPageToken"] = token
		}
		raw, where, err := c.do(ctx, http.MethodPost, c.base+"/rest/api/3/search/jql", body)
		if err != nil {
			return "", err
		}
		p, page, err := jobrunner.DecodePage(&pd, raw, "result", "issues", issuesOf)
		req.HTTP.Reuse(raw) // p and page hold copies
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		if page == nil && p.IsLast == nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": not a search result (no issues or isLast)"}
		}
		for i := range page {
			is := &page[i]
			// An issue without a readable fields.updated (Atlassian's own
			// example issue has none) is written all the same; it cannot
			// move the checkpoint, and the run's activity counts it.
			if at, err := updated(is); err != nil {
				req.HTTP.Stats().WithoutCursor.Add(1)
			} else {
				hw.See(at)
			}
			if err := req.Emit(emit, is); err != nil {
				return "", err
			}
		}
		if (p.IsLast != nil && *p.IsLast) || p.NextPageToken == "" {
			break
		}
		if p.NextPageToken == token {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": nextPageToken did not advance"}
		}
		token = p.NextPageToken
	}
	return hw.Checkpoint(req.Since, time.RFC3339Nano), nil
}

var orderByRE = regexp.MustCompile(`(?i)\border\s+by\b`)

// buildJQL bounds the user's filter by updated >= bound and orders it by
// updated ASC unless it has its own ORDER BY.
func buildJQL(user, bound string) string {
	filter, order := strings.TrimSpace(user), "ORDER BY updated ASC"
	if loc := orderByRE.FindAllStringIndex(filter, -1); loc != nil {
		last := loc[len(loc)-1][0]
		filter, order = strings.TrimSpace(filter[:last]), strings.TrimSpace(filter[last:])
	}
	q := `updated >= "` + bound + `"`
	if filter != "" {
		q += " AND (" + filter + ")"
	}
	return q + " " + order
}

// updated reads fields.updated (2026-11-26T12:00:00.000+0000).
func updated(is *jobrunner.RawRecord) (time.Time, error) {
	v, _ := is.Lookup("fields", "updated")
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errors.New("no fields.updated")
	}
	t, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, fmt.Errorf("fields.updated %q is not a datetime", s)
		}
	}
	return t, nil
}

// userZone returns the time zone JQL dates are read in: the user's
// timeZone from /rest/api/3/myself.
func (c *client) userZone(ctx context.Context) (*time.Location, error) {
	raw, where, err := c.do(ctx, http.MethodGet, c.base+"/rest/api/3/myself", nil)
	if err != nil {
		return nil, err
	}
	me, err := jobrunner.DecodeJSON[struct {
		TimeZone string `json:"timeZone"`
	}](raw, "result")
	if err != nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
	}
	if me.TimeZone != "" {
		if loc, err := time.LoadLocation(me.TimeZone); err == nil {
			return loc, nil
		}
	}
	return time.FixedZone("UTC-12", -12*3600), nil
}

type projects struct{}

// projectPage is a page of project/search.
type projectPage struct {
	Values []jobrunner.Record `json:"values"` // nil after DecodePage, which returns them
	IsLast *bool              `json:"isLast"`
	Total  *int64             `json:"total"`
}

func valuesOf(p *projectPage) *[]jobrunner.Record { return &p.Values }

func (projects) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(ctx, req)
	if err != nil {
		return "", err
	}
	start := 0
	var pd jobrunner.PageDecoder // a page is written before the next is read
	for {
		u := c.base + "/rest/api/3/project/search?" + url.Values{
			"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(projectsPerPage)}, "orderBy": {"key"},
		}.Encode()
		raw, where, err := c.do(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		p, values, err := jobrunner.DecodePage(&pd, raw, "result", "values", valuesOf)
		req.HTTP.Reuse(raw) // p and values hold copies
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		if values == nil || p.IsLast == nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": not a project page (no values or isLast)"}
		}
		for i := range values {
			if err := req.Emit(emit, &values[i]); err != nil {
				return "", err
			}
		}
		next := start + len(values)
		if *p.IsLast || len(values) == 0 || (p.Total != nil && int64(next) >= *p.Total) {
			return "", nil
		}
		start = next
	}
}

// client sends the authenticated requests of one run.
type client struct {
	req   jobrunner.Request
	base  string
	oauth bool
	cred  *jobrunner.Credential // the Authorization header
}

// newClient picks the base and credentials: base_url when set; else, for
// OAuth, api_base (https://api.atlassian.com/ex/jira/{cloudId}) with a
// Bearer token; else site_url with Basic {email}:{api_token}.
func newClient(ctx context.Context, req jobrunner.Request) (*client, error) {
	c := &client{req: req, oauth: req.Fields["auth"] == "oauth2"}
	raw := strings.TrimRight(req.Fields["base_url"], "/")
	if raw == "" && c.oauth {
		raw = strings.TrimRight(req.Fields["api_base"], "/")
	}
	if raw == "" {
		raw = strings.TrimRight(req.Fields["site_url"], "/")
	}
	if raw == "" {
		msg := "jira: site_url is not set"
		if c.oauth {
			msg = "jira: the connection has no site (cloud id): reauthorize it, or set base_url"
		}
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: msg}
	}
	u, err := vendor.BaseURL("API base", raw)
	if err != nil {
		return nil, err
	}
	c.base = u.String()
	if c.oauth {
		cred, err := jobrunner.OAuthCredential(ctx, req, "Bearer")
		if err != nil {
			return nil, prefix(err)
		}
		c.cred = cred
		return c, nil
	}
	email, token := req.Fields["email"], req.Secrets["api_token"]
	if email == "" || token == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "jira: email and api_token must be set"}
	}
	c.cred = jobrunner.StaticCredential("Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token)))
	return c, nil
}

// do sends one request (body, when non-nil, as JSON). An OAuth token
// refused with 401 is refreshed once and the request sent again.
func (c *client) do(ctx context.Context, method, u string, body any) ([]byte, string, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "jira: encode request: " + err.Error()}
		}
	}
	where := ""
	a, err := c.cred.Send(ctx, c.req.HTTP, func() (*http.Request, error) {
		r, err := jobrunner.JSONRequest(ctx, "jira", method, u, payload)
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

// vendor describes Jira's failed answers.
var vendor = jobrunner.Vendor{Name: "jira", Explain: explain}

// explain adds Jira's errorMessages to a failed answer; a 400 (bad JQL) is
// config; a CAPTCHA demand is named. (A 401 after a refreshed token gets
// Describe's note instead of a hint.)
// https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/#status-codes
func explain(a jobrunner.Answer, f *jobrunner.Failure) {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(a.Body, &e) == nil {
		parts := e.ErrorMessages
		for k, v := range e.Errors {
			parts = append(parts, k+": "+v)
		}
		if text := jobrunner.Clip(strings.Join(parts, "; "), 300); text != "" {
			f.Message += ": " + text
		}
	}
	switch {
	case a.Status == http.StatusBadRequest:
		f.Reason = jobrunner.ReasonConfig
	case a.Status == http.StatusUnauthorized && a.Refreshed:
		// Describe says it was refused again after a refresh: no hint.
	case strings.Contains(a.Header.Get("X-Seraph-LoginReason"), "AUTHENTICATION_DENIED"):
		f.Message += " (Atlassian wants a CAPTCHA after failed sign-ins: sign in to the site once in a browser)"
	case a.Status == http.StatusUnauthorized:
		f.Message += " (check email and api_token, or reauthorize)"
	}
}

// prefix names Jira in a failure's message.
func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
