package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// DefaultBase is the API host unless the connection sets base_url.
const DefaultBase = "https://api.hubapi.com"

const (
	pageSize  = 100    // the largest limit the list and search endpoints take
	searchCap = 10_000 // the search endpoint pages no further than this many results per query
	maxMsg    = 300    // bounds the HubSpot error text a failure quotes
)

// The properties each source asks for. The modified-date property must stay:
// it is the incremental field.
var (
	companyProperties = []string{"name", "domain", "industry", "phone", "city", "state", "country",
		"numberofemployees", "annualrevenue", "lifecyclestage", "hubspot_owner_id", "createdate", "hs_lastmodifieddate"}
	contactProperties = []string{"firstname", "lastname", "email", "phone", "jobtitle", "company",
		"lifecyclestage", "hubspot_owner_id", "createdate", "lastmodifieddate"}
)

// CompaniesSource returns the `companies` source: company objects.
func CompaniesSource() jobrunner.Source {
	return &source{object: "companies", modified: "hs_lastmodifieddate", properties: companyProperties, cap: searchCap}
}

// ContactsSource returns the `contacts` source: contact objects. Contacts
// keep their modification time in lastmodifieddate, not hs_lastmodifieddate.
func ContactsSource() jobrunner.Source {
	return &source{object: "contacts", modified: "lastmodifieddate", properties: contactProperties, cap: searchCap}
}

// source reads one CRM object type.
//
// A run without a checkpoint lists every object:
//
//	GET {base}/crm/v3/objects/{object}?limit=100&properties=...&archived=false[&after={cursor}]
//
// following paging.next.after until there is none.
// https://developers.hubspot.com/docs/api-reference/latest/crm/objects/companies/get-companies
//
// A run with a checkpoint searches:
//
//	POST {base}/crm/v3/objects/{object}/search
//	{"filterGroups":[{"filters":[{"propertyName":modified,"operator":"GTE","value":"{epoch ms}"}]}],
//	 "sorts":[modified],"properties":[...],"limit":100,"after":"{cursor, 0 on the first page}"}
//
// https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm
// A search pages through at most 10,000 results; past that the source starts
// a new search (a new window) from the last modification time it read. The
// comparison is inclusive, so the objects at exactly a window's (or the
// checkpoint's) millisecond come again: at least once, deduplicate on id.
// More than 10,000 objects changed in a single millisecond cannot be read and
// fail the run.
//
// Objects are emitted as HubSpot returns them: {id, properties{...},
// createdAt, updatedAt, archived}. The checkpoint is the largest modified
// property read, RFC 3339 UTC with milliseconds (a full run sets it too, so
// the next run is incremental), or the request's Since when nothing came.
//
// Authorization is Bearer: the private app's access_token, or the OAuth
// access token, refreshed once when HubSpot answers 401 (30-minute tokens).
type source struct {
	object     string
	modified   string
	properties []string
	cap        int // searchCap; tests lower it
}

// object is one CRM object as the list and search endpoints return it.
type object = jobrunner.Record

type page struct {
	Results []object `json:"results"` // as decoded by DecodePage: nil; see records
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`

	records []jobrunner.RawRecord // the results, as DecodePage read them
}

// results is where a page's records are.
func results(p *page) *[]object { return &p.Results }

func (p *page) after() string {
	if p.Paging == nil || p.Paging.Next == nil {
		return ""
	}
	return p.Paging.Next.After
}

func (s *source) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	base, err := apiBase(req.Fields)
	if err != nil {
		return "", err
	}
	var since time.Time
	incremental := req.Since != ""
	if incremental {
		if since, err = parseTime(req.Since); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("hubspot: checkpoint %q is not a datetime", req.Since)}
		}
	}
	c := &caller{req: req, client: req.HTTP.WithThrottle(throttle)}
	if err := c.start(ctx); err != nil {
		return "", err
	}

	var hw jobrunner.HighWater // the largest modified property read
	take := func(p *page) error {
		for i := range p.records {
			rec := &p.records[i]
			at, ok := s.modifiedAt(rec)
			if !ok {
				id, _ := rec.Get("id")
				return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("hubspot: %s %v has no readable %s", s.object, id, s.modified)}
			}
			hw.See(at)
			if err := req.Emit(emit, rec); err != nil {
				return err
			}
		}
		return nil
	}

	if !incremental {
		after := ""
		for {
			q := url.Values{"limit": {strconv.Itoa(pageSize)}, "properties": {strings.Join(s.properties, ",")}, "archived": {"false"}}
			if after != "" {
				q.Set("after", after)
			}
			p, err := c.page(ctx, http.MethodGet, base+"/crm/v3/objects/"+s.object+"?"+q.Encode(), nil)
			if err != nil {
				return "", err
			}
			if err := take(p); err != nil {
				return "", err
			}
			next := p.after()
			if next == "" {
				break
			}
			if next == after {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "hubspot: paging.next.after repeats the page just read"}
			}
			after = next
		}
	} else {
		window := since // the GTE bound of the current search
		after, inWindow := "", 0
		for {
			body, err := json.Marshal(s.search(window, after))
			if err != nil {
				return "", err
			}
			p, err := c.page(ctx, http.MethodPost, base+"/crm/v3/objects/"+s.object+"/search", body)
			if err != nil {
				return "", err
			}
			if err := take(p); err != nil {
				return "", err
			}
			inWindow += len(p.records)
			next := p.after()
			if next == "" {
				break
			}
			if inWindow+pageSize <= s.cap {
				if next == after {
					return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "hubspot: paging.next.after repeats the page just read"}
				}
				after = next
				continue
			}
			// The next page would pass the search cap: search again from
			// the last modification time read.
			last := hw.Latest().Truncate(time.Millisecond)
			if !last.After(window) {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf(
					"hubspot: more than %d %s have %s %s: the search cannot page past them", s.cap, s.object, s.modified, format(window))}
			}
			window, after, inWindow = last, "", 0
		}
	}
	return hw.Checkpoint(req.Since, checkpointLayout), nil
}

// search is the body of one search request. after is "0" on the first page
// of a window.
//
// HubSpot's published spec (PublicObjectSearchRequest in
// HubSpot-public-api-spec-collection, CRM Contacts/Companies v3 and
// 2026-03) requires after, filterGroups, limit, properties and sorts, and
// types sorts as an array of strings; HubSpot's search guide shows sort
// objects ({propertyName, direction}). The form both accept is a property
// name string, which the live search sorts ascending by: it validates
// against the spec and is what HubSpot's own client libraries send (their
// sorts are Array<string>). Search cursors are offsets ("100"), so the
// first page asks for "0" rather than leaving after out.
func (s *source) search(from time.Time, after string) map[string]any {
	if after == "" {
		after = "0"
	}
	return map[string]any{
		"filterGroups": []any{map[string]any{"filters": []any{map[string]any{
			"propertyName": s.modified, "operator": "GTE", "value": strconv.FormatInt(from.UnixMilli(), 10),
		}}}},
		"sorts":      []string{s.modified},
		"properties": s.properties,
		"limit":      pageSize,
		"after":      after,
	}
}

func (s *source) modifiedAt(rec *jobrunner.RawRecord) (time.Time, bool) {
	p, _ := rec.Lookup("properties", s.modified)
	v, _ := p.(string)
	if v == "" {
		return time.Time{}, false
	}
	t, err := parseTime(v)
	return t, err == nil
}

// caller sends requests with the connection's token.
type caller struct {
	req    jobrunner.Request
	client *jobrunner.HTTP
	cred   *jobrunner.Credential
	pages  jobrunner.PageDecoder // a page's records are used before the next is read
}

func (c *caller) start(ctx context.Context) error {
	if tok := c.req.Secrets["access_token"]; tok != "" {
		c.cred = jobrunner.StaticCredential("Bearer " + tok) // private app: a static token
		return nil
	}
	cred, err := jobrunner.OAuthCredential(ctx, c.req, "Bearer")
	if err != nil {
		return prefix(err)
	}
	c.cred = cred // OAuth: refreshed once on a 401
	return nil
}

func (c *caller) page(ctx context.Context, method, u string, body []byte) (*page, error) {
	var r *http.Request
	a, err := c.cred.Send(ctx, c.client, func() (*http.Request, error) {
		var err error
		r, err = jobrunner.JSONRequest(ctx, "hubspot", method, u, body)
		return r, err
	})
	if err != nil {
		return nil, vendor.Describe(err, a)
	}
	where := vendor.Where(r)
	p, recs, err := jobrunner.DecodePage(&c.pages, a.Body, "result", "results", results)
	c.req.HTTP.Reuse(a.Body) // p and recs hold copies
	if err != nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
	}
	p.records = recs
	if p.records == nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": not a list of objects (no results)"}
	}
	return &p, nil
}

// apiBase returns base_url (without a trailing slash) or DefaultBase.
func apiBase(fields map[string]string) (string, error) {
	raw := strings.TrimRight(fields["base_url"], "/")
	if raw == "" {
		return DefaultBase, nil
	}
	if _, err := vendor.BaseURL("base_url", raw); err != nil {
		return "", err
	}
	return raw, nil
}

// parseTime reads a HubSpot datetime property (ISO 8601,
// 2026-11-26T12:00:00.123Z) or epoch milliseconds, the other form a
// checkpoint may take.
func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// checkpointLayout is the form of checkpoints: RFC 3339 with milliseconds.
const checkpointLayout = "2006-01-02T15:04:05.000Z07:00"

func format(t time.Time) string { return t.UTC().Format(checkpointLayout) }

// apiError is HubSpot's error body:
// {"status":"error","message":"...","correlationId":"...","category":"...","policyName":"..."}.
// https://developers.hubspot.com/docs/api/error-handling
type apiError struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	Category   string `json:"category"`
	ErrorType  string `json:"errorType"`
	PolicyName string `json:"policyName"`
}

func vendorError(body []byte) (apiError, bool) {
	var e apiError
	if json.Unmarshal(body, &e) != nil || (e.Message == "" && e.Category == "") {
		return apiError{}, false
	}
	return e, true
}

// throttle waits out a 429. HubSpot limits each app per ten-second (or,
// for search, one-second) window and says so in
// X-HubSpot-RateLimit-Interval-Milliseconds; a Retry-After, when sent,
// wins (the HTTP client prefers it). The daily limit (policyName DAILY)
// cannot clear within a run; it is still retried with the usual backoff and
// then reported as rate_limit.
// https://developers.hubspot.com/docs/api/usage-details
func throttle(status int, body []byte, h http.Header) (bool, time.Duration) {
	if status != http.StatusTooManyRequests {
		return false, 0
	}
	if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
		if h.Get("X-HubSpot-RateLimit-Remaining") == "" || h.Get("X-HubSpot-RateLimit-Remaining") == "0" {
			return true, time.Duration(ms) * time.Millisecond
		}
	}
	if e, ok := vendorError(body); ok {
		switch strings.ToUpper(e.PolicyName) {
		case "TEN_SECONDLY_ROLLING":
			return true, 10 * time.Second
		case "SECONDLY", "SECONDLY_ROLLING":
			return true, time.Second
		}
	}
	return true, 0
}

// vendor describes HubSpot's failed answers.
var vendor = jobrunner.Vendor{Name: "hubspot", Explain: explain}

// explain adds HubSpot's category and message to a failed response; a 400
// (an unknown property in a search filter, say) is a config failure.
func explain(a jobrunner.Answer, f *jobrunner.Failure) {
	if e, ok := vendorError(a.Body); ok {
		if e.Category != "" {
			f.Message += ": " + e.Category
		}
		if e.PolicyName != "" {
			f.Message += " (" + e.PolicyName + ")"
		}
		if text := jobrunner.Clip(e.Message, maxMsg); text != "" {
			f.Message += ": " + text
		}
	}
	if a.Status == http.StatusBadRequest {
		f.Reason = jobrunner.ReasonConfig
	}
}

func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
