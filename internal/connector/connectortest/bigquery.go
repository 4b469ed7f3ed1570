package connectortest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Google BigQuery, following its documented shapes:
//   - service account: the key file's token_uri takes the JWT bearer grant
//     (RFC 7523): grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and
//     an RS256 assertion {iss: client_email, scope, aud: token_uri, iat, exp
//     at most an hour later}; it answers {access_token, expires_in,
//     token_type} or 400 {error: invalid_grant | invalid_scope,
//     error_description}
//     (https://developers.google.com/identity/protocols/oauth2/service-account#httprest);
//     who-am-I (connctl test) is datasets.list
//     (https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/list);
//   - OAuth for a Desktop app: /o/oauth2/v2/auth with PKCE and
//     access_type=offline (else no refresh token), the token endpoint taking
//     client_id and client_secret, revocation POST /revoke?token= answering
//     200, or 400 {"error": "invalid_token"} for a token already expired or
//     revoked (https://developers.google.com/identity/protocols/oauth2/native-app),
//     and the OpenID Connect userinfo endpoint {sub, email, email_verified}
//     (https://developers.google.com/identity/openid-connect/openid-connect#obtainuserinfo);
//   - jobs.query: POST /bigquery/v2/projects/{project}/queries with a
//     QueryRequest {query, useLegacySql (true when absent), maxResults,
//     timeoutMs, location, formatOptions.useInt64Timestamp}, answering
//     {kind, jobReference {projectId, jobId, location}, jobComplete, schema,
//     rows [{f: [{v}]}], totalRows, pageToken}; jobComplete false when the
//     job outlives timeoutMs (this fake: the first job it runs, once), then
//     jobs.getQueryResults GET .../queries/{jobId}?location=&maxResults=
//     &pageToken=&timeoutMs= pages the job's results, which are fixed when
//     the job ran (https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query,
//     https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults).
//     A page holds maxResults rows or fewer: BigQuery also caps it by size
//     (10 MB), which this fake stands in for with bqPageRows rows. TIMESTAMP
//     cells are microseconds since the epoch with useInt64Timestamp, else
//     seconds in floating point;
//   - tables.get GET /bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}
//     answers the Table resource {kind, id, tableReference, schema {fields},
//     numRows (a string), type, location, ...}, and tabledata.list GET
//     .../tables/{table}/data?maxResults=&pageToken=&startIndex=
//     &formatOptions.useInt64Timestamp= answers {kind, etag, totalRows (a
//     string), rows [{f: [{v}]}], pageToken} (no pageToken on the last page;
//     pages are capped by size like the query results, bqPageRows here)
//     (https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/get,
//     https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/list);
//   - errors {"error": {code, message, errors [{message, domain, reason}],
//     status}}: 401 authError, 403 rateLimitExceeded (back off and retry),
//     500/503 backendError (retry), 400 invalidQuery, 404 notFound
//     (https://cloud.google.com/bigquery/docs/error-messages). Google does
//     not send Retry-After with them; clients use exponential backoff.
//
// The fake knows one table, `acme-analytics.sales.orders` (location EU),
// and the GoogleSQL this suite sends: SELECT * or a column list FROM it,
// optionally WHERE updated_at >= (or >) a TIMESTAMP literal and ORDER BY
// updated_at. The query source runs incrementally with {since} in the SQL;
// the table source (Also) reads the same table through tables.get and
// tabledata.list, full every run.
func init() {
	register(
		Case{Connector: "bigquery", Auth: "service_account", Source: "query", Params: bqParams, Also: bqAlso, Account: bqSAEmail, Suite: bqSuite, Start: startBigQuery("service_account")},
		Case{Connector: "bigquery", Auth: "oauth2", Source: "query", Params: bqParams, Also: bqAlso, Account: "analyst@acme.example", Revocable: true, Suite: bqSuite, Start: startBigQuery("oauth2")},
	)
}

// bqRows is the number of rows of sales.orders (the dataset's records).
const bqRows = 250

// bqAlso reads sales.orders whole: three tabledata.list pages.
const bqPositional = "rows are positional f/v cells, where the suite's walker finds no updated_at; bigquery TestQueryIncremental covers the checkpoint"

// bqSuite: jobs.getQueryResults and tabledata.list page by pageToken, no
// links; rows are positional f/v cells, so the suite finds no cursor field.
var bqSuite = map[string]SuiteOptions{"query": {Skip: map[Check]string{ForeignLink: "pages by pageToken, no links",
	MissingCursor: bqPositional, Forward: bqPositional}},
	"table": {Skip: map[Check]string{ForeignLink: "pages by pageToken, no links"}}}

var bqAlso = []SourceRun{{Source: "table", Params: []string{"dataset=sales", "table=orders"}, Records: bqRows}}

const (
	bqProject  = "acme-analytics"
	bqLocation = "EU"
	bqSAEmail  = "loader@acme-analytics.iam.gserviceaccount.com"
	bqScope    = "https://www.googleapis.com/auth/bigquery"
	bqJWTGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// bqPageRows stands in for BigQuery's page size cap (10 MB).
	bqPageRows = 100
)

var bqParams = []string{
	"sql=SELECT id, name, amount, updated_at FROM `acme-analytics.sales.orders` WHERE updated_at >= {since} ORDER BY updated_at",
	"incremental_column=updated_at",
}

// bqFields is the schema of sales.orders.
var bqFields = []map[string]any{
	{"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
	{"name": "name", "type": "STRING", "mode": "NULLABLE"},
	{"name": "amount", "type": "NUMERIC", "mode": "NULLABLE"},
	{"name": "updated_at", "type": "TIMESTAMP", "mode": "NULLABLE"},
}

func startBigQuery(auth string) func(testing.TB) (*Fake, error) {
	return func(tb testing.TB) (*Fake, error) {
		f := &Fake{Data: NewDataset(bqRows, func(i int) string { return strconv.Itoa(70001 + i) })}
		b := &bigQuery{tb: tb, f: f, sa: map[string]bool{}, jobs: map[string]*bqJob{}, pages: map[string]bqPage{}}
		if auth == "oauth2" {
			f.OAuth = &OAuth{ClientID: "1048576-desk.apps.googleusercontent.com", ClientSecret: "GOCSPX-" + Canary + "-d3sk",
				Prefix: "ya29.", Extra: func(*http.Request) map[string]any {
					return map[string]any{"scope": bqScope + " openid https://www.googleapis.com/auth/userinfo.email"}
				}}
		} else {
			good, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			other, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			b.key, b.priv, b.other = &good.PublicKey, good, other
		}
		mux := http.NewServeMux()
		mux.HandleFunc("POST /token", b.token)
		mux.HandleFunc("GET /bigquery/v2/projects/{project}/datasets", b.datasets)
		mux.HandleFunc("POST /bigquery/v2/projects/{project}/queries", b.query)
		mux.HandleFunc("GET /bigquery/v2/projects/{project}/queries/{job}", b.results)
		mux.HandleFunc("GET /bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}", b.table)
		mux.HandleFunc("GET /bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}/data", b.tableData)
		if o := f.OAuth; o != nil {
			mux.HandleFunc("GET /o/oauth2/v2/auth", func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if q.Get("access_type") != "offline" {
					tb.Errorf("bigquery: the authorization request lacks access_type=offline: Google would issue no refresh token")
				}
				if !strings.Contains(" "+q.Get("scope")+" ", " "+bqScope+" ") {
					tb.Errorf("bigquery: the authorization request asks for scope %q, without %s", q.Get("scope"), bqScope)
				}
				o.Authorize(w, r)
			})
			mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm() // token in the query (documented) or the form body
				tok := r.Form.Get("token")
				if tok == "" {
					tokenError(w, http.StatusBadRequest, "invalid_request", "Bad Request")
					return
				}
				if !o.Revoke(tok) {
					tokenError(w, http.StatusBadRequest, "invalid_token", "Token expired or revoked")
					return
				}
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_, _ = w.Write([]byte("{}"))
			})
			mux.HandleFunc("GET /v1/userinfo", func(w http.ResponseWriter, r *http.Request) {
				if !o.Bearer(r, "Bearer") {
					w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
					tokenError(w, http.StatusUnauthorized, "invalid_request", "Invalid Credentials")
					return
				}
				writeJSON(w, map[string]any{"sub": "110248495921238986420", "email": "analyst@acme.example", "email_verified": true,
					"picture": "https://lh3.googleusercontent.com/a/default-user=s96-c", "hd": "acme.example"})
			})
		}
		srv := Serve(tb, CheckDiscovery(tb, BigQueryDiscovery, mux))
		f.URL = srv.URL
		f.Set = []string{"auth=" + auth, "project_id=" + bqProject, "location=" + bqLocation, "base_url=" + srv.URL}
		if auth == "oauth2" {
			f.Set = append(f.Set, "client_id="+f.OAuth.ClientID, "auth_url="+srv.URL+"/o/oauth2/v2/auth",
				"token_url="+srv.URL+"/token", "revoke_url="+srv.URL+"/revoke", "userinfo_url="+srv.URL+"/v1/userinfo")
			f.Secret, f.SecretField = f.OAuth.ClientSecret, "client_secret"
		} else {
			// The key Google knows, and another of the account that it does
			// not (deleted in the console).
			f.Secret = bqKeyFile(b.priv, "3f2a"+Canary+"9c41d07e5b", srv.URL+"/token")
			f.BadSecret = bqKeyFile(b.other, "8e6d"+Canary+"00b2c17a4f", srv.URL+"/token")
			f.SecretFile = true
		}
		return f, nil
	}
}

// bqKeyFile is a service-account JSON key as the console downloads it.
func bqKeyFile(k *rsa.PrivateKey, keyID, tokenURI string) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	b, err := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": bqProject, "private_key_id": keyID,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": bqSAEmail, "client_id": "104857600000000000001",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/loader%40acme-analytics.iam.gserviceaccount.com",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

type bigQuery struct {
	tb  testing.TB
	f   *Fake
	key *rsa.PublicKey // the service account's one live key; nil with OAuth

	priv, other *rsa.PrivateKey // the live key and a deleted one

	mu    sync.Mutex
	n     int
	sa    map[string]bool // access tokens minted for the service account
	jobs  map[string]*bqJob
	pages map[string]bqPage // pageToken -> where it points
}

// bqJob is a query job and its results, fixed when it ran.
type bqJob struct {
	id       string
	fields   []map[string]any
	cols     []int // column of bqFields for each result column
	rows     []Record
	int64TS  bool
	pollsDue int // getQueryResults calls that still answer jobComplete false
}

// bqPage is where a pageToken points: a job's results, or (job
// bqTableData) the table's rows.
type bqPage struct {
	job    string
	offset int
}

// bqTableData stands for sales.orders in bqPage.job.
const bqTableData = "tabledata:sales.orders"

func (b *bigQuery) next() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return b.n
}

// token is the token endpoint: the JWT bearer grant for the service
// account, and (OAuth case) the authorization code and refresh grants.
func (b *bigQuery) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	if r.PostForm.Get("grant_type") != bqJWTGrant {
		if b.f.OAuth != nil {
			b.f.OAuth.Token(w, r)
			return
		}
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	if b.key == nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid grant: account not found")
		return
	}
	code, desc := b.checkAssertion(r, r.PostForm.Get("assertion"))
	if code != "" {
		tokenError(w, http.StatusBadRequest, code, desc)
		return
	}
	tok := fmt.Sprintf("ya29.c.sa-%s-%d", Canary, b.next())
	b.mu.Lock()
	b.sa[tok] = true
	b.mu.Unlock()
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

// checkAssertion verifies the JWT: RS256 with the account's key, its
// claims and lifetime. It returns the OAuth error, or "" when valid.
func (b *bigQuery) checkAssertion(r *http.Request, jwt string) (code, desc string) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "invalid_grant", "Invalid JWT: Failed to parse."
	}
	enc := base64.RawURLEncoding
	var header struct{ Alg, Typ, Kid string }
	var claims struct {
		Iss, Scope, Aud, Sub string
		Iat, Exp             int64
	}
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return "invalid_grant", "Invalid JWT: Failed to parse."
	}
	if header.Alg != "RS256" {
		return "invalid_grant", "Invalid JWT: unsupported algorithm " + header.Alg
	}
	if claims.Iss != bqSAEmail {
		return "invalid_grant", "Invalid grant: account not found"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(b.key, crypto.SHA256, sum[:], sig) != nil {
		return "invalid_grant", "Invalid JWT Signature."
	}
	if claims.Aud != "http://"+r.Host+"/token" {
		return "invalid_grant", "Invalid JWT: aud must be the token endpoint " + "http://" + r.Host + "/token"
	}
	now := time.Now().Unix()
	if claims.Exp <= claims.Iat || claims.Exp-claims.Iat > 3600 || claims.Iat > now+300 || claims.Exp < now-300 {
		return "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
	}
	if !strings.Contains(" "+claims.Scope+" ", " "+bqScope+" ") {
		return "invalid_scope", "Invalid OAuth scope or ID token audience provided."
	}
	return "", ""
}

// authorized checks the Bearer token; it answers 401 itself when not.
func (b *bigQuery) authorized(w http.ResponseWriter, r *http.Request) bool {
	ok := false
	if b.f.OAuth != nil {
		ok = b.f.OAuth.Bearer(r, "Bearer")
	} else if tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
		b.mu.Lock()
		ok = b.sa[tok]
		b.mu.Unlock()
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		bqError(w, http.StatusUnauthorized, "authError", "global", "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		return false
	}
	if p := r.PathValue("project"); p != bqProject {
		bqError(w, http.StatusNotFound, "notFound", "global", "NOT_FOUND", "Not found: Project "+p)
		return false
	}
	return true
}

func bqError(w http.ResponseWriter, status int, reason, domain, state, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	writeJSONBody(w, map[string]any{"error": map[string]any{"code": status, "message": msg,
		"errors": []map[string]any{{"message": msg, "domain": domain, "reason": reason}}, "status": state}})
}

// fault answers a throttled or failing data request; it reports whether it did.
func (b *bigQuery) fault(w http.ResponseWriter) bool {
	switch b.f.Data.Fault() {
	case Throttle:
		bqError(w, http.StatusForbidden, "rateLimitExceeded", "usageLimits", "PERMISSION_DENIED",
			"Exceeded rate limits: too many api requests per user per method for this user_method. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas")
		return true
	case Fail:
		bqError(w, http.StatusServiceUnavailable, "backendError", "global", "UNAVAILABLE",
			"Error encountered during execution. Retrying may solve the problem.")
		return true
	}
	return false
}

// datasets is datasets.list, connctl test's who-am-I (no Fault).
func (b *bigQuery) datasets(w http.ResponseWriter, r *http.Request) {
	if !b.authorized(w, r) {
		return
	}
	writeJSON(w, map[string]any{"kind": "bigquery#datasetList", "etag": "kV3PvuI1lVhB1P5ZQnTx0A==",
		"datasets": []map[string]any{{"kind": "bigquery#dataset", "id": bqProject + ":sales",
			"datasetReference": map[string]any{"datasetId": "sales", "projectId": bqProject}, "location": bqLocation}}})
}

// bqSQL is the GoogleSQL this fake understands.
var bqSQL = regexp.MustCompile("(?is)^\\s*SELECT\\s+(.+?)\\s+FROM\\s+`?([A-Za-z0-9_.:-]+)`?" +
	`(?:\s+WHERE\s+updated_at\s*(>=|>)\s*TIMESTAMP\s*'([^']+)')?` +
	`(?:\s+ORDER\s+BY\s+updated_at(?:\s+ASC)?)?\s*;?\s*$`)

// query is jobs.query: it runs the job and answers its first page.
func (b *bigQuery) query(w http.ResponseWriter, r *http.Request) {
	if !b.authorized(w, r) || b.fault(w) {
		return
	}
	var req struct {
		Query         string
		UseLegacySQL  *bool `json:"useLegacySql"`
		MaxResults    int
		TimeoutMs     int
		Location      string
		FormatOptions struct {
			UseInt64Timestamp bool
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		bqError(w, http.StatusBadRequest, "invalid", "global", "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	if req.Location != "" && !strings.EqualFold(req.Location, bqLocation) {
		bqError(w, http.StatusNotFound, "notFound", "global", "NOT_FOUND",
			"Not found: Dataset "+bqProject+":sales was not found in location "+req.Location)
		return
	}
	if req.UseLegacySQL == nil || *req.UseLegacySQL {
		bqError(w, http.StatusBadRequest, "invalidQuery", "global", "INVALID_ARGUMENT",
			"Invalid table name: `"+bqProject+".sales.orders` [Try using standard SQL (https://cloud.google.com/bigquery/docs/reference/standard-sql/enabling-standard-sql)].")
		return
	}
	job, status, reason, msg := b.run(req.Query)
	if job == nil {
		state := "INVALID_ARGUMENT"
		if status == http.StatusNotFound {
			state = "NOT_FOUND"
		}
		bqError(w, status, reason, "global", state, msg)
		return
	}
	b.mu.Lock()
	job.int64TS = req.FormatOptions.UseInt64Timestamp
	pending := job.pollsDue > 0
	if pending {
		job.pollsDue--
	}
	b.mu.Unlock()
	if pending { // the job outlived timeoutMs
		writeJSON(w, map[string]any{"kind": "bigquery#queryResponse", "jobReference": b.ref(job), "jobComplete": false})
		return
	}
	out := b.page(job, 0, req.MaxResults, job.int64TS)
	out["kind"] = "bigquery#queryResponse"
	writeJSON(w, out)
}

// run parses the SQL and runs the job: its results are fixed from now on.
func (b *bigQuery) run(sql string) (job *bqJob, status int, reason, msg string) {
	m := bqSQL.FindStringSubmatch(sql)
	if m == nil {
		return nil, http.StatusBadRequest, "invalidQuery", "Syntax error: this fake knows SELECT ... FROM `" + bqProject + ".sales.orders` [WHERE updated_at >= TIMESTAMP '...'] [ORDER BY updated_at]"
	}
	if t := strings.TrimPrefix(strings.Replace(m[2], ":", ".", 1), bqProject+"."); t != "sales.orders" {
		return nil, http.StatusNotFound, "notFound", "Not found: Table " + bqProject + ":" + t + " was not found in location " + bqLocation
	}
	job = &bqJob{}
	if strings.TrimSpace(m[1]) == "*" {
		job.cols = []int{0, 1, 2, 3}
	} else {
		for _, c := range strings.Split(m[1], ",") {
			c = strings.TrimSpace(c)
			i := -1
			for k, f := range bqFields {
				if strings.EqualFold(f["name"].(string), c) {
					i = k
				}
			}
			if i < 0 {
				return nil, http.StatusBadRequest, "invalidQuery", "Unrecognized name: " + c + " at [1:8]"
			}
			job.cols = append(job.cols, i)
		}
	}
	for _, c := range job.cols {
		job.fields = append(job.fields, bqFields[c])
	}
	var since time.Time
	inclusive := false
	if m[4] != "" {
		t, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", m[4])
		if err != nil {
			return nil, http.StatusBadRequest, "invalidQuery", "Invalid TIMESTAMP literal '" + m[4] + "' at [1:1]"
		}
		since, inclusive = t.UTC(), m[3] == ">="
		b.f.Data.SawSince(since)
	}
	job.rows = b.f.Data.Since(since, inclusive)
	n := b.next()
	job.id = fmt.Sprintf("job_Vq3%04dxR7tKp2mLw9", n)
	b.mu.Lock()
	if len(b.jobs) == 0 {
		job.pollsDue = 1 // the fake's first job outlives timeoutMs
	}
	b.jobs[job.id] = job
	b.mu.Unlock()
	return job, 0, "", ""
}

func (b *bigQuery) ref(job *bqJob) map[string]any {
	return map[string]any{"projectId": bqProject, "jobId": job.id, "location": bqLocation}
}

// page is a completed job's results from offset: at most maxResults rows
// (and bqPageRows), with a pageToken when more follow.
func (b *bigQuery) page(job *bqJob, offset, maxResults int, int64TS bool) map[string]any {
	limit := bqPageRows
	if maxResults > 0 && maxResults < limit {
		limit = maxResults
	}
	end := min(offset+limit, len(job.rows))
	rows := []map[string]any{}
	for _, rec := range job.rows[offset:end] {
		rows = append(rows, bqRow(job, rec, int64TS))
	}
	out := map[string]any{"jobReference": b.ref(job), "jobComplete": true, "schema": map[string]any{"fields": job.fields},
		"totalRows": strconv.Itoa(len(job.rows)), "rows": rows, "totalBytesProcessed": strconv.Itoa(len(job.rows) * 41), "cacheHit": false}
	if end < len(job.rows) {
		tok := fmt.Sprintf("BG%sQAAASA%06dICBNBSSA", strings.ToUpper(job.id[len(job.id)-4:]), b.next())
		b.mu.Lock()
		b.pages[tok] = bqPage{job: job.id, offset: end}
		b.mu.Unlock()
		out["pageToken"] = tok
	}
	return out
}

func bqRow(job *bqJob, rec Record, int64TS bool) map[string]any {
	id, _ := strconv.Atoi(rec.ID)
	var cells []map[string]any
	for _, c := range job.cols {
		var v string
		switch c {
		case 0:
			v = rec.ID
		case 1:
			v = "Order " + rec.ID
		case 2:
			v = fmt.Sprintf("%d.%02d", 10+id%990, id%100)
		case 3:
			if int64TS {
				v = strconv.FormatInt(rec.Modified.UnixMicro(), 10)
			} else { // seconds as a float, e.g. 1.7912736E9
				v = strconv.FormatFloat(float64(rec.Modified.UnixMicro())/1e15, 'f', -1, 64) + "E9"
			}
		}
		cells = append(cells, map[string]any{"v": v})
	}
	return map[string]any{"f": cells}
}

// results is jobs.getQueryResults.
func (b *bigQuery) results(w http.ResponseWriter, r *http.Request) {
	if !b.authorized(w, r) || b.fault(w) {
		return
	}
	q := r.URL.Query()
	b.mu.Lock()
	job := b.jobs[r.PathValue("job")]
	b.mu.Unlock()
	if job == nil || (q.Get("location") != "" && !strings.EqualFold(q.Get("location"), bqLocation)) {
		loc := q.Get("location")
		if loc == "" {
			loc = "US"
		}
		bqError(w, http.StatusNotFound, "notFound", "global", "NOT_FOUND", "Not found: Job "+bqProject+":"+loc+"."+r.PathValue("job"))
		return
	}
	b.mu.Lock()
	pending := job.pollsDue > 0
	if pending {
		job.pollsDue--
	}
	b.mu.Unlock()
	if pending {
		writeJSON(w, map[string]any{"kind": "bigquery#getQueryResultsResponse", "jobReference": b.ref(job), "jobComplete": false})
		return
	}
	offset := 0
	if tok := q.Get("pageToken"); tok != "" {
		b.mu.Lock()
		p, ok := b.pages[tok]
		b.mu.Unlock()
		if !ok || p.job != job.id {
			bqError(w, http.StatusBadRequest, "invalid", "global", "INVALID_ARGUMENT", "Invalid page token: "+tok)
			return
		}
		offset = p.offset
	}
	maxResults, _ := strconv.Atoi(q.Get("maxResults"))
	out := b.page(job, offset, maxResults, q.Get("formatOptions.useInt64Timestamp") == "true")
	out["kind"] = "bigquery#getQueryResultsResponse"
	out["etag"] = "Tk5g2VQqG0eQyHh1Ff8Fjw=="
	writeJSON(w, out)
}

// knownTable answers 404 notFound unless the path names sales.orders.
func (b *bigQuery) knownTable(w http.ResponseWriter, r *http.Request) bool {
	ds, t := r.PathValue("dataset"), r.PathValue("table")
	if ds != "sales" {
		bqError(w, http.StatusNotFound, "notFound", "global", "NOT_FOUND", "Not found: Dataset "+bqProject+":"+ds)
		return false
	}
	if t != "orders" {
		bqError(w, http.StatusNotFound, "notFound", "global", "NOT_FOUND", "Not found: Table "+bqProject+":"+ds+"."+t)
		return false
	}
	return true
}

// table is tables.get of sales.orders: the Table resource with its schema.
func (b *bigQuery) table(w http.ResponseWriter, r *http.Request) {
	if !b.authorized(w, r) || b.fault(w) || !b.knownTable(w, r) {
		return
	}
	created := Base.Add(-90 * 24 * time.Hour).UnixMilli()
	writeJSON(w, map[string]any{"kind": "bigquery#table", "etag": "f8Yx0Jq3cKzUuQ5tW1nB9g==",
		"id": bqProject + ":sales.orders", "selfLink": "http://" + r.Host + r.URL.Path,
		"tableReference": map[string]any{"projectId": bqProject, "datasetId": "sales", "tableId": "orders"},
		"schema":         map[string]any{"fields": bqFields},
		"numBytes":       strconv.Itoa(b.f.Data.Len() * 41), "numLongTermBytes": "0", "numRows": strconv.Itoa(b.f.Data.Len()),
		"creationTime": strconv.FormatInt(created, 10), "lastModifiedTime": strconv.FormatInt(Base.UnixMilli(), 10),
		"type": "TABLE", "location": bqLocation, "numTotalLogicalBytes": strconv.Itoa(b.f.Data.Len() * 41)})
}

// tableData is tabledata.list of sales.orders: the rows in storage order
// (the dataset's), at most maxResults (and bqPageRows) a page, from the
// pageToken's row or startIndex.
func (b *bigQuery) tableData(w http.ResponseWriter, r *http.Request) {
	if !b.authorized(w, r) || b.fault(w) || !b.knownTable(w, r) {
		return
	}
	q := r.URL.Query()
	// Storage order: the rows as inserted, not by updated_at.
	all := b.f.Data.All()
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	offset := 0
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			bqError(w, http.StatusBadRequest, "invalid", "global", "INVALID_ARGUMENT", "Invalid value at 'start_index' (TYPE_UINT64), \""+v+"\"")
			return
		}
		offset = int(min(n, uint64(len(all))))
	}
	if tok := q.Get("pageToken"); tok != "" {
		b.mu.Lock()
		p, ok := b.pages[tok]
		b.mu.Unlock()
		if !ok || p.job != bqTableData {
			bqError(w, http.StatusBadRequest, "invalid", "global", "INVALID_ARGUMENT", "Invalid page token: "+tok)
			return
		}
		offset = p.offset
	}
	limit := bqPageRows
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bqError(w, http.StatusBadRequest, "invalid", "global", "INVALID_ARGUMENT", "Invalid value at 'max_results' (TYPE_UINT32), \""+v+"\"")
			return
		}
		if n > 0 && n < limit {
			limit = n
		}
	}
	end := min(offset+limit, len(all))
	whole := &bqJob{cols: []int{0, 1, 2, 3}}
	int64TS := q.Get("formatOptions.useInt64Timestamp") == "true"
	var rows []map[string]any
	for _, rec := range all[offset:end] {
		rows = append(rows, bqRow(whole, rec, int64TS))
	}
	out := map[string]any{"kind": "bigquery#tableDataList", "etag": "Rk7o1tS0bJqQx2pZ8vYd4w==", "totalRows": strconv.Itoa(len(all))}
	if len(rows) > 0 { // BigQuery leaves rows out of an empty page
		out["rows"] = rows
	}
	if end < len(all) {
		tok := fmt.Sprintf("BHTD%06dQAAASA%06dICBNBSSA", end, b.next())
		b.mu.Lock()
		b.pages[tok] = bqPage{job: bqTableData, offset: end}
		b.mu.Unlock()
		out["pageToken"] = tok
	}
	writeJSON(w, out)
}
