package connectortest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Jira Cloud, following its documented shapes:
//   - API token: Basic {email}:{api_token} against the site; a refused
//     token is a 401 "Client must be authenticated to access this resource."
//     (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/);
//   - who-am-I GET /rest/api/3/myself answering {accountId, emailAddress,
//     displayName, timeZone, ...}; timeZone is the zone JQL dates are read in
//     (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get);
//   - OAuth 2.0 (3LO): GET auth.atlassian.com/authorize with
//     audience=api.atlassian.com and prompt=consent, POST
//     auth.atlassian.com/oauth/token (client credentials in the body;
//     refresh tokens rotate), GET api.atlassian.com/oauth/token/accessible-resources
//     answering [{id (the cloud id), name, url, scopes, avatarUrl}], GET
//     api.atlassian.com/me answering {account_id, email, name, ...}, and the
//     API through the gateway at api.atlassian.com/ex/jira/{cloudId}; there is
//     no revocation endpoint (the user removes the app under Connected apps)
//     (https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/,
//     https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/);
//   - the enhanced JQL search, POST /rest/api/3/search/jql with a JSON body
//     {jql, fields, maxResults, nextPageToken} or GET with the same as query
//     parameters, answering {issues:[{id, key, self, fields}], nextPageToken,
//     isLast}; the last page has no nextPageToken; unbounded JQL is refused
//     with 400 "Unbounded JQL queries are not allowed here. ..."; JQL dates
//     are "yyyy-MM-dd HH:mm" (or yyyy/MM/dd, with or without the time) in the
//     user's time zone, compared to the minute
//     (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post,
//     https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Updated);
//   - GET /rest/api/3/project/search?startAt=&maxResults=&orderBy=, the
//     projects visible to the user, at most 50 a page, answering {self,
//     nextPage (absent on the last page), maxResults, startAt, total, isLast,
//     values:[{expand, self, id, key, name, avatarUrls, projectTypeKey,
//     simplified, style, isPrivate, properties}]}
//     (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get);
//   - errors {errorMessages:[...], errors:{}}; 429 with Retry-After (seconds),
//     X-RateLimit-Reset and RateLimit-Reason
//     (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
//
// The source bounds every run by updated >= the checkpoint's minute, so an
// incremental run reads the checkpoint's whole minute again. The dataset has
// 241 records one second apart: the full run's checkpoint is the last
// record's time, 00:04:00, alone in its minute, so the incremental run gets
// only the touched records (with 250 records it would read 9 more).
//
// The projects (the Also source, full refresh) are a fixed set of
// jiraProjects, three pages of 50; the faults are armed on the issues only.
func init() {
	also := []SourceRun{{Source: "projects", Records: jiraProjects}}
	register(
		Case{Connector: "jira", Auth: "api_token", Source: "issues", Params: []string{"jql=project = SUP"}, Also: also, Account: jiraEmail, Start: startJira("api_token")},
		Case{Connector: "jira", Auth: "oauth2", Source: "issues", Params: []string{"jql=project = SUP"}, Also: also, Account: jiraEmail, Revocable: false, Start: startJira("oauth2")},
	)
}

const (
	jiraEmail   = "jane@acme.example"
	jiraAccount = "5b10a2844c20165700ede21g"
	jiraCloudID = "1324a887-45db-1bf4-1e99-ef0ff456d421"
	jiraZone    = "Europe/Berlin"
	// jiraProjects is how many projects the fake serves: SUP and others.
	jiraProjects = 120
)

func startJira(auth string) func(testing.TB) (*Fake, error) {
	return func(tb testing.TB) (*Fake, error) {
		f := &Fake{Data: NewDataset(241, func(i int) string { return strconv.Itoa(10001 + i) })}
		j := &jira{f: f, token: "ATATT3xFfGF0" + Canary + "-a1b2c3", zone: jiraZone}
		if _, err := time.LoadLocation(j.zone); err != nil {
			j.zone = "UTC" // no tz database here: connctl could not load the zone either
		}
		mux := http.NewServeMux()
		prefix := ""
		if auth == "oauth2" {
			o := &OAuth{ClientID: "Xq3jIrAcLiEnT9", ClientSecret: "atl-secret-" + Canary, ClientAuth: "params", Prefix: "eyJ", Rotate: true,
				Extra: func(*http.Request) map[string]any {
					return map[string]any{"scope": "read:jira-work read:jira-user read:me offline_access"}
				}}
			f.OAuth = o
			mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
				if q := r.URL.Query(); q.Get("audience") != "api.atlassian.com" || q.Get("prompt") != "consent" {
					http.Error(w, "invalid_request: audience=api.atlassian.com and prompt=consent are required", http.StatusBadRequest)
					return
				}
				o.Authorize(w, r)
			})
			mux.HandleFunc("POST /oauth/token", o.Token)
			mux.HandleFunc("GET /oauth/token/accessible-resources", func(w http.ResponseWriter, r *http.Request) {
				if !o.Bearer(r, "Bearer") {
					jiraGatewayError(w)
					return
				}
				writeJSON(w, []map[string]any{{"id": jiraCloudID, "name": "acme", "url": "https://acme.atlassian.net",
					"scopes": []string{"read:jira-work", "read:jira-user"}, "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png"}})
			})
			mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
				if !o.Bearer(r, "Bearer") {
					jiraGatewayError(w)
					return
				}
				writeJSON(w, map[string]any{"account_type": "atlassian", "account_id": jiraAccount, "email": jiraEmail, "name": "Jane Doe",
					"picture": "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/default.png", "account_status": "active",
					"nickname": "jane", "zoneinfo": j.zone, "locale": "en-US", "extended_profile": map[string]any{}})
			})
			prefix = "/ex/jira/" + jiraCloudID
		}
		mux.HandleFunc("GET "+prefix+"/rest/api/3/myself", func(w http.ResponseWriter, r *http.Request) {
			if !j.authorized(w, r) {
				return
			}
			writeJSON(w, map[string]any{"self": "https://acme.atlassian.net/rest/api/3/user?accountId=" + jiraAccount, "accountId": jiraAccount,
				"accountType": "atlassian", "emailAddress": jiraEmail, "displayName": "Jane Doe", "active": true, "timeZone": j.zone, "locale": "en_US"})
		})
		mux.HandleFunc("POST "+prefix+"/rest/api/3/search/jql", j.search)
		mux.HandleFunc("GET "+prefix+"/rest/api/3/search/jql", j.search)
		mux.HandleFunc("GET "+prefix+"/rest/api/3/project/search", j.projects)
		if prefix != "" { // any other cloud id: the gateway knows no such site
			mux.HandleFunc("/ex/jira/{cloud}/", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"code":404,"message":"Not Found"}`))
			})
		}
		srv := Serve(tb, CheckSpec(tb, JiraPlatformSpec, mux))
		f.URL = srv.URL
		f.Set = []string{"auth=" + auth}
		if auth == "oauth2" {
			// base_url is the API base, as the catalogue says; connctl finds
			// the gateway's accessible-resources at its root.
			f.Set = append(f.Set, "base_url="+srv.URL+prefix, "client_id="+f.OAuth.ClientID,
				"auth_url="+srv.URL+"/authorize", "token_url="+srv.URL+"/oauth/token", "userinfo_url="+srv.URL+"/me",
				// any free port: the registered http://localhost:8976/callback
				// would collide with other cases running in parallel
				"redirect_uri=http://127.0.0.1:0/callback")
			f.Secret, f.SecretField = f.OAuth.ClientSecret, "client_secret"
		} else {
			f.Set = append(f.Set, "site_url="+srv.URL, "email="+jiraEmail)
			f.Secret, f.BadSecret = j.token, "ATATT3xFfGF0"+Canary+"-000000"
		}
		return f, nil
	}
}

type jira struct {
	f     *Fake
	token string
	zone  string
}

// authorized checks the credentials and answers a refusal as the site (API
// token) or the gateway (OAuth) does.
func (j *jira) authorized(w http.ResponseWriter, r *http.Request) bool {
	if o := j.f.OAuth; o != nil {
		if o.Bearer(r, "Bearer") {
			return true
		}
		jiraGatewayError(w)
		return false
	}
	if r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(jiraEmail+":"+j.token)) {
		return true
	}
	w.Header().Set("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("Client must be authenticated to access this resource."))
	return false
}

func jiraGatewayError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(`{"code":401,"message":"Unauthorized"}`))
}

func jiraError(w http.ResponseWriter, status int, msgs ...string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errorMessages": msgs, "errors": map[string]any{}})
}

// fault answers a throttled or failing data request; it reports whether it did.
func (j *jira) fault(w http.ResponseWriter) bool {
	switch j.f.Data.Fault() {
	case Throttle:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Reset", time.Now().UTC().Add(time.Second).Format("2006-01-02T15:04Z"))
		w.Header().Set("RateLimit-Reason", "jira-burst-based")
		jiraError(w, http.StatusTooManyRequests, "Rate limit exceeded.")
		return true
	case Fail:
		jiraError(w, http.StatusServiceUnavailable, "Internal server error")
		return true
	}
	return false
}

// jiraJQL is the JQL the fake understands: an updated bound, optionally
// AND a project filter, ordered by updated.
var jiraJQL = regexp.MustCompile(`(?i)^\s*updated\s*>=\s*"([^"]+)"(?:\s+AND\s+\(\s*project\s*=\s*"?(\w+)"?\s*\))?\s+ORDER\s+BY\s+updated(?:\s+ASC)?\s*$`)

// jiraJQLDate reads a JQL date literal in loc.
func jiraJQLDate(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04", "2006/01/02 15:04", "2006-01-02", "2006/01/02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (j *jira) search(w http.ResponseWriter, r *http.Request) {
	if !j.authorized(w, r) {
		return
	}
	if j.fault(w) {
		return
	}
	var body struct {
		JQL           string   `json:"jql"`
		Fields        []string `json:"fields"`
		MaxResults    int      `json:"maxResults"`
		NextPageToken string   `json:"nextPageToken"`
	}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			jiraError(w, http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
			return
		}
	} else {
		q := r.URL.Query()
		body.JQL, body.NextPageToken = q.Get("jql"), q.Get("nextPageToken")
		body.MaxResults, _ = strconv.Atoi(q.Get("maxResults"))
		if fs := q.Get("fields"); fs != "" {
			body.Fields = strings.Split(fs, ",")
		}
	}
	m := jiraJQL.FindStringSubmatch(body.JQL)
	if m == nil {
		if !strings.Contains(strings.ToLower(body.JQL), "updated") && !strings.Contains(strings.ToLower(body.JQL), "project") {
			jiraError(w, http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
			return
		}
		jiraError(w, http.StatusBadRequest, "Error in the JQL Query: the fake understands only updated >= \"...\" [AND (project = X)] ORDER BY updated ASC, got: "+body.JQL)
		return
	}
	loc, _ := time.LoadLocation(j.zone)
	since, ok := jiraJQLDate(m[1], loc)
	if !ok {
		jiraError(w, http.StatusBadRequest, "Date value '"+m[1]+"' for field 'updated' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")
		return
	}
	if m[2] != "" && !strings.EqualFold(m[2], "SUP") {
		jiraError(w, http.StatusBadRequest, "The value '"+m[2]+"' does not exist for the field 'project'.")
		return
	}
	j.f.Data.SawSince(since.UTC())
	// Up to 100 issues a page when fields are requested (5,000 for ids only).
	limit := body.MaxResults
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 100)
	offset := 0
	if body.NextPageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(body.NextPageToken)
		o, jql, found := strings.Cut(string(raw), "|")
		n, aerr := strconv.Atoi(o)
		if err != nil || !found || aerr != nil || n < 0 || jql != body.JQL {
			jiraError(w, http.StatusBadRequest, "The provided next page token is invalid or expired.")
			return
		}
		offset = n
	}
	recs := j.f.Data.Since(since, true)
	offset = min(offset, len(recs))
	end := min(offset+limit, len(recs))
	issues := []map[string]any{}
	for _, rec := range recs[offset:end] {
		issues = append(issues, j.issue(r, rec, loc))
	}
	out := map[string]any{"issues": issues, "isLast": end == len(recs)}
	if end < len(recs) {
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end) + "|" + body.JQL))
	}
	writeJSON(w, out)
}

func (j *jira) issue(r *http.Request, rec Record, loc *time.Location) map[string]any {
	const layout = "2006-01-02T15:04:05.000-0700"
	key := "SUP-" + strconv.Itoa(rec.Seq+1)
	return map[string]any{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     rec.ID, "key": key, "self": "http://" + r.Host + "/rest/api/3/issue/" + rec.ID,
		"fields": map[string]any{
			"summary":   "Issue " + key,
			"project":   map[string]any{"id": "10000", "key": "SUP", "name": "Support"},
			"issuetype": map[string]any{"id": "10001", "name": "Task"},
			"status":    map[string]any{"id": "3", "name": "In Progress"},
			"created":   Base.Add(-time.Hour).In(loc).Format(layout),
			"updated":   rec.Modified.In(loc).Format(layout),
		},
	}
}

// jiraProjectKeys are the projects' keys in key order: SUP and
// jiraProjects-1 others.
func jiraProjectKeys() []string {
	keys := []string{"SUP"}
	for i := range jiraProjects - 1 {
		keys = append(keys, "P"+string(rune('A'+i/26))+string(rune('A'+i%26)))
	}
	slices.Sort(keys)
	return keys
}

// projects serves project/search: the projects ordered by key, paged by
// startAt and maxResults (at most 50).
func (j *jira) projects(w http.ResponseWriter, r *http.Request) {
	if !j.authorized(w, r) {
		return
	}
	q := r.URL.Query()
	if o := q.Get("orderBy"); o != "" && o != "key" && o != "+key" {
		jiraError(w, http.StatusBadRequest, "the fake orders projects by key only, got orderBy="+o)
		return
	}
	start, max := 0, 50
	for name, v := range map[string]*int{"startAt": &start, "maxResults": &max} {
		if s := q.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				jiraError(w, http.StatusBadRequest, "The "+name+" parameter must be a non-negative integer.")
				return
			}
			*v = n
		}
	}
	max = min(max, 50)
	keys := jiraProjectKeys()
	start = min(start, len(keys))
	end := min(start+max, len(keys))
	base := "http://" + r.Host + r.URL.Path
	values := []map[string]any{}
	for _, key := range keys[start:end] {
		values = append(values, j.project(r, key))
	}
	page := func(at int) string {
		return base + "?" + url.Values{"startAt": {strconv.Itoa(at)}, "maxResults": {strconv.Itoa(max)}, "orderBy": {"key"}}.Encode()
	}
	out := map[string]any{"self": page(start), "maxResults": max, "startAt": start, "total": len(keys),
		"isLast": end == len(keys), "values": values}
	if end < len(keys) {
		out["nextPage"] = page(end)
	}
	writeJSON(w, out)
}

func (j *jira) project(r *http.Request, key string) map[string]any {
	id := "10000"
	if key != "SUP" {
		id = strconv.Itoa(10100 + int(key[1]-'A')*26 + int(key[2]-'A'))
	}
	avatar := "https://acme.atlassian.net/rest/api/3/universal_avatar/view/type/project/avatar/10400"
	name := "Project " + key
	if key == "SUP" {
		name = "Support"
	}
	return map[string]any{
		"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
		"self":   "http://" + r.Host + r.URL.Path[:strings.Index(r.URL.Path, "/rest/api/3/")] + "/rest/api/3/project/" + id,
		"id":     id, "key": key, "name": name,
		"avatarUrls":     map[string]string{"48x48": avatar, "24x24": avatar + "?size=small", "16x16": avatar + "?size=xsmall", "32x32": avatar + "?size=medium"},
		"projectTypeKey": "software", "simplified": false, "style": "classic", "isPrivate": false, "properties": map[string]any{},
	}
}
