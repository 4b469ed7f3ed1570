package zoho

import (
	"bytes"
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

const (
	perPage = 200 // the largest per_page Zoho takes
	maxMsg  = 300
)

// The fields each source asks for (fields is mandatory, at most 50); id is
// always returned, Modified_Time must stay (the incremental field).
var (
	accountFields = []string{"id", "Account_Name", "Account_Number", "Account_Type", "Industry", "Phone", "Website",
		"Billing_City", "Billing_Country", "Parent_Account", "Owner", "Created_Time", "Modified_Time"}
	contactFields = []string{"id", "First_Name", "Last_Name", "Full_Name", "Email", "Phone", "Title", "Account_Name",
		"Owner", "Created_Time", "Modified_Time"}
	dealFields = []string{"id", "Deal_Name", "Stage", "Amount", "Closing_Date", "Probability", "Pipeline",
		"Account_Name", "Contact_Name", "Owner", "Created_Time", "Modified_Time"}
)

// AccountsSource returns the `accounts` source: records of the Accounts module.
func AccountsSource() jobrunner.Source { return &source{module: "Accounts", fields: accountFields} }

// ContactsSource returns the `contacts` source: records of the Contacts module.
func ContactsSource() jobrunner.Source { return &source{module: "Contacts", fields: contactFields} }

// DealsSource returns the `deals` source: records of the Deals module.
func DealsSource() jobrunner.Source { return &source{module: "Deals", fields: dealFields} }

// source reads one module through Get Records:
//
//	GET {api_domain}/crm/v8/{Module}?fields={fields}&per_page=200[&page_token={token}]
//	Authorization: Zoho-oauthtoken {access token}
//	[If-Modified-Since: {checkpoint − 1 s}]
//
// following info.next_page_token while info.more_records is true.
// https://www.zoho.com/crm/developer/docs/api/v8/get-records.html
//
// Increments use If-Modified-Since, which returns the records modified after
// the given time. It is sent one second before the checkpoint, so that a
// record changed in the checkpoint's second after the last run read it is
// not lost (Modified_Time has whole seconds): the records at exactly the
// checkpoint come again, at least once (deduplicate on id), as the other
// CRM sources do. 304 Not Modified means nothing changed: an empty run that
// keeps the checkpoint; so does 204 No Content (a module without records).
// The checkpoint is the largest Modified_Time emitted, RFC 3339 UTC.
//
// The API base is the connection's base_url or the api_domain Zoho
// returned at sign-in (api_base). A 401 (INVALID_TOKEN: the hour-long
// access token expired) makes the source refresh the token once and send
// the page again. Over the concurrency or credit limits Zoho answers 429
// TOO_MANY_REQUESTS, retried with backoff (or Retry-After, when sent).
type source struct {
	module string
	fields []string
}

type page struct {
	Data []jobrunner.Record `json:"data"` // nil after DecodePage: see records
	Info *struct {
		MoreRecords   bool   `json:"more_records"`
		NextPageToken string `json:"next_page_token"`
	} `json:"info"`

	records []jobrunner.RawRecord // the data, as DecodePage read it
}

func dataOf(p *page) *[]jobrunner.Record { return &p.Data }

func (s *source) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	base, err := apiBase(req.Fields)
	if err != nil {
		return "", err
	}
	modifiedSince := ""
	if req.Since != "" {
		since, err := time.Parse(time.RFC3339Nano, req.Since)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("zoho: checkpoint %q is not a datetime", req.Since)}
		}
		modifiedSince = since.UTC().Truncate(time.Second).Add(-time.Second).Format("2006-01-02T15:04:05-07:00")
	}
	cred, err := jobrunner.OAuthCredential(ctx, req, "Zoho-oauthtoken")
	if err != nil {
		return "", prefix(err)
	}

	var hw jobrunner.HighWater // the largest Modified_Time emitted
	pageToken := ""
	var pd jobrunner.PageDecoder
	for {
		q := url.Values{"fields": {strings.Join(s.fields, ",")}, "per_page": {strconv.Itoa(perPage)}}
		if pageToken != "" {
			q.Set("page_token", pageToken)
		}
		var r *http.Request
		a, err := cred.Send(ctx, req.HTTP, func() (*http.Request, error) {
			var err error
			if r, err = jobrunner.JSONRequest(ctx, vendor.Name, http.MethodGet, base+"/crm/v8/"+s.module+"?"+q.Encode(), nil); err != nil {
				return nil, err
			}
			if modifiedSince != "" {
				r.Header.Set("If-Modified-Since", modifiedSince)
			}
			return r, nil
		})
		if err != nil {
			if a.Status == http.StatusNotModified {
				return req.Since, nil // nothing changed since the checkpoint
			}
			return "", vendor.Describe(err, a)
		}
		where := vendor.Where(r)
		if a.Status == http.StatusNoContent || len(bytes.TrimSpace(a.Body)) == 0 {
			break // no records
		}
		p, err := decodePage(&pd, a.Body)
		req.HTTP.Reuse(a.Body) // p holds copies
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		for i := range p.records {
			rec := &p.records[i]
			v, _ := rec.String("Modified_Time")
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("%s: record %v has no readable Modified_Time (%q)", where, get(rec, "id"), v)}
			}
			hw.See(at)
			if err := req.Emit(emit, rec); err != nil {
				return "", err
			}
		}
		if !p.Info.MoreRecords {
			break
		}
		switch next := p.Info.NextPageToken; {
		case next == "":
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": more_records is true but there is no next_page_token"}
		case next == pageToken:
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": next_page_token is the page just read"}
		default:
			pageToken = next
		}
	}
	return hw.Checkpoint(req.Since, time.RFC3339), nil
}

// get returns a record's field, nil when it has none.
func get(rec *jobrunner.RawRecord, name string) any {
	v, _ := rec.Get(name)
	return v
}

// decodePage reads a page; its records are valid until pd reads the next.
func decodePage(pd *jobrunner.PageDecoder, body []byte) (*page, error) {
	p, recs, err := jobrunner.DecodePage(pd, body, "records", "data", dataOf)
	if err != nil {
		return nil, err
	}
	p.records = recs
	if p.records == nil || p.Info == nil {
		return nil, errors.New("not a list of records (no data or info)")
	}
	return &p, nil
}

// apiBase returns base_url or the api_domain stored at sign-in, without a
// trailing slash.
func apiBase(fields map[string]string) (string, error) {
	raw := strings.TrimRight(fields["base_url"], "/")
	if raw == "" {
		raw = strings.TrimRight(fields["api_base"], "/")
	}
	if raw == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig,
			Message: "zoho: the connection has no API domain (Zoho returns it at sign-in): reauthorize it, or set base_url"}
	}
	if _, err := vendor.BaseURL("API base", raw); err != nil {
		return "", err
	}
	return raw, nil
}

// apiError is Zoho's error body: {"code","details","message","status":"error"}.
// https://www.zoho.com/crm/developer/docs/api/v8/status-codes.html
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// vendor describes Zoho's failed answers.
var vendor = jobrunner.Vendor{Name: "zoho", Explain: explain}

// explain adds Zoho's code and message; a 400 (INVALID_DATA, a field
// name that does not exist, say) is a config failure.
func explain(a jobrunner.Answer, f *jobrunner.Failure) {
	var e apiError
	if json.Unmarshal(a.Body, &e) == nil && e.Code != "" {
		f.Message += ": " + e.Code
		if text := jobrunner.Clip(e.Message, maxMsg); text != "" {
			f.Message += ": " + text
		}
	}
	if a.Status == http.StatusBadRequest {
		f.Reason = jobrunner.ReasonConfig
	}
}

func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
