package surveymonkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// Page sizes: /v3/surveys serves up to 1,000 a page, responses/bulk 100.
// https://api.surveymonkey.com/v3/docs#api-endpoints-get-surveys
// https://api.surveymonkey.com/v3/docs#api-endpoints-get-surveys-id-responses-bulk
const (
	surveysPerPage   = 1000
	responsesPerPage = 100
)

// DefaultBase is the US data centre; EU and CA accounts use the access_url
// of their token, the host of their region, or base_url.
const DefaultBase = "https://api.surveymonkey.com"

// surveyFields are the optional fields /v3/surveys returns with include=
// (without it, only id, title, nickname and href).
const surveyFields = "response_count,date_created,date_modified,language,question_count,analyze_url,preview"

// SurveysSource returns the `surveys` source: GET {base}/v3/surveys?
// include=...&sort_by=date_modified&sort_order=ASC&per_page=1000&page=1
// [&start_modified_at=], following links.next. With a checkpoint only the
// surveys modified since it come; the checkpoint is the largest
// date_modified emitted (RFC 3339 UTC).
//
// start_modified_at selects surveys modified "after" the date, to the
// second, in UTC (YYYY-MM-DDTHH:MM:SS); the source passes the checkpoint
// minus one second, so a survey modified in the checkpoint's second again
// is not lost: delivery is at least once, deduplicate on id.
func SurveysSource() jobrunner.Source { return surveys{} }

// ResponsesSource returns the `responses` source: for every survey (all of
// them: a new response does not change a survey's date_modified), GET
// {base}/v3/surveys/{id}/responses/bulk?per_page=100&sort_by=date_modified&
// sort_order=ASC[&start_modified_at=], following links.next. The
// checkpoint is the largest date_modified over all responses emitted;
// start_modified_at is handled as for surveys.
func ResponsesSource() jobrunner.Source { return responses{} }

type surveys struct{}

func (surveys) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(ctx, req)
	if err != nil {
		return "", err
	}
	start, err := startModified(req.Since)
	if err != nil {
		return "", err
	}
	q := url.Values{"include": {surveyFields}, "sort_by": {"date_modified"}, "sort_order": {"ASC"}, "per_page": {strconv.Itoa(surveysPerPage)}, "page": {"1"}}
	if start != "" {
		q.Set("start_modified_at", start)
	}
	var hw jobrunner.HighWater // the largest date_modified emitted
	err = c.list(ctx, c.base.String()+"/v3/surveys?"+q.Encode(), func(s jobrunner.Record) error {
		at, err := modified(s)
		if err != nil {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("surveymonkey: survey %v: %v", s["id"], err)}
		}
		hw.See(at)
		return emit(s)
	})
	if err != nil {
		return "", err
	}
	return hw.Checkpoint(req.Since, time.RFC3339), nil
}

type responses struct{}

func (responses) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(ctx, req)
	if err != nil {
		return "", err
	}
	start, err := startModified(req.Since)
	if err != nil {
		return "", err
	}
	// The survey ids first: every survey, however old.
	var ids []string
	q := url.Values{"per_page": {strconv.Itoa(surveysPerPage)}, "page": {"1"}}
	err = c.list(ctx, c.base.String()+"/v3/surveys?"+q.Encode(), func(s jobrunner.Record) error {
		id := idString(s["id"])
		if id == "" {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "surveymonkey: a survey without an id"}
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return "", err
	}
	var hw jobrunner.HighWater // the largest date_modified emitted
	for _, id := range ids {
		q := url.Values{"per_page": {strconv.Itoa(responsesPerPage)}, "sort_by": {"date_modified"}, "sort_order": {"ASC"}}
		if start != "" {
			q.Set("start_modified_at", start)
		}
		u := c.base.String() + "/v3/surveys/" + url.PathEscape(id) + "/responses/bulk?" + q.Encode()
		err := c.list(ctx, u, func(r jobrunner.Record) error {
			at, err := modified(r)
			if err != nil {
				return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("surveymonkey: survey %s response %v: %v", id, r["id"], err)}
			}
			hw.See(at)
			return emit(r)
		})
		if err != nil {
			return "", err
		}
	}
	return hw.Checkpoint(req.Since, time.RFC3339), nil
}

// startModified turns a checkpoint into start_modified_at: one second
// earlier, UTC, YYYY-MM-DDTHH:MM:SS ("" without a checkpoint).
func startModified(since string) (string, error) {
	if since == "" {
		return "", nil
	}
	t, err := time.Parse(time.RFC3339, since)
	if err != nil {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("surveymonkey: checkpoint %q is not an RFC 3339 time", since)}
	}
	return t.UTC().Truncate(time.Second).Add(-time.Second).Format("2006-01-02T15:04:05"), nil
}

// modified reads date_modified: 2026-11-26T12:00:00+00:00, or without an
// offset (UTC), as surveys list it.
func modified(r jobrunner.Record) (time.Time, error) {
	s, ok := r["date_modified"].(string)
	if !ok {
		return time.Time{}, errors.New("no date_modified")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("date_modified %q is not a datetime", s)
}

func idString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

// client sends the authenticated GETs of one run.
type client struct {
	req   jobrunner.Request
	base  *url.URL
	oauth bool
	cred  *jobrunner.Credential // the Authorization header
}

// newClient picks the base (base_url; else, for OAuth, the token's
// access_url; else the region's host) and the Bearer token (the private app's
// access_token, or the OAuth token).
func newClient(ctx context.Context, req jobrunner.Request) (*client, error) {
	c := &client{req: req, oauth: req.Fields["auth"] == "oauth2"}
	raw := strings.TrimRight(req.Fields["base_url"], "/")
	if raw == "" && c.oauth {
		raw = strings.TrimRight(req.Fields["api_base"], "/")
	}
	if raw == "" {
		raw = Host(req.Fields["region"])
	}
	u, err := vendor.BaseURL("API base", raw)
	if err != nil {
		return nil, err
	}
	c.base = u
	if c.oauth {
		if req.Token == nil {
			// This run cannot ask for the token again: a 401 is final.
			tok, err := req.AccessToken(ctx, false)
			if err != nil {
				return nil, prefix(err)
			}
			c.cred = jobrunner.StaticCredential("Bearer " + tok)
			return c, nil
		}
		cred, err := jobrunner.OAuthCredential(ctx, req, "Bearer")
		if err != nil {
			return nil, prefix(err)
		}
		c.cred = cred
		return c, nil
	}
	tok := req.Secrets["access_token"]
	if tok == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "surveymonkey: access_token is not set"}
	}
	c.cred = jobrunner.StaticCredential("Bearer " + tok)
	return c, nil
}

// listPage is a page of a collection.
type listPage struct {
	Data  []jobrunner.Record `json:"data"`
	Links struct {
		Next string `json:"next"`
	} `json:"links"`
}

// list GETs a paged collection, {"data": [...], "per_page", "page",
// "total", "links": {"self", "next", "last"}}, and passes each item to
// each, following links.next (on the same host: it carries the token).
func (c *client) list(ctx context.Context, next string, each func(jobrunner.Record) error) error {
	for next != "" {
		body, where, err := c.get(ctx, next)
		if err != nil {
			return err
		}
		p, err := jobrunner.DecodeJSON[listPage](body, "page")
		if err != nil {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		if p.Data == nil {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": not a list (no data)"}
		}
		for _, it := range p.Data {
			if err := each(it); err != nil {
				return err
			}
		}
		if p.Links.Next == "" {
			return nil
		}
		u, err := c.base.Parse(p.Links.Next)
		if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
			host := ""
			if u != nil {
				host = u.Host
			}
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("%s: links.next on another host (%s); not sending the token there", where, host)}
		}
		if u.String() == next {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": links.next is the page just read"}
		}
		next = u.String()
	}
	return nil
}

// get sends one GET; an OAuth token refused with 401 is asked for again
// once (SurveyMonkey tokens do not expire, but the connection may have been
// reauthorized meanwhile).
func (c *client) get(ctx context.Context, u string) ([]byte, string, error) {
	where := ""
	a, err := c.cred.Send(ctx, c.req.HTTP, func() (*http.Request, error) {
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
	// SurveyMonkey's error id says why a token was refused (1011), so its
	// messages never added Describe's note on a 401 after a refreshed token.
	a.Refreshed = false
	return nil, where, vendor.Describe(err, a)
}

// vendor describes SurveyMonkey's failed answers.
var vendor = jobrunner.Vendor{Name: "surveymonkey", Explain: explain}

// explain adds SurveyMonkey's error ({"error": {"id", "name", "docs",
// "message", "http_status_code"}}) to a failed answer. Error 1018 (the
// account is in another data centre) is config.
// https://api.surveymonkey.com/v3/docs#error-codes
func explain(a jobrunner.Answer, f *jobrunner.Failure) {
	var e struct {
		Error struct {
			ID      any    `json:"id"`
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(a.Body, &e) != nil || e.Error.ID == nil {
		return
	}
	id := fmt.Sprint(e.Error.ID)
	f.Message += ": error " + id
	if text := jobrunner.Clip(e.Error.Message, 300); text != "" {
		f.Message += ": " + text
	}
	if id == "1018" {
		f.Reason = jobrunner.ReasonConfig
		f.Message += " (the account lives in another data centre: set region=eu (api.eu.surveymonkey.com) or region=ca (api.surveymonkey.ca))"
	}
}

// prefix names SurveyMonkey in a failure's message.
func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
