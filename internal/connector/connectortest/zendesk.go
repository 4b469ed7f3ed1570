package connectortest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Zendesk Support, following its documented shapes:
//   - API token: HTTP Basic {email}/token:{api_token}; OAuth: Bearer
//     (https://developer.zendesk.com/api-reference/introduction/security-and-auth/);
//   - who-am-I GET /api/v2/users/me.json answers {user:{id, email, role, ...}}.
//     The endpoint is allowed for anonymous users, so a request with no or
//     wrong Basic credentials is answered 200 with the anonymous user (id
//     null, role "anonymous"), which keycheck must read as a failed sign-in
//     (https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user).
//     A dead OAuth access token is refused with 401 invalid_token;
//   - OAuth per subdomain: GET /oauth/authorizations/new (response_type=code,
//     client_id, redirect_uri, scope, state, PKCE), POST /oauth/tokens with
//     the client credentials in the body, answering {access_token,
//     token_type:"bearer", scope, expires_in:1800, refresh_token,
//     refresh_token_expires_in}; a refresh rotates the refresh token
//     (https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/,
//     https://developer.zendesk.com/documentation/api-basics/authentication/using-oauth-to-authenticate-zendesk-api-requests-in-a-web-app/);
//     revocation DELETE /api/v2/oauth/tokens/current.json with the token as
//     Bearer, 204 (https://developer.zendesk.com/api-reference/ticketing/oauth/oauth_tokens/#revoke-token);
//   - the cursor-based Incremental Ticket Export:
//     GET /api/v2/incremental/tickets/cursor.json?start_time={unix} first,
//     then ?cursor={after_cursor}; per_page up to 1000, the default, answering
//     {tickets, after_cursor, after_url, before_cursor, before_url,
//     end_of_stream}; the cursor is opaque (Zendesk's decode to
//     "{timestamp}||{id}|"), and the export keeps going from it on the next
//     poll (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-ticket-export-cursor-based,
//     https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api);
//   - the cursor-based Incremental User Export, GET
//     /api/v2/incremental/users/cursor.json, the same paging with {users,
//     after_cursor, ...} (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-user-export-cursor-based);
//   - the time-based Incremental Organization Export (organizations have no
//     cursor-based one), GET /api/v2/incremental/organizations.json?start_time={unix},
//     answering {organizations, count, end_of_stream, end_time, next_page}:
//     end_time is the most recent time in the page and next_page carries it
//     as the next start_time, which is inclusive, so the items at end_time
//     come again on the next page; end_of_stream when a page is short of
//     per_page (1,000) (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-organization-export,
//     https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api#time-based-incremental-exports);
//   - the incremental exports allow 10 requests a minute; over it, 429 with
//     Retry-After and {"error":"APIRateLimitExceeded", "description"}
//     (https://developer.zendesk.com/documentation/api-basics/best-practices/best-practices-for-avoiding-rate-limiting);
//     errors are {error, description}, a server error 500/503
//     (https://developer.zendesk.com/api-reference/introduction/requests).
//
// The users and organizations (the Also sources) are fixed sets, each
// more than a page of 1,000; the faults are armed on the tickets only. The
// organizations' full run writes one more than there are: organization
// 1,000 closes the first page, at end_time, and opens the second.
//
// Left out: Zendesk leaves out changes made in the minute before the
// request; the suite touches records and reads them back at once, so the
// fake serves every change.
func init() {
	also := []SourceRun{{Source: "users", Records: zdUsers}, {Source: "organizations", Records: zdOrgs + 1}}
	uncounted := map[Check]string{MissingCursor: "the checkpoint is the export's after_cursor or end_time, not a record's updated_at: a record without it moves nothing, so nothing is counted"}
	suite := map[string]SuiteOptions{"tickets": {Skip: uncounted}, "users": {Skip: uncounted},
		"organizations": {Repeats: 1, Skip: uncounted}} // the record at end_time ends one page and starts the next
	register(
		Case{Connector: "zendesk", Auth: "api_token", Source: "tickets", Also: also, Account: zdEmail, Suite: suite, Start: startZendesk("api_token")},
		Case{Connector: "zendesk", Auth: "oauth2", Source: "tickets", Also: also, Account: zdEmail, Revocable: true, Suite: suite, Start: startZendesk("oauth2")},
	)
}

const (
	zdEmail   = "ops-admin@acme-support.example"
	zdUserID  = 361234567890
	zdPerPage = 1000 // the export's default and largest page
	zdUsers   = 1200 // users the fake serves: two pages
	zdOrgs    = 1100 // organizations the fake serves: two pages
)

func startZendesk(auth string) func(testing.TB) (*Fake, error) {
	return func(tb testing.TB) (*Fake, error) {
		// 2,500 tickets: three pages of the default 1,000.
		f := &Fake{Data: NewDataset(2500, func(i int) string { return strconv.Itoa(10001 + i) })}
		z := &zendesk{f: f, token: "zdTok" + Canary + "9fQm2Lx7Rv",
			users: NewDataset(zdUsers, func(i int) string { return strconv.Itoa(20001 + i) }),
			orgs:  NewDataset(zdOrgs, func(i int) string { return strconv.Itoa(360001 + i) })}
		if auth == "oauth2" {
			f.OAuth = &OAuth{ClientID: "connctl_acme", ClientSecret: "zd-client-secret-" + Canary, ClientAuth: "params", Prefix: "zd", Rotate: true,
				Extra: func(*http.Request) map[string]any {
					return map[string]any{"token_type": "bearer", "scope": "read", "expires_in": 1800, "refresh_token_expires_in": 2592000}
				}}
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /api/v2/users/me.json", z.me)
		mux.HandleFunc("GET /api/v2/incremental/tickets/cursor.json", z.cursorExport("tickets", f.Data, z.ticket))
		mux.HandleFunc("GET /api/v2/incremental/users/cursor.json", z.cursorExport("users", z.users, z.user))
		mux.HandleFunc("GET /api/v2/incremental/organizations.json", z.organizations)
		if o := f.OAuth; o != nil {
			mux.HandleFunc("GET /oauth/authorizations/new", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("scope") == "" {
					http.Error(w, "invalid_scope: scope is required", http.StatusBadRequest)
					return
				}
				o.Authorize(w, r)
			})
			mux.HandleFunc("POST /oauth/tokens", o.Token)
			mux.HandleFunc("DELETE /api/v2/oauth/tokens/current.json", func(w http.ResponseWriter, r *http.Request) {
				tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !ok || !o.Revoke(tok) {
					zdInvalidToken(w)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
		}
		srv := Serve(tb, mux)
		f.URL = srv.URL
		f.Set = []string{"auth=" + auth, "subdomain=acme", "base_url=" + srv.URL}
		if auth == "oauth2" {
			f.Set = append(f.Set, "client_id="+f.OAuth.ClientID, "auth_url="+srv.URL+"/oauth/authorizations/new",
				"token_url="+srv.URL+"/oauth/tokens", "revoke_url="+srv.URL+"/api/v2/oauth/tokens/current.json",
				"userinfo_url="+srv.URL+"/api/v2/users/me.json")
			f.Secret, f.SecretField = f.OAuth.ClientSecret, "client_secret"
		} else {
			f.Set = append(f.Set, "email="+zdEmail)
			f.Secret, f.BadSecret = z.token, "zdTok"+Canary+"0000000000"
		}
		return f, nil
	}
}

type zendesk struct {
	f     *Fake
	token string
	users *Dataset // the users export's
	orgs  *Dataset // the organizations export's
}

// authorized checks the request's credentials; when they fail it answers
// as Zendesk does and reports false.
func (z *zendesk) authorized(w http.ResponseWriter, r *http.Request) bool {
	if o := z.f.OAuth; o != nil {
		if o.Bearer(r, "Bearer") {
			return true
		}
		zdInvalidToken(w)
		return false
	}
	if r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(zdEmail+"/token:"+z.token)) {
		return true
	}
	zdError(w, http.StatusUnauthorized, "Couldn't authenticate you", "")
	return false
}

func zdError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["description"] = desc
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func zdInvalidToken(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token"`)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_token",
		"error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."})
}

func (z *zendesk) me(w http.ResponseWriter, r *http.Request) {
	if z.f.OAuth == nil && r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(zdEmail+"/token:"+z.token)) {
		// users/me serves anonymous visitors: wrong Basic credentials
		// are not refused, they sign in no one.
		writeJSON(w, map[string]any{"user": map[string]any{"id": nil, "url": nil, "name": "Anonymous user", "email": "invalid@example.com",
			"role": "anonymous", "verified": false, "locale": "en-US", "authenticity_token": "anon-csrf"}})
		return
	}
	if !z.authorized(w, r) {
		return
	}
	writeJSON(w, map[string]any{"user": map[string]any{"id": zdUserID, "url": "http://" + r.Host + "/api/v2/users/" + strconv.Itoa(zdUserID) + ".json",
		"name": "Acme Ops Admin", "email": zdEmail, "role": "admin", "active": true, "verified": true, "locale": "en-US",
		"time_zone": "Europe/Berlin", "created_at": "2024-02-01T09:00:00Z", "updated_at": "2026-09-01T09:00:00Z"}})
}

// fault answers a throttled or failing data request; it reports whether it did.
func (z *zendesk) fault(w http.ResponseWriter, d *Dataset) bool {
	switch d.Fault() {
	case Throttle:
		w.Header().Set("Retry-After", "1")
		zdError(w, http.StatusTooManyRequests, "APIRateLimitExceeded", "Number of allowed incremental export API requests per minute exceeded")
		return true
	case Fail:
		zdError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Zendesk Support is temporarily unavailable. Please try again later.")
		return true
	}
	return false
}

// A cursor is a position in the change stream: after the record changed at
// at (Unix seconds, with milliseconds) with sequence seq.
func zdCursor(at time.Time, seq int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%d.%03d||%d|", at.Unix(), at.Nanosecond()/1e6, seq))
}

func zdParseCursor(s string) (time.Time, int, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, false
	}
	ts, rest, ok := strings.Cut(string(b), "||")
	sec, ms, ok2 := strings.Cut(ts, ".")
	seq, ok3 := strings.CutSuffix(rest, "|")
	if !ok || !ok2 || !ok3 {
		return time.Time{}, 0, false
	}
	s1, err1 := strconv.ParseInt(sec, 10, 64)
	m, err2 := strconv.Atoi(ms)
	n, err3 := strconv.Atoi(seq)
	if err1 != nil || err2 != nil || err3 != nil {
		return time.Time{}, 0, false
	}
	return time.Unix(s1, int64(m)*1e6).UTC(), n, true
}

// zdPerPageParam reads per_page (the default and largest 1,000); it
// answers a bad one and reports false.
func zdPerPageParam(w http.ResponseWriter, q url.Values) (int, bool) {
	v := q.Get("per_page")
	if v == "" {
		return zdPerPage, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		zdError(w, http.StatusBadRequest, "InvalidValue", "per_page must be a positive integer")
		return 0, false
	}
	return min(n, zdPerPage), true
}

// zdStartTime reads start_time (Unix seconds, more than a minute ago); it
// answers a bad one and reports false.
func zdStartTime(w http.ResponseWriter, q url.Values) (int64, bool) {
	start, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
	if err != nil || start < 0 {
		zdError(w, http.StatusBadRequest, "InvalidValue", "start_time must be a Unix time")
		return 0, false
	}
	if start > time.Now().Add(-time.Minute).Unix() {
		zdError(w, http.StatusBadRequest, "InvalidValue", "start_time must be more than one minute in the past")
		return 0, false
	}
	return start, true
}

// cursorExport serves a cursor-based incremental export of data's records
// under key.
func (z *zendesk) cursorExport(key string, data *Dataset, render func(*http.Request, Record) map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { z.cursorPage(w, r, key, data, render) }
}

func (z *zendesk) cursorPage(w http.ResponseWriter, r *http.Request, key string, data *Dataset, render func(*http.Request, Record) map[string]any) {
	if !z.authorized(w, r) {
		return
	}
	if z.fault(w, data) {
		return
	}
	q := r.URL.Query()
	perPage, ok := zdPerPageParam(w, q)
	if !ok {
		return
	}
	var recs []Record
	var from time.Time
	switch {
	case q.Has("cursor"):
		at, seq, ok := zdParseCursor(q.Get("cursor"))
		if !ok {
			zdError(w, http.StatusBadRequest, "InvalidPaginationParameter", "cursor is invalid")
			return
		}
		data.SawSince(at)
		from = at
		for _, rec := range data.Since(at, true) {
			if rec.Modified.After(at) || rec.Seq > seq {
				recs = append(recs, rec)
			}
		}
	case q.Has("start_time"):
		start, ok := zdStartTime(w, q)
		if !ok {
			return
		}
		if start > 0 {
			from = time.Unix(start, 0).UTC()
			data.SawSince(from)
			recs = data.Since(from, true)
		} else {
			recs = data.All()
		}
	default:
		zdError(w, http.StatusBadRequest, "InvalidValue", "start_time or cursor is required")
		return
	}
	page := recs[:min(perPage, len(recs))]
	items := []map[string]any{}
	for _, rec := range page {
		items = append(items, render(r, rec))
	}
	after := q.Get("cursor")
	if len(page) > 0 {
		last := page[len(page)-1]
		after = zdCursor(last.Modified, last.Seq)
	} else if after == "" {
		after = zdCursor(from, -1)
	}
	self := "http://" + r.Host + r.URL.Path + "?cursor="
	out := map[string]any{key: items, "after_cursor": after, "after_url": self + after,
		"before_cursor": nil, "before_url": nil, "end_of_stream": len(page) == len(recs)}
	if len(page) > 0 {
		before := zdCursor(page[0].Modified, page[0].Seq-1)
		out["before_cursor"], out["before_url"] = before, self+before
	}
	writeJSON(w, out)
}

func (z *zendesk) ticket(r *http.Request, rec Record) map[string]any {
	id, _ := strconv.Atoi(rec.ID)
	return map[string]any{
		"id": id, "url": "http://" + r.Host + "/api/v2/tickets/" + rec.ID + ".json", "subject": "Printer on fire #" + rec.ID,
		"status": "open", "priority": "normal", "type": "incident", "requester_id": 20978392, "submitter_id": 20978392,
		"assignee_id": zdUserID, "tags": []string{"printer"}, "created_at": Base.Add(-time.Hour).Format(time.RFC3339),
		"updated_at": rec.Modified.UTC().Format(time.RFC3339), "generated_timestamp": rec.Modified.Unix(),
	}
}

func (z *zendesk) user(r *http.Request, rec Record) map[string]any {
	id, _ := strconv.Atoi(rec.ID)
	return map[string]any{
		"id": id, "url": "http://" + r.Host + "/api/v2/users/" + rec.ID + ".json", "name": "Customer " + rec.ID,
		"email": "customer" + rec.ID + "@example.org", "role": "end-user", "active": true, "verified": true,
		"organization_id": 360001 + id%zdOrgs, "locale": "en-US", "time_zone": "Europe/Berlin",
		"created_at": Base.Add(-time.Hour).Format(time.RFC3339), "updated_at": rec.Modified.UTC().Format(time.RFC3339),
	}
}

func (z *zendesk) organization(r *http.Request, rec Record) map[string]any {
	id, _ := strconv.Atoi(rec.ID)
	return map[string]any{
		"id": id, "url": "http://" + r.Host + "/api/v2/organizations/" + rec.ID + ".json", "name": "Org " + rec.ID,
		"domain_names": []string{"org" + rec.ID + ".example"}, "external_id": nil, "group_id": nil, "shared_tickets": false,
		"shared_comments": false, "tags": []string{}, "organization_fields": map[string]any{},
		"created_at": Base.Add(-time.Hour).Format(time.RFC3339), "updated_at": rec.Modified.UTC().Format(time.RFC3339),
	}
}

// organizations serves the time-based Incremental Organization Export: the
// organizations updated at or after start_time (whole seconds), a page of
// per_page at most; end_time is the page's last updated_at, and next_page
// starts there again.
func (z *zendesk) organizations(w http.ResponseWriter, r *http.Request) {
	if !z.authorized(w, r) {
		return
	}
	if z.fault(w, z.orgs) {
		return
	}
	q := r.URL.Query()
	perPage, ok := zdPerPageParam(w, q)
	if !ok {
		return
	}
	if !q.Has("start_time") {
		zdError(w, http.StatusBadRequest, "InvalidValue", "start_time is required")
		return
	}
	start, ok := zdStartTime(w, q)
	if !ok {
		return
	}
	var recs []Record
	if start > 0 {
		z.orgs.SawSince(time.Unix(start, 0).UTC())
		recs = z.orgs.Since(time.Unix(start, 0), true)
	} else {
		recs = z.orgs.All()
	}
	page := recs[:min(perPage, len(recs))]
	items := []map[string]any{}
	for _, rec := range page {
		items = append(items, z.organization(r, rec))
	}
	end := start
	if len(page) > 0 {
		end = page[len(page)-1].Modified.Unix()
	}
	next := url.Values{"start_time": {strconv.FormatInt(end, 10)}}
	if q.Has("per_page") {
		next.Set("per_page", strconv.Itoa(perPage))
	}
	writeJSON(w, map[string]any{"organizations": items, "count": len(items), "end_of_stream": len(page) < perPage,
		"end_time": end, "next_page": "http://" + r.Host + r.URL.Path + "?" + next.Encode()})
}
