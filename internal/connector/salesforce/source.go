package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// DefaultAPIVersion is the REST API version the sources call unless the job
// sets api_version. v62.0 is Winter '25: every org in service has it, and
// Salesforce supports a version for years after its release.
const DefaultAPIVersion = "62.0"

// SinceMark is the placeholder a `soql` query may hold to run
// incrementally: each run replaces it with a SOQL datetime literal, the
// checkpoint (or the Unix epoch on the first run).
const SinceMark = "{since}"

// fullHistory is the {since} of a run without a checkpoint.
const fullHistory = "1970-01-01T00:00:00Z"

// maxMessage bounds the Salesforce error text a failure message quotes.
const maxMessage = 300

// The standard fields each object source selects. Each list holds fields
// every edition has; Id and SystemModstamp must stay (primary key and
// incremental field). A field hidden from the user by field-level security
// makes the query fail with INVALID_FIELD; the soql source selects others.
var (
	accountFields = []string{"Id", "Name", "Type", "Industry", "ParentId", "OwnerId", "Phone", "Website",
		"BillingCity", "BillingState", "BillingCountry", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
	contactFields = []string{"Id", "Name", "FirstName", "LastName", "Email", "Phone", "Title", "AccountId", "OwnerId",
		"CreatedDate", "LastModifiedDate", "SystemModstamp"}
	opportunityFields = []string{"Id", "Name", "AccountId", "StageName", "Amount", "CloseDate", "Probability",
		"IsClosed", "IsWon", "OwnerId", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
	userFields = []string{"Id", "Username", "Name", "Email", "IsActive", "SystemModstamp"}
)

// AccountsSource returns the `accounts` source: Account records.
func AccountsSource() jobrunner.Source { return &source{object: "Account", fields: accountFields} }

// ContactsSource returns the `contacts` source: Contact records.
func ContactsSource() jobrunner.Source { return &source{object: "Contact", fields: contactFields} }

// OpportunitiesSource returns the `opportunities` source: Opportunity records.
func OpportunitiesSource() jobrunner.Source {
	return &source{object: "Opportunity", fields: opportunityFields}
}

// UsersSource returns the `users` source: User records.
func UsersSource() jobrunner.Source { return &source{object: "User", fields: userFields} }

// SOQLSource returns the `soql` source: the records of the job's `query`
// parameter, sent as written. It is a full fetch every run unless the query
// holds SinceMark ({since}), which is replaced by the checkpoint as a SOQL
// datetime literal (1970-01-01T00:00:00Z on the first run); then the query
// must select SystemModstamp, whose largest value becomes the checkpoint.
func SOQLSource() jobrunner.Source { return &source{} }

// source runs one SOQL query through the REST Query resource:
//
//	GET {base}/services/data/v{version}/query?q={soql}
//
// with Authorization: Bearer {access token}, then follows nextRecordsUrl
// (a path on the same instance) while done is false. Salesforce serves up
// to 2,000 records a batch. Records are emitted as Salesforce returns them,
// without the "attributes" key (also dropped from nested relationship
// records).
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query_more_results.htm
//
// The object sources query
//
//	SELECT {fields} FROM {object} [WHERE SystemModstamp >= {checkpoint}] ORDER BY SystemModstamp ASC
//
// The comparison is inclusive, as Freshdesk's updated_since is: a record
// changed in the checkpoint's second after the last run read it is not lost;
// the records at exactly the checkpoint come again (deduplicate on Id). The
// literal is the checkpoint truncated to the second, the form SOQL accepts
// (2026-11-26T12:00:00Z, unquoted). The checkpoint is the largest
// SystemModstamp emitted, in RFC 3339 UTC, or the request's Since when
// nothing came.
//
// A 401 (INVALID_SESSION_ID: the session expired) makes the source ask for
// a refreshed token once and send the page again; a second 401 in a row is
// an auth failure. Salesforce signals API limits with 403
// REQUEST_LIMIT_EXCEEDED; see throttle for which are retried.
type source struct {
	object string   // "" for the soql source
	fields []string // the object sources' SELECT list
}

func (s *source) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	base, err := apiBase(req.Fields)
	if err != nil {
		return "", err
	}
	version, err := apiVersion(req.Params["api_version"])
	if err != nil {
		return "", err
	}
	soql, incremental, err := s.query(req)
	if err != nil {
		return "", err
	}
	cred, err := jobrunner.OAuthCredential(ctx, req, "Bearer")
	if err != nil {
		return "", prefix(err)
	}
	client := req.HTTP.WithThrottle(throttle)

	var hw jobrunner.HighWater // the largest SystemModstamp emitted
	// Every record is written without its "attributes" (type and URL), at
	// any depth (related records); a page is written before the next.
	pd := jobrunner.PageDecoder{Omit: "attributes"}
	next := base.String() + "/services/data/v" + version + "/query?" + url.Values{"q": {soql}}.Encode()
	for next != "" {
		// The session may expire mid-run: cred refreshes it once on a 401
		// and sends the page again.
		var r *http.Request
		a, err := cred.Send(ctx, client, func() (*http.Request, error) {
			var err error
			r, err = jobrunner.JSONRequest(ctx, vendor.Name, http.MethodGet, next, nil)
			return r, err
		})
		if err != nil {
			return "", vendor.Describe(err, a)
		}
		where := vendor.Where(r)
		p, err := decodePage(&pd, a.Body)
		req.HTTP.Reuse(a.Body) // p holds copies
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		for i := range p.records {
			rec := &p.records[i]
			if incremental {
				at, err := modstamp(rec)
				if err != nil {
					reason := jobrunner.ReasonSourceError
					if s.object == "" {
						reason = jobrunner.ReasonConfig // the user's query does not select it
						err = fmt.Errorf("%w (a query with %s must select SystemModstamp)", err, SinceMark)
					}
					id, _ := rec.Get("Id")
					return "", &jobrunner.Failure{Reason: reason, Message: fmt.Sprintf("salesforce: record %v: %v", id, err)}
				}
				hw.See(at)
			}
			if err := req.Emit(emit, rec); err != nil {
				return "", err
			}
		}
		if *p.Done {
			break
		}
		if next, err = nextPage(base, r.URL, p.NextRecordsURL); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
	}
	if !incremental {
		return "", nil // full every run: nothing to resume from
	}
	return hw.Checkpoint(req.Since, time.RFC3339Nano), nil
}

// query returns the SOQL to send and whether the run is incremental.
func (s *source) query(req jobrunner.Request) (string, bool, error) {
	since := ""
	if req.Since != "" {
		t, err := parseTime(req.Since)
		if err != nil {
			return "", false, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("salesforce: checkpoint %q is not a datetime", req.Since)}
		}
		since = literal(t)
	}
	if s.object == "" {
		q := strings.TrimSpace(req.Params["query"])
		if q == "" {
			return "", false, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "salesforce: the soql source needs a query parameter"}
		}
		if !strings.Contains(q, SinceMark) {
			return q, false, nil
		}
		if since == "" {
			since = fullHistory
		}
		return strings.ReplaceAll(q, SinceMark, since), true, nil
	}
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(s.fields, ", ") + " FROM " + s.object)
	if since != "" {
		b.WriteString(" WHERE SystemModstamp >= " + since)
	}
	b.WriteString(" ORDER BY SystemModstamp ASC")
	return b.String(), true, nil
}

// literal formats t as a SOQL datetime literal, truncated to the second.
func literal(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// parseTime reads a Salesforce datetime (2026-11-26T12:00:00.000+0000) or
// an RFC 3339 one (the checkpoints connctl writes).
func parseTime(s string) (time.Time, error) {
	// Go accepts a fractional second after the seconds field even when the
	// layout has none; Z0700 takes "Z" or "+0000".
	if t, err := time.Parse("2006-01-02T15:04:05Z0700", s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func modstamp(rec *jobrunner.RawRecord) (time.Time, error) {
	s, ok := rec.String("SystemModstamp")
	if !ok {
		return time.Time{}, errors.New("no SystemModstamp")
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("SystemModstamp %q is not a datetime", s)
	}
	return t, nil
}

// apiBase returns the instance to call: the base_url field when set (an
// override), else the instance_url Salesforce returned at sign-in (api_base).
// It is scheme and host, perhaps a path, without a trailing slash.
func apiBase(fields map[string]string) (*url.URL, error) {
	raw := strings.TrimRight(fields["base_url"], "/")
	if raw == "" {
		raw = strings.TrimRight(fields["api_base"], "/")
	}
	if raw == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig,
			Message: "salesforce: the connection has no instance URL (Salesforce returns it at sign-in): reauthorize it, or set base_url"}
	}
	return vendor.BaseURL("instance URL", raw)
}

var versionRE = regexp.MustCompile(`^[0-9]{2,3}\.[0-9]$`)

// apiVersion returns the REST API version without its "v": the api_version
// parameter (62.0 or v62.0) or DefaultAPIVersion.
func apiVersion(p string) (string, error) {
	v := strings.TrimPrefix(strings.TrimSpace(p), "v")
	if v == "" {
		return DefaultAPIVersion, nil
	}
	if !versionRE.MatchString(v) {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("salesforce: api_version %q is not a version such as %s", p, DefaultAPIVersion)}
	}
	return v, nil
}

// page is a Query or Query More Results response.
type page struct {
	Done           *bool              `json:"done"`
	NextRecordsURL string             `json:"nextRecordsUrl"`
	Records        []jobrunner.Record `json:"records"` // nil after DecodePage: see records

	records []jobrunner.RawRecord // the records, as DecodePage read them
}

func records(p *page) *[]jobrunner.Record { return &p.Records }

// decodePage reads a page; numbers stay json.Number so that they are
// written back exactly.
func decodePage(pd *jobrunner.PageDecoder, body []byte) (*page, error) {
	p, recs, err := jobrunner.DecodePage(pd, body, "query result", "records", records)
	if err != nil {
		return nil, err
	}
	p.records = recs
	if p.Done == nil || p.records == nil {
		return nil, errors.New("not a query result (no done or records)")
	}
	if !*p.Done && p.NextRecordsURL == "" {
		return nil, errors.New("done is false but there is no nextRecordsUrl")
	}
	return &p, nil
}

// nextPage resolves nextRecordsUrl, a path such as
// /services/data/v62.0/query/01gD0000002HU6KIAW-2000, against the instance.
// An absolute URL must be on the instance: the request carries the token.
func nextPage(base, cur *url.URL, next string) (string, error) {
	var out string
	switch {
	case strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//"):
		out = base.String() + next
	default:
		u, err := url.Parse(next)
		if err != nil || !u.IsAbs() {
			return "", fmt.Errorf("unreadable nextRecordsUrl %q", next)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			return "", fmt.Errorf("next batch on another host (%s); not sending the access token there", u.Host)
		}
		out = u.String()
	}
	if out == cur.String() {
		return "", errors.New("nextRecordsUrl is the page just read")
	}
	return out, nil
}

// apiError is one entry of a Salesforce error response, a JSON array of
// {"message", "errorCode"} objects.
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
type apiError struct {
	Message   string `json:"message"`
	ErrorCode string `json:"errorCode"`
}

// vendorError returns the first error of a Salesforce error body.
func vendorError(body []byte) (apiError, bool) {
	var list []apiError
	if json.Unmarshal(body, &list) == nil && len(list) > 0 && list[0].ErrorCode != "" {
		return list[0], true
	}
	var one apiError
	if json.Unmarshal(body, &one) == nil && one.ErrorCode != "" {
		return one, true
	}
	return apiError{}, false
}

// throttle is the HTTP client's throttle classifier. Salesforce answers
// 403 REQUEST_LIMIT_EXCEEDED both when the org's rolling 24-hour API
// allocation is used up ("TotalRequests Limit exceeded") and when too many
// long-running requests run at once ("ConcurrentRequests ... Limit
// exceeded"). Only the concurrency limit is retried, with the usual backoff:
// it clears as other requests finish. The daily allocation frees up only as
// calls made up to 24 hours ago age out, far beyond any retry budget, and
// every retry would be one more call against it; so that 403 fails the run
// at once, and describe classifies it rate_limit.
func throttle(status int, body []byte, _ http.Header) (bool, time.Duration) {
	if status != http.StatusForbidden {
		return false, 0
	}
	e, ok := vendorError(body)
	return ok && e.ErrorCode == "REQUEST_LIMIT_EXCEEDED" && strings.Contains(strings.ToLower(e.Message), "concurrent"), 0
}

// vendor describes Salesforce's failed answers.
var vendor = jobrunner.Vendor{Name: "salesforce", Explain: explain}

// explain adds Salesforce's errorCode and message to a failed response and
// refines the reason: 400 (the query: MALFORMED_QUERY, INVALID_FIELD,
// INVALID_TYPE, ...) is config, except an expired query locator;
// REQUEST_LIMIT_EXCEEDED is rate_limit.
func explain(a jobrunner.Answer, f *jobrunner.Failure) {
	e, ok := vendorError(a.Body)
	if !ok {
		return
	}
	f.Message += ": " + e.ErrorCode
	if text := jobrunner.Clip(e.Message, maxMessage); text != "" {
		f.Message += ": " + text
	}
	switch {
	case e.ErrorCode == "REQUEST_LIMIT_EXCEEDED":
		f.Reason = jobrunner.ReasonRateLimit
		if usage := apiUsage(a.Header); usage != "" {
			f.Message += " (api-usage " + usage + ")"
		}
		if !strings.Contains(strings.ToLower(e.Message), "concurrent") {
			f.Message += "; the org's API allocation is a rolling 24-hour window: run the job again later"
		}
	case a.Status == http.StatusBadRequest && e.ErrorCode != "INVALID_QUERY_LOCATOR":
		f.Reason = jobrunner.ReasonConfig
	}
}

// apiUsage reads "used/limit" from Sforce-Limit-Info: api-usage=18/5000.
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
func apiUsage(h http.Header) string {
	for _, part := range strings.Split(h.Get("Sforce-Limit-Info"), ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.EqualFold(k, "api-usage") {
			if used, limit, ok := strings.Cut(v, "/"); ok && isDigits(used) && isDigits(limit) {
				return used + "/" + limit
			}
		}
	}
	return ""
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// prefix names Salesforce in a failure's message.
func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
