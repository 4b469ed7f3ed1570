package dynamics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// APIPath is the Web API root under the environment URL.
const APIPath = "/api/data/v9.2"

const (
	maxPageSize = 5000 // the largest odata.maxpagesize Dataverse honours
	maxMsg      = 300
)

// The columns each source selects; the primary key and modifiedon must stay.
var (
	accountColumns = []string{"accountid", "name", "accountnumber", "telephone1", "emailaddress1", "websiteurl",
		"address1_city", "address1_country", "industrycode", "_parentaccountid_value", "_ownerid_value",
		"statecode", "createdon", "modifiedon"}
	contactColumns = []string{"contactid", "fullname", "firstname", "lastname", "emailaddress1", "telephone1",
		"jobtitle", "_parentcustomerid_value", "_ownerid_value", "statecode", "createdon", "modifiedon"}
)

// AccountsSource returns the `accounts` source: account rows.
func AccountsSource() jobrunner.Source { return &source{set: "accounts", columns: accountColumns} }

// ContactsSource returns the `contacts` source: contact rows.
func ContactsSource() jobrunner.Source { return &source{set: "contacts", columns: contactColumns} }

// source reads one entity set through the Dataverse Web API:
//
//	GET {org}/api/data/v9.2/{set}?$select={columns}[&$filter=modifiedon ge {checkpoint}]&$orderby=modifiedon asc
//	Prefer: odata.maxpagesize=5000
//
// then follows @odata.nextLink (it carries $skiptoken) as-is, refusing a link
// to another host since the request carries the token.
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results
//
// The filter is inclusive (ge): rows changed in the checkpoint's second
// after the last run read it are not lost; the rows at exactly the checkpoint
// come again (deduplicate on the primary key). The checkpoint is the largest
// modifiedon emitted, or the request's Since when nothing came; a run without
// one reads every row and sets it.
//
// Rows are emitted without their @odata.etag annotation. The token is the
// connection's Entra access token; a 401 makes the source refresh it once
// and send the page again. Service-protection limits answer 429 with
// Retry-After, which the HTTP client waits out.
// https://learn.microsoft.com/power-apps/developer/data-platform/api-limits
type source struct {
	set     string
	columns []string
}

type page struct {
	Value    []jobrunner.Record `json:"value"`
	NextLink string             `json:"@odata.nextLink"`
}

func (s *source) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	base, err := apiBase(req.Fields)
	if err != nil {
		return "", err
	}
	q := "$select=" + escape(strings.Join(s.columns, ","))
	if req.Since != "" {
		since, err := time.Parse(time.RFC3339Nano, req.Since)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("dynamics: checkpoint %q is not a datetime", req.Since)}
		}
		q += "&$filter=" + escape("modifiedon ge "+since.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z"))
	}
	q += "&$orderby=" + escape("modifiedon asc")
	cred, err := jobrunner.OAuthCredential(ctx, req, "Bearer")
	if err != nil {
		return "", prefix(err)
	}

	var hw jobrunner.HighWater // the largest modifiedon emitted
	next := base.String() + "/" + s.set + "?" + q
	for next != "" {
		var r *http.Request
		a, err := cred.Send(ctx, req.HTTP, func() (*http.Request, error) {
			var err error
			if r, err = jobrunner.JSONRequest(ctx, vendor.Name, http.MethodGet, next, nil); err != nil {
				return nil, err
			}
			r.Header.Set("OData-MaxVersion", "4.0")
			r.Header.Set("OData-Version", "4.0")
			r.Header.Set("Prefer", fmt.Sprintf("odata.maxpagesize=%d", maxPageSize))
			return r, nil
		})
		if err != nil {
			return "", vendor.Describe(err, a)
		}
		where := vendor.Where(r)
		p, err := decodePage(a.Body)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
		for _, rec := range p.Value {
			v, _ := rec["modifiedon"].(string)
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("%s: a row has no readable modifiedon (%q)", where, v)}
			}
			hw.See(at)
			delete(rec, "@odata.etag")
			if err := emit(rec); err != nil {
				return "", err
			}
		}
		if next, err = nextPage(base, r.URL, p.NextLink); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: where + ": " + err.Error()}
		}
	}
	return hw.Checkpoint(req.Since, time.RFC3339Nano), nil
}

// escape percent-encodes a query value (spaces as %20, as the OData
// examples write them).
func escape(s string) string { return url.PathEscape(s) }

func decodePage(body []byte) (*page, error) {
	p, err := jobrunner.DecodeJSON[page](body, "collection")
	if err != nil {
		return nil, err
	}
	if p.Value == nil {
		return nil, errors.New("not a collection (no value)")
	}
	return &p, nil
}

// nextPage checks @odata.nextLink: "" ends the run; otherwise an absolute
// URL on the API's own scheme and host, other than the page just read.
func nextPage(base, cur *url.URL, next string) (string, error) {
	if next == "" {
		return "", nil
	}
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("unreadable @odata.nextLink %q", next)
	}
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return "", fmt.Errorf("next page on another host (%s); not sending the access token there", u.Host)
	}
	if next == cur.String() {
		return "", errors.New("@odata.nextLink is the page just read")
	}
	return next, nil
}

// apiBase returns the Web API root: base_url when set (it includes
// /api/data/v9.2), else the environment the token was issued for (api_base)
// or org_url, plus APIPath.
func apiBase(fields map[string]string) (*url.URL, error) {
	raw := strings.TrimRight(fields["base_url"], "/")
	if raw == "" {
		org := strings.TrimRight(fields["api_base"], "/")
		if org == "" {
			org = strings.TrimRight(fields["org_url"], "/")
		}
		if org == "" {
			return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "dynamics: the connection has no org_url"}
		}
		raw = org + APIPath
	}
	return vendor.BaseURL("API base", raw)
}

// apiError is the Web API's error body: {"error":{"code","message"}}.
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// vendor describes the Web API's failed answers.
var vendor = jobrunner.Vendor{Name: "dynamics", Explain: explain}

// explain adds the Web API's error code and message; a 400 (an unknown
// column in $select, say) is a config failure.
func explain(a jobrunner.Answer, f *jobrunner.Failure) {
	var e apiError
	if json.Unmarshal(a.Body, &e) == nil {
		if e.Error.Code != "" {
			f.Message += ": " + e.Error.Code
		}
		if text := jobrunner.Clip(e.Error.Message, maxMsg); text != "" {
			f.Message += ": " + text
		}
	}
	if a.Status == http.StatusBadRequest {
		f.Reason = jobrunner.ReasonConfig
	}
}

func prefix(err error) error { return jobrunner.WithPrefix(vendor.Name, err) }
