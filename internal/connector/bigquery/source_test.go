package bigquery

// The fake BigQuery below follows the documented shapes of:
//   - jobs.query, POST /bigquery/v2/projects/{projectId}/queries with a
//     QueryRequest {query, useLegacySql, maxResults, timeoutMs, location},
//     answering {jobReference {projectId, jobId, location}, jobComplete,
//     schema {fields [{name, type, mode, fields}]}, rows [{f [{v}]}],
//     pageToken, totalRows}
//     https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query
//   - jobs.getQueryResults, GET .../queries/{jobId}?pageToken=&maxResults=
//     &timeoutMs=&location=, same answer shape
//     https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults
//   - tables.get (schema) and tabledata.list, GET .../tables/{t}/data
//     ?pageToken=&maxResults=, answering {totalRows, pageToken, rows}
//     https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/get
//     https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/list
//   - Google API errors {"error": {code, message, errors [{reason, message}],
//     status}}: 403 rateLimitExceeded / quotaExceeded, 400 invalidQuery,
//     404 notFound https://cloud.google.com/bigquery/docs/error-messages
//   - the JWT bearer token exchange of a service account
//     https://developers.google.com/identity/protocols/oauth2/service-account#httprest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const project = "acme-analytics"

// fake is a BigQuery and Google token endpoint in one server.
type fake struct {
	t    *testing.T
	priv *rsa.PrivateKey
	mu   sync.Mutex
	// api answers the BigQuery calls; n counts them per "METHOD path".
	api    func(w http.ResponseWriter, r *http.Request, n int) bool
	calls  map[string]int
	log    []string
	mints  int
	tokens map[string]bool // tokens currently valid
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{t: t, priv: priv, calls: map[string]int{}, tokens: map[string]bool{}}
	srv := httptest.NewServer(connectortest.CheckDiscovery(t, connectortest.BigQueryDiscovery, http.HandlerFunc(f.serve)))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) keyJSON(tokenURI string) string {
	der, err := x509.MarshalPKCS8PrivateKey(f.priv)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": project, "private_key_id": "kid1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "loader@" + project + ".iam.gserviceaccount.com", "client_id": "1234",
		"token_uri": tokenURI,
	})
	return string(b)
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/token" {
		f.token(w, r)
		return
	}
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	key := r.Method + " " + r.URL.Path
	f.calls[key]++
	f.log = append(f.log, key+"?"+r.URL.RawQuery)
	if !f.tokens[auth] {
		googleErr(w, 401, "authError", "Request had invalid authentication credentials.")
		return
	}
	if !f.api(w, r, f.calls[key]) {
		googleErr(w, 404, "notFound", "Not found: "+r.URL.Path)
	}
}

// token checks the JWT bearer grant and its RS256 signature.
func (f *fake) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
		return
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&f.priv.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
		return
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	if c["scope"] != bigqueryScope || !strings.HasSuffix(fmt.Sprint(c["aud"]), "/token") || !strings.HasPrefix(fmt.Sprint(c["iss"]), "loader@") {
		f.t.Errorf("JWT claims %v", c)
	}
	f.mints++
	tok := fmt.Sprintf("ya29.tok%d", f.mints)
	f.tokens[tok] = true
	writeJSON(w, 200, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func googleErr(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": msg, "status": "X",
		"errors": []map[string]any{{"message": msg, "domain": "global", "reason": reason}},
	}})
}

func saRequest(f *fake, srv *httptest.Server, s *jobrunnertest.Waits, params map[string]string) jobrunner.Request {
	return jobrunner.Request{
		Fields:  map[string]string{"auth": "service_account", "project_id": project, "location": "EU", "base_url": srv.URL},
		Secrets: map[string]string{"service_account_key": f.keyJSON(srv.URL + "/token")},
		Params:  params,
		HTTP:    jobrunner.NewHTTP(srv.Client(), s.Sleep, nil, nil),
	}
}

func fetch(t *testing.T, src jobrunner.Source, req jobrunner.Request) ([]string, string, error) {
	t.Helper()
	var out []string
	cp, err := src.Fetch(context.Background(), req, func(r jobrunner.Record) error {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
		return nil
	})
	return out, cp, err
}

func cell(v any) map[string]any { return map[string]any{"v": v} }

var testSchema = map[string]any{"fields": []map[string]any{
	{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
	{"name": "name", "type": "STRING", "mode": "NULLABLE"},
	{"name": "score", "type": "FLOAT", "mode": "NULLABLE"},
	{"name": "active", "type": "BOOLEAN", "mode": "NULLABLE"},
	{"name": "updated", "type": "TIMESTAMP", "mode": "NULLABLE"},
	{"name": "tags", "type": "STRING", "mode": "REPEATED"},
	{"name": "addr", "type": "RECORD", "mode": "NULLABLE", "fields": []map[string]any{
		{"name": "city", "type": "STRING"}, {"name": "zip", "type": "INTEGER"},
	}},
	{"name": "amount", "type": "NUMERIC", "mode": "NULLABLE"},
}}

// testRow builds a TableRow; updated is microseconds since the epoch, as
// with formatOptions.useInt64Timestamp.
func testRow(id int, updated time.Time) map[string]any {
	return map[string]any{"f": []any{
		cell(fmt.Sprint(id)), cell(fmt.Sprintf("row %d", id)), cell("1.5"), cell("true"),
		cell(fmt.Sprint(updated.UnixMicro())),
		cell([]any{cell("a"), cell("b")}),
		cell(map[string]any{"f": []any{cell("Paris"), cell("75001")}}),
		cell("12345678901234567890.123456789"),
	}}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

func TestQueryPollsPagesConvertsAndRemints(t *testing.T) {
	f, srv := newFake(t)
	jobPath := "/bigquery/v2/projects/" + project + "/queries/job_abc"
	expired := false
	f.api = func(w http.ResponseWriter, r *http.Request, n int) bool {
		switch {
		case r.Method == "POST" && r.URL.Path == "/bigquery/v2/projects/"+project+"/queries":
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			if body["query"] != "SELECT * FROM sales.orders" || body["useLegacySql"] != false ||
				body["maxResults"] != float64(10000) || body["location"] != "EU" || body["timeoutMs"] == nil {
				t.Errorf("jobs.query body %v", body)
			}
			writeJSON(w, 200, map[string]any{"kind": "bigquery#queryResponse",
				"jobReference": map[string]any{"projectId": project, "jobId": "job_abc", "location": "EU"}, "jobComplete": false})
		case r.Method == "GET" && r.URL.Path == jobPath:
			q := r.URL.Query()
			if q.Get("location") != "EU" || q.Get("timeoutMs") == "" {
				t.Errorf("getQueryResults query %v", q)
			}
			switch q.Get("pageToken") {
			case "":
				if n == 1 { // still running
					writeJSON(w, 200, map[string]any{"jobReference": map[string]any{"jobId": "job_abc", "location": "EU"}, "jobComplete": false})
					return true
				}
				writeJSON(w, 200, map[string]any{"jobReference": map[string]any{"jobId": "job_abc", "location": "EU"}, "jobComplete": true,
					"schema": testSchema, "totalRows": "3", "pageToken": "tok2",
					"rows": []any{testRow(1, t0), testRow(2, t0.Add(time.Minute))}})
			case "tok2":
				if !expired { // the access token expires between pages
					expired = true
					f.tokens = map[string]bool{}
					googleErr(w, 401, "authError", "Request had invalid authentication credentials.")
					return true
				}
				writeJSON(w, 200, map[string]any{"jobReference": map[string]any{"jobId": "job_abc", "location": "EU"}, "jobComplete": true,
					"schema": testSchema, "totalRows": "3", "rows": []any{testRow(3, t0.Add(2*time.Minute))}})
			default:
				t.Errorf("pageToken %q", q.Get("pageToken"))
			}
		default:
			return false
		}
		return true
	}
	var s jobrunnertest.Waits
	src := QuerySource().(*querySource)
	src.sleep = s.Sleep // the pause between polls
	recs, cp, err := fetch(t, src, saRequest(f, srv, &s, map[string]string{"sql": "SELECT * FROM sales.orders"}))
	if err != nil {
		t.Fatalf("Fetch: %v\nlog %v", err, f.log)
	}
	if cp != "" || len(recs) != 3 {
		t.Fatalf("checkpoint %q, %d records", cp, len(recs))
	}
	want := `{"active":true,"addr":{"city":"Paris","zip":75001},"amount":"12345678901234567890.123456789","id":1,"name":"row 1","score":1.5,"tags":["a","b"],"updated":"2026-03-01T12:00:00.123456Z"}`
	if recs[0] != want {
		t.Errorf("record\n got %s\nwant %s", recs[0], want)
	}
	if !strings.Contains(recs[2], `"id":3`) {
		t.Errorf("last record %s", recs[2])
	}
	if f.mints != 2 {
		t.Errorf("%d tokens minted, want 2 (one per run, one after the 401)", f.mints)
	}
	// POST (not complete), poll (not complete), poll (page 1), page 2 (401),
	// page 2; a pause before each poll.
	if len(f.log) != 5 || len(s.Durations()) != 2 || s.Durations()[1] != pollPause {
		t.Errorf("calls %v, waits %v", f.log, s.Durations())
	}
}

func TestQueryIncremental(t *testing.T) {
	f, srv := newFake(t)
	var sent string
	f.api = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.Method != "POST" {
			return false
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		sent, _ = body["query"].(string)
		writeJSON(w, 200, map[string]any{"jobReference": map[string]any{"jobId": "j1"}, "jobComplete": true,
			"schema": testSchema, "totalRows": "2", "rows": []any{testRow(1, t0.Add(time.Hour)), testRow(2, t0)}})
		return true
	}
	req := saRequest(f, srv, &jobrunnertest.Waits{}, map[string]string{
		"sql": "SELECT * FROM t WHERE updated > {since}", "incremental_column": "updated"})
	req.Since = "2026-02-01T00:00:00.5Z"
	recs, cp, err := fetch(t, QuerySource(), req)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Fetch: %d records, %v", len(recs), err)
	}
	if sent != "SELECT * FROM t WHERE updated > TIMESTAMP '2026-02-01 00:00:00.5+00:00'" {
		t.Errorf("sent %q", sent)
	}
	if cp != "2026-03-01T13:00:00.123456Z" {
		t.Errorf("checkpoint %q", cp)
	}
	// First run: the epoch; a column that is not in the result is config.
	req.Since = ""
	req.Params["incremental_column"] = "nope"
	_, _, err = fetch(t, QuerySource(), req)
	if !strings.Contains(sent, "TIMESTAMP '1970-01-01 00:00:00+00:00'") || reason(err) != jobrunner.ReasonConfig {
		t.Errorf("sent %q, err %v", sent, err)
	}
}

func TestTableSourcePagesWithOAuthRefresh(t *testing.T) {
	f, srv := newFake(t)
	base := "/bigquery/v2/projects/" + project + "/datasets/sales/tables/orders"
	f.api = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		switch r.URL.Path {
		case base:
			writeJSON(w, 200, map[string]any{"kind": "bigquery#table", "schema": testSchema, "numRows": "3"})
		case base + "/data":
			if r.URL.Query().Get("maxResults") == "" {
				t.Errorf("tabledata.list without maxResults")
			}
			switch r.URL.Query().Get("pageToken") {
			case "":
				writeJSON(w, 200, map[string]any{"kind": "bigquery#tableDataList", "totalRows": "3", "pageToken": "BH2",
					"rows": []any{testRow(1, t0), testRow(2, t0)}})
			case "BH2":
				writeJSON(w, 200, map[string]any{"kind": "bigquery#tableDataList", "totalRows": "3", "rows": []any{testRow(3, t0)}})
			}
		default:
			return false
		}
		return true
	}
	f.tokens["ya29.refreshed"] = true
	var forced int
	req := jobrunner.Request{
		Fields:  map[string]string{"auth": "oauth2", "project_id": project, "base_url": srv.URL},
		Secrets: map[string]string{},
		Params:  map[string]string{"dataset": "sales", "table": "orders"},
		HTTP:    jobrunner.NewHTTP(srv.Client(), (&jobrunnertest.Waits{}).Sleep, nil, nil),
		Token: func(_ context.Context, force bool) (string, error) {
			if force {
				forced++
				return "ya29.refreshed", nil
			}
			return "ya29.stale", nil
		},
	}
	recs, cp, err := fetch(t, TableSource(), req)
	if err != nil || cp != "" || len(recs) != 3 || forced != 1 {
		t.Fatalf("Fetch: %d records, checkpoint %q, %d refreshes, %v", len(recs), cp, forced, err)
	}
	if !strings.Contains(recs[2], `"id":3`) {
		t.Errorf("records %v", recs)
	}
}

func TestRateLimitExceededIsRetried(t *testing.T) {
	f, srv := newFake(t)
	f.api = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n <= 2 {
			googleErr(w, 403, "rateLimitExceeded", "Exceeded rate limits: too many api requests per user per method")
			return true
		}
		writeJSON(w, 200, map[string]any{"jobReference": map[string]any{"jobId": "j1"}, "jobComplete": true,
			"schema": testSchema, "rows": []any{testRow(1, t0)}})
		return true
	}
	var s jobrunnertest.Waits
	recs, _, err := fetch(t, QuerySource(), saRequest(f, srv, &s, map[string]string{"sql": "SELECT 1"}))
	if err != nil || len(recs) != 1 {
		t.Fatalf("Fetch: %d records, %v", len(recs), err)
	}
	if len(s.Durations()) != 2 || f.calls["POST /bigquery/v2/projects/"+project+"/queries"] != 3 {
		t.Errorf("waits %v, calls %v", s.Durations(), f.calls)
	}
}

func reason(err error) string {
	var f *jobrunner.Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return fmt.Sprintf("not a Failure: %v", err)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
		answer       func(w http.ResponseWriter)
		calls        int
	}{
		{"invalidQuery", jobrunner.ReasonConfig, func(w http.ResponseWriter) {
			googleErr(w, 400, "invalidQuery", "Syntax error: Unexpected keyword FORM at [1:10]")
		}, 1},
		{"quotaExceeded", jobrunner.ReasonRateLimit, func(w http.ResponseWriter) {
			googleErr(w, 403, "quotaExceeded", "Quota exceeded: Your project exceeded quota for free query bytes scanned.")
		}, 1},
		{"accessDenied", jobrunner.ReasonAuth, func(w http.ResponseWriter) {
			googleErr(w, 403, "accessDenied", "Access Denied: Project acme-analytics: User does not have bigquery.jobs.create permission")
		}, 1},
		{"notFound", jobrunner.ReasonConfig, func(w http.ResponseWriter) {
			googleErr(w, 404, "notFound", "Not found: Dataset acme-analytics:sales")
		}, 1},
		{"rateLimitExhausted", jobrunner.ReasonRateLimit, func(w http.ResponseWriter) {
			googleErr(w, 403, "rateLimitExceeded", "Exceeded rate limits")
		}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.api = func(w http.ResponseWriter, _ *http.Request, _ int) bool { tc.answer(w); return true }
			_, _, err := fetch(t, QuerySource(), saRequest(f, srv, &jobrunnertest.Waits{}, map[string]string{"sql": "SELECT * FORM t"}))
			if reason(err) != tc.reason || len(f.log) != tc.calls {
				t.Fatalf("err %v (%s) after %d calls; want %s after %d", err, reason(err), len(f.log), tc.reason, tc.calls)
			}
			if !strings.Contains(err.Error(), tc.name) && tc.name != "rateLimitExhausted" {
				t.Errorf("message %q lacks the reason", err)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("message quotes the key")
			}
		})
	}
}

func TestRejectedTwiceIsAuth(t *testing.T) {
	f, srv := newFake(t)
	f.api = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		googleErr(w, 401, "authError", "Request had invalid authentication credentials.")
		return true
	}
	_, _, err := fetch(t, QuerySource(), saRequest(f, srv, &jobrunnertest.Waits{}, map[string]string{"sql": "SELECT 1"}))
	if reason(err) != jobrunner.ReasonAuth || f.mints != 2 || len(f.log) != 2 {
		t.Fatalf("err %v, %d mints, calls %v", err, f.mints, f.log)
	}
}

func TestBadKeyAndTokenRefusal(t *testing.T) {
	f, srv := newFake(t)
	f.api = func(http.ResponseWriter, *http.Request, int) bool { return false }
	req := saRequest(f, srv, &jobrunnertest.Waits{}, map[string]string{"sql": "SELECT 1"})
	req.Secrets["service_account_key"] = `{"type":"service_account","client_email":"x@y","private_key":"nope"}`
	if _, _, err := fetch(t, QuerySource(), req); reason(err) != jobrunner.ReasonConfig {
		t.Errorf("bad PEM: %v", err)
	}
	// A key whose private key does not match: the token endpoint says invalid_grant.
	other, srv2 := newFake(t)
	req = saRequest(other, srv, &jobrunnertest.Waits{}, map[string]string{"sql": "SELECT 1"})
	_ = srv2
	_, _, err := fetch(t, QuerySource(), req)
	if reason(err) != jobrunner.ReasonAuth || !strings.Contains(err.Error(), "invalid_grant") || f.mints != 0 {
		t.Errorf("wrong key: %v", err)
	}
}

func TestConvertCellEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		f    field
		raw  string
		want string
	}{
		{field{Type: "FLOAT"}, `"NaN"`, `"NaN"`},
		{field{Type: "TIMESTAMP"}, `"1.7728992E9"`, `"2026-03-07T16:00:00.000000Z"`},
		{field{Type: "STRING", Mode: "REPEATED"}, `[]`, `[]`},
		{field{Type: "STRING"}, `null`, `null`},
		{field{Type: "INT64"}, `"-9223372036854775808"`, `-9223372036854775808`},
		{field{Type: "RECORD", Mode: "REPEATED", Fields: []field{{Name: "k", Type: "STRING"}}}, `[{"v":{"f":[{"v":"x"}]}}]`, `[{"k":"x"}]`},
	} {
		v, err := convertCell(tc.f, json.RawMessage(tc.raw))
		b, _ := json.Marshal(v)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v %s: %s, %v; want %s", tc.f, tc.raw, b, err, tc.want)
		}
	}
	if _, err := convertCell(field{Type: "INTEGER"}, json.RawMessage(`"x"`)); err == nil {
		t.Error("bad INTEGER accepted")
	}
}
