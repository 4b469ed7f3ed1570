package connectortest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Salesforce, following its documented shapes:
//   - the OAuth web-server flow with PKCE: {login}/services/oauth2/authorize,
//     /services/oauth2/token answering access_token, refresh_token,
//     instance_url, id, issued_at and no expires_in
//     (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm),
//     /services/oauth2/userinfo and POST /services/oauth2/revoke token=
//     (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm);
//   - REST query GET /services/data/vXX.X/query?q=SOQL answering totalSize,
//     done, nextRecordsUrl and records with attributes, at most 2,000 a
//     batch; the next batch is GET nextRecordsUrl
//     (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm);
//   - errors are [{"message","errorCode"}]: 401 INVALID_SESSION_ID, 403
//     REQUEST_LIMIT_EXCEEDED for the concurrent-request limit (Salesforce's
//     throttle: no 429), 500 UNKNOWN_EXCEPTION
//     (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).
func init() {
	sfLink := "nextRecordsUrl is a path on the instance, never another origin: salesforce TestNextRecordsUrlStaysOnTheInstance keeps it there"
	sfOnePage := "the fake's few records fit one page; accounts and contacts page through the same query code"
	small := SuiteOptions{Skip: map[Check]string{ForeignLink: sfLink, Paging: sfOnePage, Forward: sfOnePage}}
	register(Case{Connector: "salesforce", Source: "accounts", Account: "admin@acme.example", Revocable: true, Start: startSalesforce,
		Suite: map[string]SuiteOptions{"accounts": {Skip: map[Check]string{ForeignLink: sfLink}}, "contacts": {Skip: map[Check]string{ForeignLink: sfLink}},
			"soql": {Skip: map[Check]string{ForeignLink: sfLink}}, "opportunities": small, "users": small},
		Also: []SourceRun{
			{Source: "contacts", Records: sfOthers["Contact"]},
			{Source: "opportunities", Records: sfOthers["Opportunity"]},
			{Source: "users", Records: sfOthers["User"]},
			{Source: "soql", Params: []string{"query=SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp > {since}"}, Records: sfAccounts},
		}})
}

var (
	soqlSince = regexp.MustCompile(`SystemModstamp\s*(>=?)\s*([0-9T:.\-+Z]+)`)
	soqlFrom  = regexp.MustCompile(`(?i)\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)`)
)

// sfAccounts is the number of accounts (the Dataset); sfOthers the other
// objects' record counts (Contact spans two query batches).
const sfAccounts = 4500

var sfOthers = map[string]int{"Contact": 2100, "Opportunity": 30, "User": 5}

// sfPrefix is the key prefix of each object's record ids.
var sfPrefix = map[string]string{"Account": "001", "Contact": "003", "Opportunity": "006", "User": "005"}

func startSalesforce(tb testing.TB) (*Fake, error) {
	f := &Fake{Data: NewDataset(sfAccounts, func(i int) string { return fmt.Sprintf("001%015d", i+1) })}
	others := map[string]*Dataset{}
	for obj, n := range sfOthers {
		others[obj] = NewDataset(n, func(i int) string { return fmt.Sprintf("%s%015d", sfPrefix[obj], i+1) })
	}
	o := &OAuth{ClientID: "3MVG9-conformance", Prefix: "00D!", NoExpiry: true,
		Extra: func(r *http.Request) map[string]any {
			return map[string]any{"instance_url": "http://" + r.Host, "id": "http://" + r.Host + "/id/00Dorg000000001/005user00000001",
				"issued_at": strconv.FormatInt(time.Now().UnixMilli(), 10), "scope": "api refresh_token id openid", "signature": "c2ln"}
		}}
	f.OAuth = o
	sfError := func(w http.ResponseWriter, status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		writeJSONBody(w, []map[string]string{{"message": msg, "errorCode": code}})
	}
	var mu sync.Mutex
	locators := map[string]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services/oauth2/authorize", o.Authorize)
	mux.HandleFunc("POST /services/oauth2/token", o.Token)
	mux.HandleFunc("POST /services/oauth2/revoke", o.RevokeRFC7009)
	mux.HandleFunc("GET /services/oauth2/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if !o.Bearer(r, "Bearer") {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "Bad_OAuth_Token", http.StatusForbidden)
			return
		}
		writeJSON(w, map[string]any{"sub": "http://" + r.Host + "/id/00Dorg000000001/005user00000001", "preferred_username": "admin@acme.example",
			"email": "admin@acme.example", "organization_id": "00Dorg000000001", "user_id": "005user00000001"})
	})
	mux.HandleFunc("GET /services/data/", func(w http.ResponseWriter, r *http.Request) {
		if !o.Bearer(r, "Bearer") {
			sfError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		// .../query?q=SOQL or .../query/<locator>-<offset>
		offset, q := 0, r.URL.Query().Get("q")
		if i := strings.LastIndex(r.URL.Path, "/query/"); i >= 0 {
			id, off, _ := strings.Cut(r.URL.Path[i+len("/query/"):], "-")
			offset, _ = strconv.Atoi(off)
			mu.Lock()
			q = locators[id]
			mu.Unlock()
			if q == "" {
				sfError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
				return
			}
		} else if !strings.HasSuffix(r.URL.Path, "/query") {
			sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		switch f.Data.Fault() {
		case Throttle:
			sfError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
			return
		case Fail:
			sfError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)")
			return
		}
		obj := ""
		if m := soqlFrom.FindStringSubmatch(q); m != nil {
			obj = m[1]
		}
		data := f.Data
		if !strings.EqualFold(obj, "Account") {
			if data = others[obj]; data == nil {
				sfError(w, http.StatusBadRequest, "INVALID_TYPE", "sObject type '"+obj+"' is not supported.")
				return
			}
		}
		var since time.Time
		inclusive := false
		if m := soqlSince.FindStringSubmatch(q); m != nil {
			since, _ = time.Parse(time.RFC3339, m[2])
			inclusive = m[1] == ">="
			if offset == 0 && since.After(Base) {
				data.SawSince(since)
			}
		}
		recs := data.Since(since, inclusive)
		end := min(offset+2000, len(recs))
		records := []map[string]any{}
		for _, rec := range recs[offset:end] {
			records = append(records, map[string]any{
				"attributes": map[string]any{"type": sfType(obj), "url": "/services/data/v62.0/sobjects/" + sfType(obj) + "/" + rec.ID},
				"Id":         rec.ID, "Name": sfType(obj) + " " + rec.ID,
				"CreatedDate":    Base.Add(-time.Hour).Format("2006-01-02T15:04:05.000+0000"),
				"SystemModstamp": rec.Modified.UTC().Format("2006-01-02T15:04:05.000+0000"),
			})
		}
		body := map[string]any{"totalSize": len(recs), "done": end >= len(recs), "records": records}
		if end < len(recs) {
			mu.Lock()
			id := fmt.Sprintf("01gD%011d", len(locators)+1)
			locators[id] = q
			mu.Unlock()
			body["nextRecordsUrl"] = "/services/data/v62.0/query/" + id + "-" + strconv.Itoa(end)
		}
		writeJSON(w, body)
	})
	srv := Serve(tb, mux)
	f.URL = srv.URL
	f.Set = []string{"client_id=" + o.ClientID, "login_url=" + srv.URL, "redirect_uri=http://127.0.0.1:0/OauthRedirect"}
	return f, nil
}

// sfType is the sObject name as Salesforce spells it.
func sfType(obj string) string {
	for name := range sfPrefix {
		if strings.EqualFold(name, obj) {
			return name
		}
	}
	return obj
}
