package connectortest

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// The generic OAuth 2.0 connector, against a server that follows the
// standards it relies on:
//   - RFC 8414 authorization server metadata at
//     /.well-known/oauth-authorization-server (issuer, endpoints,
//     code_challenge_methods_supported), found from the issuer URL alone;
//   - RFC 6749 authorization code grant with RFC 7636 PKCE for a public
//     client, refresh tokens, RFC 7009 revocation, and an OpenID Connect
//     userinfo endpoint (https://openid.net/specs/openid-connect-core-1_0.html#UserInfo);
//   - RFC 6750 bearer tokens: 401 with WWW-Authenticate error="invalid_token";
//   - an API in a common shape the http source is told about with its
//     parameters: GET /v1/items?limit=&updated_since=&after= answering
//     {"data":[...],"meta":{"next_cursor":...}}, 429 with Retry-After
//     (RFC 9110 section 10.2.3) and 503 for a server error.
func init() {
	register(Case{Connector: "oauth2", Source: "http", Account: "alice@example.org", Revocable: true, Start: startGenericOAuth, Suite: map[string]SuiteOptions{
		"http": {Skip: map[Check]string{ForeignLink: "the case pages by cursor (next=cursor:...); off-host next links (next=link/url) stay in genericoauth TestNextOnAnotherHostRefused"}}},
		Params: []string{"path=/v1/items", "records=/data", "next=cursor:/meta/next_cursor", "cursor_param=after",
			"incremental_field=updated_at", "since_param=updated_since", "page_size_param=limit", "page_size=100"}})
}

func startGenericOAuth(tb testing.TB) (*Fake, error) {
	f := &Fake{Data: NewDataset(250, func(i int) string { return "itm_" + strconv.Itoa(7000+i) })}
	o := &OAuth{ClientID: "connctl-native", Prefix: "gen-"}
	f.OAuth = o
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		issuer := "http://" + r.Host // the server's own URL (it serves on 127.0.0.1 only)
		writeJSON(w, map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
			"revocation_endpoint": issuer + "/revoke", "userinfo_endpoint": issuer + "/userinfo",
			"response_types_supported": []string{"code"}, "grant_types_supported": []string{"authorization_code", "refresh_token"},
			"code_challenge_methods_supported": []string{"S256"}, "token_endpoint_auth_methods_supported": []string{"none", "client_secret_post"}})
	})
	mux.HandleFunc("GET /authorize", o.Authorize)
	mux.HandleFunc("POST /token", o.Token)
	mux.HandleFunc("POST /revoke", o.RevokeRFC7009)
	bearerError := func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid or expired"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		if !o.Bearer(r, "Bearer") {
			bearerError(w)
			return
		}
		writeJSON(w, map[string]any{"sub": "u-1842", "email": "alice@example.org", "email_verified": true, "name": "Alice"})
	})
	mux.HandleFunc("GET /v1/items", func(w http.ResponseWriter, r *http.Request) {
		if !o.Bearer(r, "Bearer") {
			bearerError(w)
			return
		}
		switch f.Data.Fault() {
		case Throttle:
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			writeJSONBody(w, map[string]string{"error": "rate_limited", "message": "Too many requests"})
			return
		case Fail:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			writeJSONBody(w, map[string]string{"error": "unavailable", "message": "The service is temporarily unavailable"})
			return
		}
		q := r.URL.Query()
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil || limit < 1 || limit > 100 {
			limit = 25
		}
		var since time.Time
		if s := q.Get("updated_since"); s != "" {
			if since, err = time.Parse(time.RFC3339Nano, s); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				writeJSONBody(w, map[string]string{"error": "invalid_request", "message": "updated_since is not an RFC 3339 time"})
				return
			}
			f.Data.SawSince(since)
		}
		offset, _ := strconv.Atoi(q.Get("after"))
		recs := f.Data.Since(since, false)
		end := min(offset+limit, len(recs))
		items := []map[string]any{}
		for _, rec := range recs[min(offset, len(recs)):end] {
			items = append(items, map[string]any{"id": rec.ID, "name": "Item " + rec.ID, "updated_at": rec.Modified.UTC().Format(time.RFC3339Nano)})
		}
		var next any
		if end < len(recs) {
			next = strconv.Itoa(end)
		}
		writeJSON(w, map[string]any{"data": items, "meta": map[string]any{"next_cursor": next}})
	})
	srv := Serve(tb, mux)
	f.URL = srv.URL
	f.Set = []string{"issuer=" + srv.URL, "client_id=" + o.ClientID, "base_url=" + srv.URL, "scopes=openid offline_access"}
	return f, nil
}
