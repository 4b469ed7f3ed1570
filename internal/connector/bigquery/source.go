package bigquery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/googlesa"

	"github.com/connctl/connctl/internal/jobrunner"
)

// SinceMark is the placeholder a query's SQL may hold to run incrementally:
// each run replaces it with a GoogleSQL TIMESTAMP literal of the checkpoint
// (TIMESTAMP '1970-01-01 00:00:00+00:00' on the first run).
const SinceMark = "{since}"

const (
	defaultBase = "https://bigquery.googleapis.com"
	// pageRows is maxResults of every page. BigQuery caps a page at about
	// 10 MB whatever maxResults says, and follows with a pageToken.
	pageRows = 10000
	// waitMs is timeoutMs of jobs.query and getQueryResults: how long
	// BigQuery holds the call waiting for the job before answering
	// jobComplete=false.
	waitMs = 10000
	// pollPause is the pause between two getQueryResults polls of a job that
	// is not complete (on top of BigQuery's own timeoutMs wait).
	pollPause = time.Second

	bigqueryScope = "https://www.googleapis.com/auth/bigquery"
	maxMessage    = 300
)

// QuerySource returns the `query` source: the rows of the job's `sql`
// parameter (GoogleSQL), through jobs.query then jobs.getQueryResults.
//
//	POST {base}/bigquery/v2/projects/{project}/queries
//	     {"query", "useLegacySql": false, "maxResults": 10000, "timeoutMs": 10000,
//	      "location", "formatOptions": {"useInt64Timestamp": true}}
//	GET  {base}/bigquery/v2/projects/{project}/queries/{jobId}?location=&timeoutMs=&maxResults=[&pageToken=]
//
// While jobComplete is false the source polls getQueryResults (no
// pageToken); then it emits the rows of each page and follows pageToken
// until a page has none.
// https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query
// https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults
//
// Incremental runs: only when the SQL holds SinceMark ({since}). It is
// replaced by TIMESTAMP '<checkpoint>' (UTC, microseconds). The new
// checkpoint is the largest value of the column named by the
// `incremental_column` parameter among the rows returned (a TIMESTAMP,
// DATETIME or DATE column, or a string in RFC 3339; DATETIME and DATE are
// taken as UTC), or the previous checkpoint when no row came; a row whose
// column is NULL is written and counted in Stats.WithoutCursor. Without
// incremental_column it is the time the query was sent, which is right
// only when the filtered column is set no later than the row becomes
// visible (e.g. an ingestion time). Without {since} every run is full.
func QuerySource() jobrunner.Source { return &querySource{sleep: jobrunner.Sleep} }

// TableSource returns the `table` source: every row of table `table` of
// dataset `dataset` (parameters), full every run. The schema comes from
// tables.get, the rows from tabledata.list pages followed by pageToken.
//
//	GET {base}/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}
//	GET {base}/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}/data?maxResults=&pageToken=&formatOptions.useInt64Timestamp=true
//
// https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/get
// https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/list
func TableSource() jobrunner.Source { return &tableSource{} }

// Row conversion (both sources): a record maps each top-level column name
// to its value. NULL is null; INTEGER/INT64 and finite FLOAT/FLOAT64 are
// JSON numbers holding exactly the digits BigQuery sent (json.Number; NaN
// and ±Infinity stay strings); BOOLEAN is a JSON boolean; TIMESTAMP is an
// RFC 3339 UTC string with microseconds; NUMERIC, BIGNUMERIC, STRING,
// BYTES (base64), DATE, TIME, DATETIME, GEOGRAPHY, JSON, INTERVAL and any
// other type are the strings BigQuery sent. A RECORD/STRUCT is a JSON
// object by sub-field name; a REPEATED column is a JSON array.
//
// Authorization: with auth=service_account the source signs a JWT with the
// service_account_key (RS256; iss client_email, scope bigquery, aud
// token_uri) and exchanges it at the key's token_uri for an access token
// (JWT bearer grant) once per run, minting again when BigQuery answers 401.
// https://developers.google.com/identity/protocols/oauth2/service-account#httprest
// With auth=oauth2 it uses the connection's access token and refreshes it
// once on a 401. A second 401 in a row is an auth failure.
//
// Errors (https://cloud.google.com/bigquery/docs/error-messages): 403
// rateLimitExceeded/userRateLimitExceeded are retried with backoff (the
// HTTP client's throttle) and end rate_limit when retries run out; 403
// quotaExceeded fails at once as rate_limit; 400 invalidQuery/invalid and
// 404 notFound are config; other 401/403 are auth; 5xx are retried.

type querySource struct {
	sleep func(context.Context, time.Duration) error
}

type tableSource struct{}

// field is one column of a BigQuery TableSchema.
type field struct {
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	Mode   string  `json:"mode"`
	Fields []field `json:"fields"`
}

type schema struct {
	Fields []field `json:"fields"`
}

// row is a TableRow: {"f": [{"v": value}, ...]}.
type row struct {
	F []struct {
		V json.RawMessage `json:"v"`
	} `json:"f"`
}

// queryResponse is the shape shared by jobs.query and getQueryResults.
type queryResponse struct {
	JobReference struct {
		ProjectID string `json:"projectId"`
		JobID     string `json:"jobId"`
		Location  string `json:"location"`
	} `json:"jobReference"`
	JobComplete *bool   `json:"jobComplete"`
	Schema      *schema `json:"schema"`
	Rows        []row   `json:"rows"`
	PageToken   string  `json:"pageToken"`
}

// tableData is a tabledata.list response.
type tableData struct {
	Rows      []row  `json:"rows"`
	PageToken string `json:"pageToken"`
}

func (s *querySource) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(req)
	if err != nil {
		return "", err
	}
	sql, incremental, err := querySQL(req)
	if err != nil {
		return "", err
	}
	column := strings.TrimSpace(req.Params["incremental_column"])
	sent := time.Now().UTC()

	body := map[string]any{
		"query": sql, "useLegacySql": false, "maxResults": pageRows, "timeoutMs": waitMs,
		"formatOptions": map[string]any{"useInt64Timestamp": true},
	}
	if c.location != "" {
		body["location"] = c.location
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	var resp queryResponse
	if err := c.call(ctx, http.MethodPost, c.project+"/queries", nil, payload, &resp); err != nil {
		return "", err
	}
	var latest time.Time
	var sch *schema
	colIndex := -1
	lastToken := ""
	for {
		if resp.JobComplete == nil {
			return "", srcErr("the query answer has no jobComplete")
		}
		jobID := resp.JobReference.JobID
		loc := resp.JobReference.Location
		if loc == "" {
			loc = c.location
		}
		next := func(token string) error {
			if jobID == "" {
				return srcErr("the query answer has no jobReference.jobId")
			}
			q := url.Values{"timeoutMs": {strconv.Itoa(waitMs)}, "maxResults": {strconv.Itoa(pageRows)},
				"formatOptions.useInt64Timestamp": {"true"}}
			if loc != "" {
				q.Set("location", loc)
			}
			if token != "" {
				q.Set("pageToken", token)
			}
			resp = queryResponse{}
			cctx := ctx
			if token == "" {
				// A poll of the running job: the same request, answered
				// alike until the job completes, is no pagination loop.
				cctx = jobrunner.Poll(ctx)
			}
			return c.call(cctx, http.MethodGet, c.project+"/queries/"+url.PathEscape(jobID), q, nil, &resp)
		}
		if !*resp.JobComplete {
			if err := s.sleep(ctx, pollPause); err != nil {
				return "", err
			}
			if err := next(""); err != nil {
				return "", err
			}
			continue
		}
		if sch == nil {
			if resp.Schema == nil {
				return "", srcErr("the completed query answer has no schema")
			}
			sch = resp.Schema
			if incremental && column != "" {
				for i, f := range sch.Fields {
					if strings.EqualFold(f.Name, column) {
						colIndex = i
					}
				}
				if colIndex < 0 {
					return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig,
						Message: fmt.Sprintf("bigquery: incremental_column %q is not a column of the query's result", column)}
				}
			}
		}
		for _, r := range resp.Rows {
			rec, err := convertRow(sch.Fields, r)
			if err != nil {
				return "", srcErr(err.Error())
			}
			hasCursor := true
			if colIndex >= 0 {
				f := sch.Fields[colIndex]
				v := rec[f.Name]
				hasCursor = v != nil
				if hasCursor {
					t, err := asTime(v)
					if err != nil {
						return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig,
							Message: fmt.Sprintf("bigquery: incremental_column %s: %v", f.Name, err)}
					}
					if t.After(latest) {
						latest = t
					}
				}
			}
			if err := emit(rec); err != nil {
				return "", err
			}
			// A row whose incremental_column is NULL is written; it
			// cannot move the checkpoint, and the run counts it.
			if !hasCursor {
				req.HTTP.Stats().WithoutCursor.Add(1)
			}
		}
		if resp.PageToken == "" {
			break
		}
		if resp.PageToken == lastToken {
			return "", srcErr("getQueryResults returned the same pageToken twice")
		}
		lastToken = resp.PageToken
		if err := next(lastToken); err != nil {
			return "", err
		}
	}
	switch {
	case !incremental:
		return "", nil
	case column == "":
		return sent.Format(time.RFC3339Nano), nil
	case latest.IsZero():
		return req.Since, nil
	}
	return latest.UTC().Format(time.RFC3339Nano), nil
}

func (s *tableSource) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(req)
	if err != nil {
		return "", err
	}
	dataset, table := strings.TrimSpace(req.Params["dataset"]), strings.TrimSpace(req.Params["table"])
	if dataset == "" || table == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "bigquery: the table source needs the dataset and table parameters"}
	}
	path := c.project + "/datasets/" + url.PathEscape(dataset) + "/tables/" + url.PathEscape(table)
	var meta struct {
		Schema *schema `json:"schema"`
	}
	if err := c.call(ctx, http.MethodGet, path, nil, nil, &meta); err != nil {
		return "", err
	}
	if meta.Schema == nil {
		return "", srcErr("tables.get answered no schema")
	}
	token := ""
	for {
		q := url.Values{"maxResults": {strconv.Itoa(pageRows)}, "formatOptions.useInt64Timestamp": {"true"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		var page tableData
		if err := c.call(ctx, http.MethodGet, path+"/data", q, nil, &page); err != nil {
			return "", err
		}
		for _, r := range page.Rows {
			rec, err := convertRow(meta.Schema.Fields, r)
			if err != nil {
				return "", srcErr(err.Error())
			}
			if err := emit(rec); err != nil {
				return "", err
			}
		}
		if page.PageToken == "" {
			return "", nil
		}
		if page.PageToken == token {
			return "", srcErr("tabledata.list returned the same pageToken twice")
		}
		token = page.PageToken
	}
}

// querySQL returns the SQL to send and whether the run is incremental.
func querySQL(req jobrunner.Request) (string, bool, error) {
	sql := strings.TrimSpace(req.Params["sql"])
	if sql == "" {
		sql = strings.TrimSpace(req.Params["query"])
	}
	if sql == "" {
		return "", false, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "bigquery: the query source needs the sql parameter"}
	}
	if !strings.Contains(sql, SinceMark) {
		return sql, false, nil
	}
	since := time.Unix(0, 0).UTC()
	if req.Since != "" {
		t, err := time.Parse(time.RFC3339Nano, req.Since)
		if err != nil {
			return "", false, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("bigquery: checkpoint %q is not an RFC 3339 time", req.Since)}
		}
		since = t
	}
	return strings.ReplaceAll(sql, SinceMark, timestampLiteral(since)), true, nil
}

// timestampLiteral is a GoogleSQL TIMESTAMP literal of t in UTC, to the
// microsecond (BigQuery's precision).
func timestampLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Truncate(time.Microsecond).Format("2006-01-02 15:04:05.999999") + "+00:00'"
}

// asTime reads a converted value of the incremental column.
func asTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("value %v is not a timestamp", v)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("value %q is not a TIMESTAMP, DATETIME or DATE", s)
}

// convertRow turns a TableRow into a record by the schema's fields.
func convertRow(fields []field, r row) (jobrunner.Record, error) {
	if len(r.F) != len(fields) {
		return nil, fmt.Errorf("a row has %d cells for %d columns", len(r.F), len(fields))
	}
	rec := make(jobrunner.Record, len(fields))
	for i, f := range fields {
		v, err := convertCell(f, r.F[i].V)
		if err != nil {
			return nil, fmt.Errorf("column %s: %v", f.Name, err)
		}
		rec[f.Name] = v
	}
	return rec, nil
}

func convertCell(f field, raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if strings.EqualFold(f.Mode, "REPEATED") {
			return []any{}, nil
		}
		return nil, nil
	}
	if strings.EqualFold(f.Mode, "REPEATED") {
		var items []struct {
			V json.RawMessage `json:"v"`
		}
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errors.New("a REPEATED value is not an array of {v}")
		}
		single := f
		single.Mode = "NULLABLE"
		out := make([]any, len(items))
		for i, it := range items {
			v, err := convertCell(single, it.V)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	switch strings.ToUpper(f.Type) {
	case "RECORD", "STRUCT":
		var r row
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, errors.New("a RECORD value is not {f: [...]}")
		}
		return convertRow(f.Fields, r)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("value %s is not a string", clip(string(raw)))
	}
	switch strings.ToUpper(f.Type) {
	case "INTEGER", "INT64":
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, fmt.Errorf("INTEGER value %q", clip(s))
		}
		return json.Number(s), nil
	case "FLOAT", "FLOAT64":
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("FLOAT value %q", clip(s))
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return s, nil
		}
		return json.Number(s), nil
	case "BOOLEAN", "BOOL":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("BOOLEAN value %q", clip(s))
		}
		return b, nil
	case "TIMESTAMP":
		t, err := parseTimestamp(s)
		if err != nil {
			return nil, err
		}
		return t.Format("2006-01-02T15:04:05.000000Z"), nil
	}
	return s, nil
}

// parseTimestamp reads a TIMESTAMP cell: microseconds since the epoch (with
// formatOptions.useInt64Timestamp) or, in the older form, seconds as a
// floating-point string such as "1.7298e9".
func parseTimestamp(s string) (time.Time, error) {
	if us, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMicro(us).UTC(), nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return time.Time{}, fmt.Errorf("TIMESTAMP value %q", clip(s))
	}
	return time.UnixMicro(int64(math.Round(x * 1e6))).UTC(), nil
}

// client calls the BigQuery REST API with a bearer token.
type client struct {
	http     *jobrunner.HTTP
	base     string // {base}/bigquery/v2/projects/
	project  string // "projects/{project}" relative part, escaped
	location string
	auth     *jobrunner.Credential // Bearer, renewed through an authorizer
}

func newClient(req jobrunner.Request) (*client, error) {
	project := strings.TrimSpace(req.Fields["project_id"])
	if project == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "bigquery: the connection has no project_id"}
	}
	raw := strings.TrimRight(strings.TrimSpace(req.Fields["base_url"]), "/")
	if raw == "" {
		raw = defaultBase
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("bigquery: base_url %q is not an http(s) URL", raw)}
	}
	a, err := newAuthorizer(req)
	if err != nil {
		return nil, err
	}
	return &client{
		http: req.HTTP.WithThrottle(throttle).WithExplain(explain),
		base: raw + "/bigquery/v2/projects/", project: url.PathEscape(project),
		location: strings.TrimSpace(req.Fields["location"]),
		auth: jobrunner.TokenCredential("Bearer", func(ctx context.Context, force bool) (string, error) {
			return a.token(ctx, req, force)
		}),
	}, nil
}

// call sends one request and decodes a 2xx JSON answer into out. A 401
// gets one new token and the same request again.
func (c *client) call(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var r *http.Request
	status, _, resp, renewed, err := c.auth.Do(ctx, c.http, func() (*http.Request, error) {
		var err error
		r, err = jobrunner.JSONRequest(ctx, "bigquery", method, u, body)
		return r, err
	})
	if err != nil {
		// The authorizer's and build's failures carry the prefix already.
		var f *jobrunner.Failure
		if errors.As(err, &f) && f == err && !strings.HasPrefix(f.Message, "bigquery: ") {
			msg := "bigquery: " + f.Message
			if status == http.StatusUnauthorized && renewed {
				msg += " (again with a new access token)"
			}
			return &jobrunner.Failure{Reason: f.Reason, Message: msg}
		}
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(resp))
	if err := dec.Decode(out); err != nil {
		return srcErr(fmt.Sprintf("%s %s: malformed JSON: %v", method, r.URL.EscapedPath(), err))
	}
	return nil
}

// googleError is the error body of Google APIs.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

func reasons(body []byte) (string, []string) {
	var ge googleError
	if json.Unmarshal(body, &ge) != nil {
		return "", nil
	}
	var rs []string
	for _, e := range ge.Error.Errors {
		rs = append(rs, e.Reason)
	}
	return ge.Error.Message, rs
}

// throttle retries BigQuery's short-term limits, 403 rateLimitExceeded and
// userRateLimitExceeded, with the client's backoff. quotaExceeded (a daily
// or project quota) is not retried.
func throttle(status int, body []byte, _ http.Header) (bool, time.Duration) {
	if status != http.StatusForbidden && status != http.StatusTooManyRequests {
		return false, 0
	}
	_, rs := reasons(body)
	for _, r := range rs {
		if r == "rateLimitExceeded" || r == "userRateLimitExceeded" {
			return true, 0
		}
	}
	return false, 0
}

// explain refines a failed response by Google's error reasons and adds the
// error message.
func explain(status int, body []byte, _ http.Header, f *jobrunner.Failure) *jobrunner.Failure {
	msg, rs := reasons(body)
	if len(rs) == 0 && msg == "" {
		return nil
	}
	reason := f.Reason
	for _, r := range rs {
		switch r {
		case "quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded":
			reason = jobrunner.ReasonRateLimit
		case "invalidQuery", "invalid", "notFound", "duplicate":
			reason = jobrunner.ReasonConfig
		case "accessDenied", "accessNotConfigured":
			reason = jobrunner.ReasonAuth
		}
	}
	if status == http.StatusNotFound {
		reason = jobrunner.ReasonConfig
	}
	out := f.Message
	if len(rs) > 0 {
		out += ": " + strings.Join(rs, ",")
	}
	if m := clip(strings.Join(strings.Fields(msg), " ")); m != "" {
		out += ": " + m
	}
	return &jobrunner.Failure{Reason: reason, Message: out}
}

// authorizer hands out the run's access token.
type authorizer struct {
	key      *googlesa.Key // nil: oauth2
	tokenURI string
	current  string
}

func newAuthorizer(req jobrunner.Request) (*authorizer, error) {
	method := req.Fields["auth"]
	if method == "" && req.Secrets["service_account_key"] != "" {
		method = "service_account"
	}
	if method != "service_account" {
		return &authorizer{}, nil
	}
	raw := req.Secrets["service_account_key"]
	if raw == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "bigquery: the connection has no service_account_key: give the JSON key with --secret-file"}
	}
	key, err := googlesa.ParseKey(raw)
	if err != nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "bigquery: " + err.Error() + ": download a new JSON key under IAM & Admin > Service Accounts > Keys and give it with --secret-file"}
	}
	tokenURI, err := key.CheckedTokenURI()
	if err != nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "bigquery: " + err.Error() + ": download a new JSON key (Google's is " + googlesa.DefaultTokenURI + ")"}
	}
	return &authorizer{key: key, tokenURI: tokenURI}, nil
}

// token returns the run's access token, asked for once and kept; force
// asks for a new one (a new JWT exchange, or an OAuth refresh).
func (a *authorizer) token(ctx context.Context, req jobrunner.Request, force bool) (string, error) {
	if a.current != "" && !force {
		return a.current, nil
	}
	var t string
	var err error
	if a.key == nil {
		if t, err = req.AccessToken(ctx, force); err != nil {
			var f *jobrunner.Failure
			if errors.As(err, &f) {
				return "", &jobrunner.Failure{Reason: f.Reason, Message: "bigquery: " + f.Message}
			}
			return "", err
		}
	} else if t, err = a.mint(ctx, req.HTTP); err != nil {
		return "", err
	}
	a.current = t
	return t, nil
}

// mint gets an access token with the key: golang.org/x/oauth2/jwt signs
// the assertion and makes the JWT bearer grant request (RFC 7523), which
// goes out through the run's client with no redirect followed, so it is
// retried, counted and classified as every request of the run is.
func (a *authorizer) mint(ctx context.Context, h *jobrunner.HTTP) (string, error) {
	authFail := func(m string) error {
		return &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "bigquery: " + m}
	}
	var (
		sent   bool
		status int
		body   []byte
		doErr  error
	)
	send := func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context()) // a transport leaves the request it is given as it is
		r.Header.Set("Accept", "application/json")
		sent = true
		var header http.Header
		status, header, body, doErr = h.NoRedirects("token endpoint").Do(ctx, r)
		if doErr != nil {
			return nil, doErr
		}
		return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
	}
	access, err := a.key.Token(ctx, send, bigqueryScope, a.tokenURI)
	if !sent { // x/oauth2 could not sign with the key
		return "", authFail("cannot sign with the service_account_key's private_key: download a new JSON key")
	}
	if err := doErr; err != nil {
		var f *jobrunner.Failure
		if !errors.As(err, &f) || status == 0 || status >= 500 {
			if errors.As(err, &f) && f == err {
				return "", &jobrunner.Failure{Reason: f.Reason, Message: "bigquery: service account token: " + f.Message}
			}
			return "", err
		}
		var oe struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &oe)
		code := ""
		if oe.Error != "" && strings.Trim(oe.Error, "abcdefghijklmnopqrstuvwxyz_") == "" {
			code = " (" + oe.Error + ")"
		}
		return "", authFail(fmt.Sprintf("the token endpoint refused the service account key of %s with HTTP %d%s: the key was deleted or disabled, or this computer's clock is off", a.key.ClientEmail, status, code))
	}
	if err != nil || access == "" {
		return "", authFail("the token endpoint answered no access_token")
	}
	return access, nil
}

func srcErr(m string) error {
	return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "bigquery: " + m}
}

func clip(s string) string { return jobrunner.Clip(s, maxMessage) }
