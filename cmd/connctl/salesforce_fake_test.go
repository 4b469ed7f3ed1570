package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// salesforce is a local server that follows Salesforce's documented shapes
// closely enough for connctl's jobs:
//   - the web-server OAuth flow: /services/oauth2/authorize redirects back at
//     once (the user is signed in and allows), /services/oauth2/token answers
//     with access_token, refresh_token, instance_url and id but no expires_in
//     (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm),
//     /services/oauth2/userinfo and /services/oauth2/revoke;
//   - REST query: GET /services/data/vXX.X/query?q=SOQL answers totalSize,
//     done, nextRecordsUrl and records with attributes, at most 2,000 a batch;
//     query more: GET the nextRecordsUrl
//     (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm);
//   - an expired session: 401 [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}].
//
// The first access token it issues expires after one query page, so a job
// run must refresh mid-run.
type salesforce struct {
	srv      *httptest.Server
	mu       sync.Mutex
	accounts []map[string]any
	issued   int               // access tokens issued
	uses     map[string]int    // access token -> query calls
	locators map[string]string // query locator -> SOQL
}

var sfFake *salesforce

func startSalesforce() *salesforce {
	f := &salesforce{uses: map[string]int{}, locators: map[string]string{}}
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 4500; i++ {
		f.accounts = append(f.accounts, map[string]any{
			"attributes":     map[string]any{"type": "Account", "url": fmt.Sprintf("/services/data/v62.0/sobjects/Account/001%015d", i)},
			"Id":             fmt.Sprintf("001%015d", i),
			"Name":           fmt.Sprintf("Account %d", i),
			"SystemModstamp": base.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000+0000"),
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		cb := url.Values{"code": {"aPrx-code"}, "state": {q.Get("state")}}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+cb.Encode(), http.StatusFound)
	})
	mux.HandleFunc("/services/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.issued++
		n := f.issued
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("00Dsf-at-CANARY-%d", n), "refresh_token": "5Aep-rt-CANARY", "token_type": "Bearer",
			"instance_url": "http://" + r.Host, "id": "http://" + r.Host + "/id/00Dorg000000001/005user00000001",
			"issued_at": strconv.FormatInt(time.Now().UnixMilli(), 10), "scope": "api refresh_token id openid",
		})
	})
	mux.HandleFunc("/services/oauth2/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer 00Dsf-at-") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"preferred_username": "admin@acme.example", "email": "admin@acme.example",
			"organization_id": "00Dorg000000001", "user_id": "005user00000001"})
	})
	mux.HandleFunc("/services/oauth2/revoke", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/services/data/", f.query)
	f.srv = httptest.NewServer(mux)
	return f
}

var sinceRe = regexp.MustCompile(`SystemModstamp\s*(>=?)\s*([0-9T:.\-+Z]+)`)

func (f *salesforce) query(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	f.uses[tok]++
	uses := f.uses[tok]
	f.mu.Unlock()
	if !strings.HasPrefix(tok, "00Dsf-at-CANARY-") || (tok == "00Dsf-at-CANARY-1" && uses > 1) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`))
		return
	}
	// /services/data/vXX.X/query?q=... or /services/data/vXX.X/query/<locator>-<offset>
	offset, q := 0, r.URL.Query().Get("q")
	if i := strings.LastIndex(r.URL.Path, "/query/"); i >= 0 {
		loc := r.URL.Path[i+len("/query/"):] // 01gLOC-<offset>
		id, off, _ := strings.Cut(loc, "-")
		offset, _ = strconv.Atoi(off)
		f.mu.Lock()
		q = f.locators[id]
		f.mu.Unlock()
	} else if !strings.HasSuffix(r.URL.Path, "/query") {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`))
		return
	}
	if !strings.Contains(strings.ToUpper(q), "FROM ACCOUNT") {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`[{"message":"sObject type is not supported.","errorCode":"INVALID_TYPE"}]`))
		return
	}
	var since time.Time
	inclusive := false
	if m := sinceRe.FindStringSubmatch(q); m != nil {
		since, _ = time.Parse(time.RFC3339, m[2])
		inclusive = m[1] == ">="
	}
	f.mu.Lock()
	var match []map[string]any
	for _, a := range f.accounts {
		t, _ := time.Parse("2006-01-02T15:04:05.000-0700", a["SystemModstamp"].(string))
		if since.IsZero() || t.After(since) || (inclusive && t.Equal(since)) {
			match = append(match, a)
		}
	}
	f.mu.Unlock()
	end := min(offset+2000, len(match))
	body := map[string]any{"totalSize": len(match), "done": end >= len(match), "records": match[offset:end]}
	if end < len(match) {
		f.mu.Lock()
		id := fmt.Sprintf("01gD%011d", len(f.locators)+1)
		f.locators[id] = q
		f.mu.Unlock()
		body["nextRecordsUrl"] = fmt.Sprintf("/services/data/v62.0/query/%s-%d", id, end)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// salesforce-touch N...: accounts are modified now.
func (f *salesforce) touch(ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000+0000")
	for _, s := range ids {
		n, _ := strconv.Atoi(s)
		if n >= 1 && n <= len(f.accounts) {
			f.accounts[n-1]["SystemModstamp"] = now
		}
	}
}
