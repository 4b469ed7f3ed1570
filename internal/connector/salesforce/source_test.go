package salesforce_test

// The fake Salesforce below follows the documented shapes of the REST Query
// resource, GET /services/data/vXX.X/query?q=SOQL, answering
// {"totalSize", "done", "nextRecordsUrl", "records": [{"attributes":
// {"type", "url"}, ...fields}]} with up to 2,000 records a batch
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm),
// and of Query More Results, GET /services/data/vXX.X/query/{locator}, while
// done is false
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query_more_results.htm).
// Errors are arrays of {"message", "errorCode"}: 401 INVALID_SESSION_ID for
// an expired token, 400 MALFORMED_QUERY, 403 REQUEST_LIMIT_EXCEEDED
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm),
// and every answer carries Sforce-Limit-Info: api-usage=used/limit
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm).
// Datetimes are in Salesforce's JSON form, 2026-11-26T12:00:00.000+0000.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/connector/salesforce"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// sfTime formats t as Salesforce writes datetimes in JSON.
func sfTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// account returns an Account as the Query resource returns it.
func account(i int, modified time.Time) map[string]any {
	id := fmt.Sprintf("001D000000IRF%05dAAH", i)
	return map[string]any{
		"attributes":        map[string]any{"type": "Account", "url": "/services/data/v62.0/sobjects/Account/" + id},
		"Id":                id,
		"Name":              fmt.Sprintf("Account %d", i),
		"Type":              "Customer - Direct",
		"Industry":          nil,
		"ParentId":          nil,
		"OwnerId":           "005D0000001AbcdIAC",
		"Phone":             "(415) 555-1212",
		"Website":           "https://example.com",
		"BillingCity":       "San Francisco",
		"BillingState":      "CA",
		"BillingCountry":    "USA",
		"NumberOfEmployees": json.Number("12000000000000000001"), // written back exactly
		"CreatedDate":       sfTime(t0.Add(-24 * time.Hour)),
		"LastModifiedDate":  sfTime(modified),
		"SystemModstamp":    sfTime(modified),
	}
}

// accounts returns n accounts modified one minute apart from t0.
func accounts(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = account(i+1, t0.Add(time.Duration(i)*time.Minute))
	}
	return out
}

const (
	batch   = 2 // records per batch (Salesforce: up to 2,000); small so 5 records make 3 batches
	version = "v62.0"
)

// fakeOrg is a Salesforce org holding records by object, sorted by
// SystemModstamp. token is the access token it accepts; hook, when set, may
// answer a request first (n counts requests from 1).
type fakeOrg struct {
	t       *testing.T
	objects map[string][]map[string]any
	version string

	mu       sync.Mutex
	token    string
	n        int
	requests []*http.Request
	soql     []string
	auths    []string
	cursors  map[string][]map[string]any // locator -> the records still to serve
	nextID   int
	hook     func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newOrg(t *testing.T, objects map[string][]map[string]any) (*fakeOrg, *httptest.Server) {
	t.Helper()
	o := &fakeOrg{t: t, objects: objects, version: version, token: "at-1", cursors: map[string][]map[string]any{}}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	return o, srv
}

func sfError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode([]map[string]string{{"message": msg, "errorCode": code}})
}

var (
	selectRE = regexp.MustCompile(`^SELECT (.+?) FROM (\w+)(?: WHERE SystemModstamp (>=|>) (\S+))?(?: ORDER BY SystemModstamp ASC)?$`)
	// A SOQL datetime literal: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
	literalRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$`)
)

func (o *fakeOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.n++
	n := o.n
	o.requests = append(o.requests, r)
	o.auths = append(o.auths, r.Header.Get("Authorization"))
	hook := o.hook
	o.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/15000", n))
	if hook != nil && hook(n, w, r) {
		return
	}
	o.mu.Lock()
	token := o.token // the hook may have just expired the session
	o.mu.Unlock()
	if r.Method != http.MethodGet {
		sfError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are GET")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		sfError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	prefix := "/services/data/" + o.version + "/query"
	switch {
	case r.URL.Path == prefix:
		o.query(w, r.URL.Query().Get("q"))
	case strings.HasPrefix(r.URL.Path, prefix+"/"):
		o.more(w, strings.TrimPrefix(r.URL.Path, prefix+"/"))
	default:
		sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (o *fakeOrg) query(w http.ResponseWriter, soql string) {
	o.mu.Lock()
	o.soql = append(o.soql, soql)
	o.mu.Unlock()
	m := selectRE.FindStringSubmatch(soql)
	if m == nil {
		sfError(w, http.StatusBadRequest, "MALFORMED_QUERY", "\n"+soql+"\n^\nERROR at Row:1:Column:1\nunexpected token: '"+strings.Fields(soql + " x")[0]+"'")
		return
	}
	records, ok := o.objects[m[2]]
	if !ok {
		sfError(w, http.StatusBadRequest, "INVALID_TYPE", "\n"+soql+"\n^\nsObject type '"+m[2]+"' is not supported.")
		return
	}
	var since time.Time
	if m[4] != "" {
		if !literalRE.MatchString(m[4]) {
			sfError(w, http.StatusBadRequest, "MALFORMED_QUERY", "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes")
			return
		}
		since, _ = time.Parse(time.RFC3339, m[4])
	}
	fields := strings.Split(m[1], ",")
	var match []map[string]any
	for _, rec := range records {
		at, _ := time.Parse("2006-01-02T15:04:05.000-0700", rec["SystemModstamp"].(string))
		if m[4] != "" && (at.Before(since) || (m[3] == ">" && at.Equal(since))) {
			continue
		}
		out := map[string]any{"attributes": rec["attributes"]}
		for _, f := range fields {
			f = strings.TrimSpace(f)
			rel, _, dotted := strings.Cut(f, ".")
			if dotted {
				out[rel] = rec[rel]
				continue
			}
			v, ok := rec[f]
			if !ok {
				sfError(w, http.StatusBadRequest, "INVALID_FIELD", "\n"+soql+"\n^\nERROR at Row:1:Column:8\nNo such column '"+f+"' on entity '"+m[2]+"'.")
				return
			}
			out[f] = v
		}
		match = append(match, out)
	}
	o.serveBatch(w, match, len(match))
}

func (o *fakeOrg) more(w http.ResponseWriter, locator string) {
	o.mu.Lock()
	rest, ok := o.cursors[locator]
	delete(o.cursors, locator)
	o.mu.Unlock()
	if !ok {
		sfError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	o.serveBatch(w, rest, -1)
}

func (o *fakeOrg) serveBatch(w http.ResponseWriter, records []map[string]any, total int) {
	if records == nil {
		records = []map[string]any{} // "records": [] when nothing matches
	}
	n := min(batch, len(records))
	res := map[string]any{"done": n == len(records), "records": records[:n]}
	if total >= 0 {
		res["totalSize"] = total
	}
	if n < len(records) {
		o.mu.Lock()
		o.nextID++
		locator := fmt.Sprintf("01gD0000002HU6KIAW-%d", o.nextID*batch)
		o.cursors[locator] = records[n:]
		o.mu.Unlock()
		res["nextRecordsUrl"] = "/services/data/" + o.version + "/query/" + locator
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(res)
}

func (o *fakeOrg) paths() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, r := range o.requests {
		out = append(out, r.URL.Path)
	}
	return out
}

func (o *fakeOrg) queries() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.soql)
}

// tokens is a Request.Token that counts forced refreshes: it returns
// stale until forced, then each of fresh in turn.
type tokens struct {
	mu     sync.Mutex
	stale  string
	fresh  []string
	forced int
	err    error
}

func (k *tokens) get(_ context.Context, force bool) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !force {
		return k.stale, nil
	}
	k.forced++
	if k.err != nil {
		return "", k.err
	}
	tok := k.fresh[min(k.forced, len(k.fresh))-1]
	k.stale = tok
	return tok, nil
}

func ids(r jobrunnertest.Result) []string {
	var out []string
	for _, rec := range r.Records {
		out = append(out, fmt.Sprint(rec["Id"]))
	}
	return out
}

type options struct {
	since  string
	params map[string]string
	token  *tokens // nil: Secrets only
	fields map[string]string
}

// run runs src against srv through jobrunner.Run into an NDJSON file and
// reads back what was written (nothing when the run failed).
func run(t *testing.T, src jobrunner.Source, srv *httptest.Server, o options) jobrunnertest.Result {
	t.Helper()
	fields := o.fields
	if fields == nil {
		fields = map[string]string{"login_url": "https://login.salesforce.com", "api_base": srv.URL}
	}
	req := jobrunner.Request{
		Fields:  fields,
		Secrets: map[string]string{jobrunner.SecretAccessToken: "at-1"},
		Params:  o.params,
		Since:   o.since,
	}
	if o.token != nil {
		req.Token = o.token.get
	}
	return jobrunnertest.Run(t, src, srv.Client(), req, jobrunnertest.UseNumber())
}

// failure also checks that the message leaks no token (Failure checks it is
// one line).
func failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	return jobrunnertest.Failure(t, err, reason, "at-", "Bearer")
}

func TestAccountsFollowsNextRecordsUrl(t *testing.T) {
	t.Parallel()
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(5)})
	res := run(t, salesforce.AccountsSource(), srv, options{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := ids(res); len(got) != 5 || got[0] != "001D000000IRF00001AAH" || got[4] != "001D000000IRF00005AAH" {
		t.Errorf("ids = %v", got)
	}
	wantPaths := []string{"/services/data/v62.0/query", "/services/data/v62.0/query/01gD0000002HU6KIAW-2", "/services/data/v62.0/query/01gD0000002HU6KIAW-4"}
	if got := org.paths(); !slices.Equal(got, wantPaths) {
		t.Errorf("paths = %q, want %q", got, wantPaths)
	}
	wantQ := "SELECT Id, Name, Type, Industry, ParentId, OwnerId, Phone, Website, BillingCity, BillingState, BillingCountry, " +
		"CreatedDate, LastModifiedDate, SystemModstamp FROM Account ORDER BY SystemModstamp ASC"
	if got := org.queries(); len(got) != 1 || got[0] != wantQ {
		t.Errorf("soql = %q", got)
	}
	for _, a := range org.auths {
		if a != "Bearer at-1" {
			t.Errorf("Authorization %q", a)
		}
	}
	rec := res.Records[0]
	if _, ok := rec["attributes"]; ok {
		t.Errorf("attributes kept: %v", rec)
	}
	if rec["Name"] != "Account 1" || rec["SystemModstamp"] != "2026-11-26T12:00:00.000+0000" || rec["Industry"] != nil {
		t.Errorf("record = %v", rec)
	}
	if _, ok := rec["NumberOfEmployees"]; ok {
		t.Errorf("a field not selected came back: %v", rec)
	}
	if res.Checkpoint != "2026-11-26T12:04:00Z" {
		t.Errorf("checkpoint = %q", res.Checkpoint)
	}
	if res.Stats.Pages.Load() != 3 || res.Stats.Records.Load() != 5 || res.Stats.Retries.Load() != 0 {
		t.Errorf("pages %d records %d retries %d", res.Stats.Pages.Load(), res.Stats.Records.Load(), res.Stats.Retries.Load())
	}
}

func TestIncrementalWhereOnSystemModstamp(t *testing.T) {
	t.Parallel()
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(5)})
	// The checkpoint as the last run saved it; the records at exactly that
	// instant come again (>=), those before do not.
	res := run(t, salesforce.AccountsSource(), srv, options{since: "2026-11-26T12:02:00Z"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := ids(res); !slices.Equal(got, []string{"001D000000IRF00003AAH", "001D000000IRF00004AAH", "001D000000IRF00005AAH"}) {
		t.Errorf("ids = %v", got)
	}
	if q := org.queries()[0]; !strings.Contains(q, " FROM Account WHERE SystemModstamp >= 2026-11-26T12:02:00Z ORDER BY SystemModstamp ASC") {
		t.Errorf("soql = %q", q)
	}
	if res.Checkpoint != "2026-11-26T12:04:00Z" {
		t.Errorf("checkpoint = %q", res.Checkpoint)
	}

	// A checkpoint in Salesforce's form, with milliseconds: truncated to
	// the second in the literal.
	org2, srv2 := newOrg(t, map[string][]map[string]any{"Account": accounts(5)})
	res = run(t, salesforce.AccountsSource(), srv2, options{since: "2026-11-26T12:03:00.250+0000"})
	if res.Err != nil || len(res.Records) != 2 {
		t.Fatalf("err %v, %d records", res.Err, len(res.Records))
	}
	if q := org2.queries()[0]; !strings.Contains(q, "WHERE SystemModstamp >= 2026-11-26T12:03:00Z ") {
		t.Errorf("soql = %q", q)
	}

	// Nothing new: no records, the checkpoint stays.
	_, srv3 := newOrg(t, map[string][]map[string]any{"Account": accounts(5)})
	res = run(t, salesforce.AccountsSource(), srv3, options{since: "2026-12-01T00:00:00Z"})
	if res.Err != nil || len(res.Records) != 0 || res.Checkpoint != "2026-12-01T00:00:00Z" {
		t.Errorf("err %v, %d records, checkpoint %q", res.Err, len(res.Records), res.Checkpoint)
	}

	// A checkpoint that is not a datetime is a config failure.
	_, srv4 := newOrg(t, map[string][]map[string]any{"Account": accounts(1)})
	res = run(t, salesforce.AccountsSource(), srv4, options{since: "yesterday"})
	failure(t, res.Err, jobrunner.ReasonConfig)
}

func TestObjectSourcesQueryTheirObject(t *testing.T) {
	t.Parallel()
	user := map[string]any{"attributes": map[string]any{"type": "User", "url": "/services/data/v62.0/sobjects/User/005D0000001AbcdIAC"},
		"Id": "005D0000001AbcdIAC", "Username": "ada@example.com", "Name": "Ada Lovelace", "Email": "ada@example.com",
		"IsActive": true, "SystemModstamp": sfTime(t0)}
	contact := map[string]any{"attributes": map[string]any{"type": "Contact"}, "Id": "003D000000Q8nSwIAJ", "Name": "Grace Hopper",
		"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com", "Phone": nil, "Title": "Rear Admiral",
		"AccountId": "001D000000IRF00001AAH", "OwnerId": "005D0000001AbcdIAC", "CreatedDate": sfTime(t0), "LastModifiedDate": sfTime(t0),
		"SystemModstamp": sfTime(t0)}
	opp := map[string]any{"attributes": map[string]any{"type": "Opportunity"}, "Id": "006D000000CjKkFIAV", "Name": "Big deal",
		"AccountId": "001D000000IRF00001AAH", "StageName": "Prospecting", "Amount": json.Number("125000.5"), "CloseDate": "2026-12-31",
		"Probability": json.Number("10"), "IsClosed": false, "IsWon": false, "OwnerId": "005D0000001AbcdIAC",
		"CreatedDate": sfTime(t0), "LastModifiedDate": sfTime(t0), "SystemModstamp": sfTime(t0)}
	for _, tc := range []struct {
		src    jobrunner.Source
		object string
		rec    map[string]any
		fields string
	}{
		{salesforce.UsersSource(), "User", user, "Id, Username, Name, Email, IsActive, SystemModstamp"},
		{salesforce.ContactsSource(), "Contact", contact, "Id, Name, FirstName, LastName, Email, Phone, Title, AccountId, OwnerId, CreatedDate, LastModifiedDate, SystemModstamp"},
		{salesforce.OpportunitiesSource(), "Opportunity", opp, "Id, Name, AccountId, StageName, Amount, CloseDate, Probability, IsClosed, IsWon, OwnerId, CreatedDate, LastModifiedDate, SystemModstamp"},
	} {
		// The fake answers INVALID_FIELD for a field the record lacks, and
		// each record above holds exactly the fields the source selects.
		org, srv := newOrg(t, map[string][]map[string]any{tc.object: {tc.rec}})
		res := run(t, tc.src, srv, options{})
		if res.Err != nil {
			t.Errorf("%s: %v", tc.object, res.Err)
			continue
		}
		if len(res.Records) != 1 || len(res.Records[0]) != len(tc.rec)-1 || res.Checkpoint != "2026-11-26T12:00:00Z" {
			t.Errorf("%s: records %v, checkpoint %q", tc.object, res.Records, res.Checkpoint)
		}
		if q, want := org.queries()[0], "SELECT "+tc.fields+" FROM "+tc.object+" ORDER BY SystemModstamp ASC"; q != want {
			t.Errorf("%s: soql %q\nwant %q", tc.object, q, want)
		}
	}
}

func TestDailyLimitFailsAtOnceAsRateLimit(t *testing.T) {
	t.Parallel()
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(5)})
	org.hook = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n < 2 {
			return false
		}
		w.Header().Set("Sforce-Limit-Info", "api-usage=15001/15000")
		sfError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return true
	}
	res := run(t, salesforce.AccountsSource(), srv, options{})
	f := failure(t, res.Err, jobrunner.ReasonRateLimit)
	if len(org.paths()) != 2 || len(res.Waits) != 0 || res.Checkpoint != "" {
		t.Errorf("%d requests, waits %v, checkpoint %q: want no retry", len(org.paths()), res.Waits, res.Checkpoint)
	}
	for _, s := range []string{"403 forbidden: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.", "(api-usage 15001/15000)", "rolling 24-hour window"} {
		if !strings.Contains(f.Message, s) {
			t.Errorf("message %q lacks %q", f.Message, s)
		}
	}
}

func TestConcurrentLimitIsRetried(t *testing.T) {
	t.Parallel()
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(3)})
	org.hook = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n != 1 {
			return false
		}
		sfError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.")
		return true
	}
	res := run(t, salesforce.AccountsSource(), srv, options{})
	if res.Err != nil || len(res.Records) != 3 || len(res.Waits) != 1 || res.Stats.Retries.Load() != 1 {
		t.Errorf("err %v, %d records, waits %v", res.Err, len(res.Records), res.Waits)
	}

	// Still over the limit after every retry: rate_limit.
	org2, srv2 := newOrg(t, map[string][]map[string]any{"Account": accounts(3)})
	org2.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		sfError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.")
		return true
	}
	res = run(t, salesforce.AccountsSource(), srv2, options{})
	f := failure(t, res.Err, jobrunner.ReasonRateLimit)
	if len(org2.paths()) != 5 || strings.Contains(f.Message, "24-hour") {
		t.Errorf("%d requests; message %q", len(org2.paths()), f.Message)
	}
}

func TestOtherForbiddenIsAuth(t *testing.T) {
	t.Parallel()
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(1)})
	org.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		sfError(w, http.StatusForbidden, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner")
		return true
	}
	f := failure(t, run(t, salesforce.AccountsSource(), srv, options{}).Err, jobrunner.ReasonAuth)
	if !strings.HasSuffix(f.Message, "403 forbidden: API_DISABLED_FOR_ORG: API is not enabled for this Organization or Partner") || len(org.paths()) != 1 {
		t.Errorf("message %q after %d requests", f.Message, len(org.paths()))
	}
}

func TestQueryErrorsAreConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query, code string
	}{
		{"SELECT Id FRM Account", "MALFORMED_QUERY"},
		{"SELECT Id, Nope__c, SystemModstamp FROM Account", "INVALID_FIELD"},
		{"SELECT Id FROM Widget__c", "INVALID_TYPE"},
	} {
		org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(1)})
		res := run(t, salesforce.SOQLSource(), srv, options{params: map[string]string{"query": tc.query}})
		f := failure(t, res.Err, jobrunner.ReasonConfig)
		if !strings.Contains(f.Message, ": 400 bad request: "+tc.code+": ") || len(org.paths()) != 1 {
			t.Errorf("%s: message %q after %d requests", tc.query, f.Message, len(org.paths()))
		}
		// The query travels in q, which the message leaves out; the
		// vendor's own text (one line) may quote it.
		if !strings.Contains(f.Message, "/services/data/v62.0/query: ") || strings.Contains(f.Message, "?q=") {
			t.Errorf("message %q", f.Message)
		}
	}

	// An expired query locator is Salesforce's side, not the job's.
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(3)})
	org.hook = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 2 {
			sfError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
			return true
		}
		return false
	}
	failure(t, run(t, salesforce.AccountsSource(), srv, options{}).Err, jobrunner.ReasonSourceError)
}

func TestLongVendorMessagesAreClipped(t *testing.T) {
	t.Parallel()
	_, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(1)})
	long := "SELECT Id FRM Account WHERE Name IN (" + strings.Repeat("'x', ", 200) + "'y')"
	f := failure(t, run(t, salesforce.SOQLSource(), srv, options{params: map[string]string{"query": long}}).Err, jobrunner.ReasonConfig)
	if len(f.Message) > 500 || !strings.HasSuffix(f.Message, "…") {
		t.Errorf("message of %d bytes: %q", len(f.Message), f.Message)
	}
}

func TestSOQLIsFullUnlessItHoldsSince(t *testing.T) {
	t.Parallel()
	// As written: the checkpoint is ignored and none is returned.
	q := "SELECT Id, Name FROM Account"
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(3)})
	res := run(t, salesforce.SOQLSource(), srv, options{since: "2026-11-26T12:01:00Z", params: map[string]string{"query": "  " + q + "\n"}})
	if res.Err != nil || len(res.Records) != 3 || res.Checkpoint != "" {
		t.Fatalf("err %v, %d records, checkpoint %q", res.Err, len(res.Records), res.Checkpoint)
	}
	if got := org.queries(); len(got) != 1 || got[0] != q {
		t.Errorf("soql = %q", got)
	}
	if len(res.Records[0]) != 2 {
		t.Errorf("record = %v", res.Records[0])
	}

	// {since}: the epoch on the first run, then the checkpoint.
	q = "SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp > {since} ORDER BY SystemModstamp ASC"
	org, srv = newOrg(t, map[string][]map[string]any{"Account": accounts(3)})
	res = run(t, salesforce.SOQLSource(), srv, options{params: map[string]string{"query": q}})
	if res.Err != nil || len(res.Records) != 3 || res.Checkpoint != "2026-11-26T12:02:00Z" {
		t.Fatalf("err %v, %d records, checkpoint %q", res.Err, len(res.Records), res.Checkpoint)
	}
	res = run(t, salesforce.SOQLSource(), srv, options{since: res.Checkpoint, params: map[string]string{"query": q}})
	if res.Err != nil || len(res.Records) != 0 || res.Checkpoint != "2026-11-26T12:02:00Z" {
		t.Fatalf("second run: err %v, %d records, checkpoint %q", res.Err, len(res.Records), res.Checkpoint)
	}
	want := []string{strings.Replace(q, "{since}", "1970-01-01T00:00:00Z", 1), strings.Replace(q, "{since}", "2026-11-26T12:02:00Z", 1)}
	if got := org.queries(); !slices.Equal(got, want) {
		t.Errorf("soql = %q\nwant %q", got, want)
	}

	// {since} without SystemModstamp in the SELECT list: config.
	_, srv = newOrg(t, map[string][]map[string]any{"Account": accounts(1)})
	f := failure(t, run(t, salesforce.SOQLSource(), srv, options{params: map[string]string{"query": "SELECT Id FROM Account WHERE SystemModstamp >= {since}"}}).Err, jobrunner.ReasonConfig)
	if !strings.Contains(f.Message, "must select SystemModstamp") {
		t.Errorf("message %q", f.Message)
	}

	// No query at all.
	failure(t, run(t, salesforce.SOQLSource(), srv, options{}).Err, jobrunner.ReasonConfig)
}

func TestNestedAttributesAreDropped(t *testing.T) {
	t.Parallel()
	c := map[string]any{"attributes": map[string]any{"type": "Contact"}, "Id": "003D000000Q8nSwIAJ",
		"Account":        map[string]any{"attributes": map[string]any{"type": "Account"}, "Name": "Acme"},
		"Cases":          map[string]any{"totalSize": 1, "done": true, "records": []any{map[string]any{"attributes": map[string]any{"type": "Case"}, "Subject": "Help"}}},
		"SystemModstamp": sfTime(t0)}
	_, srv := newOrg(t, map[string][]map[string]any{"Contact": {c}})
	res := run(t, salesforce.SOQLSource(), srv, options{params: map[string]string{"query": "SELECT Id, Account.Name, Cases.Subject FROM Contact"}})
	if res.Err != nil || len(res.Records) != 1 {
		t.Fatalf("err %v, records %v", res.Err, res.Records)
	}
	b, _ := json.Marshal(res.Records[0])
	if want := `{"Account":{"Name":"Acme"},"Cases":{"done":true,"records":[{"Subject":"Help"}],"totalSize":1},"Id":"003D000000Q8nSwIAJ"}`; string(b) != want {
		t.Errorf("record = %s\nwant     %s", b, want)
	}
}

func TestInstanceAndVersion(t *testing.T) {
	t.Parallel()
	// api_version picks the version; base_url overrides the instance_url.
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(3)})
	org.version = "v61.0"
	res := run(t, salesforce.AccountsSource(), srv, options{params: map[string]string{"api_version": "v61.0"},
		fields: map[string]string{"api_base": "https://acme.my.salesforce.com", "base_url": srv.URL + "/"}})
	if res.Err != nil || len(res.Records) != 3 {
		t.Fatalf("err %v, %d records", res.Err, len(res.Records))
	}
	if p := org.paths(); p[0] != "/services/data/v61.0/query" || p[1] != "/services/data/v61.0/query/01gD0000002HU6KIAW-2" {
		t.Errorf("paths = %v", p)
	}
	for _, tc := range []struct {
		params, fields map[string]string
		text           string
	}{
		{map[string]string{"api_version": "latest"}, map[string]string{"api_base": srv.URL}, `api_version "latest"`},
		{nil, map[string]string{}, "no instance URL"},
		{nil, map[string]string{"api_base": "acme.my.salesforce.com"}, "not an http(s) URL"},
	} {
		f := failure(t, run(t, salesforce.AccountsSource(), srv, options{params: tc.params, fields: tc.fields}).Err, jobrunner.ReasonConfig)
		if !strings.Contains(f.Message, tc.text) {
			t.Errorf("message %q lacks %q", f.Message, tc.text)
		}
	}
}

func TestNextRecordsUrlStaysOnTheInstance(t *testing.T) {
	t.Parallel()
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
	}))
	defer other.Close()
	org, srv := newOrg(t, map[string][]map[string]any{"Account": accounts(1)})
	org.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		fmt.Fprintf(w, `{"totalSize":3,"done":false,"nextRecordsUrl":%q,"records":[]}`, other.URL+"/services/data/v62.0/query/01g-2")
		return true
	}
	f := failure(t, run(t, salesforce.AccountsSource(), srv, options{}).Err, jobrunner.ReasonSourceError)
	if !strings.Contains(f.Message, "not sending the access token there") || len(elsewhere) != 0 {
		t.Errorf("message %q; other host got %v", f.Message, elsewhere)
	}

	// The same locator again would loop forever.
	org2, srv2 := newOrg(t, map[string][]map[string]any{"Account": accounts(1)})
	org2.hook = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/services/data/v62.0/query" {
			return false
		}
		fmt.Fprintf(w, `{"done":false,"nextRecordsUrl":%q,"records":[]}`, r.URL.Path)
		return true
	}
	org2.objects["Account"] = accounts(3)
	failure(t, run(t, salesforce.AccountsSource(), srv2, options{}).Err, jobrunner.ReasonSourceError)
	if n := len(org2.paths()); n != 2 {
		t.Errorf("%d requests", n)
	}
}

func TestEveryDeclaredSourceIsRegistered(t *testing.T) {
	t.Parallel()
	for _, s := range salesforce.Connector().Sources {
		if _, ok := all.JobSource("salesforce", s.Name); !ok {
			t.Errorf("salesforce/%s is declared but connector/all does not run it", s.Name)
		}
	}
}
