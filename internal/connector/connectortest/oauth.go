package connectortest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// OAuth is a fake vendor's authorization server: the RFC 6749 authorization
// code grant with PKCE (RFC 7636) and refresh tokens, shaped per vendor by
// its fields. The user is always signed in and allows at once: Authorize
// redirects straight back to the client's loopback redirect URI, which is
// what connctl's browser stand-in follows.
//
// Vendors mount Authorize and Token at their documented paths and call
// Revoke, Valid and Bearer from their own handlers.
type OAuth struct {
	ClientID     string
	ClientSecret string // "": a public client (PKCE only)
	// ClientAuth is how the token endpoint takes the client credentials:
	// "params" (form body), "basic" (HTTP Basic) or "" (either).
	ClientAuth string
	// Prefix starts every token issued (e.g. "00D" for Salesforce); the
	// tokens also carry Canary.
	Prefix string
	// NoRefresh: no refresh token is issued (long-lived access tokens,
	// SurveyMonkey). NoExpiry: no expires_in in token answers.
	NoRefresh, NoExpiry bool
	// Rotate: a refresh returns a new refresh token and the old one stops
	// working (Atlassian).
	Rotate bool
	// Extra adds vendor fields to every token answer (instance_url,
	// api_domain, access_url, hub_id...).
	Extra func(r *http.Request) map[string]any
	// CallbackExtra adds vendor parameters to the redirect back (Zoho's
	// location and accounts-server).
	CallbackExtra func(r *http.Request) url.Values

	mu        sync.Mutex
	n         int
	codes     map[string]grant  // authorization code -> grant
	access    map[string]bool   // valid access tokens
	refresh   map[string]bool   // valid refresh tokens
	revoked   []string          // tokens revoked at the revocation endpoint
	refreshes int               // refresh_token grants answered
	expireIn  int               // > 0: live access tokens end after this many more uses
	redirects map[string]string // code -> redirect_uri
}

type grant struct {
	challenge, method, redirect string
}

func (o *OAuth) init() {
	if o.codes == nil {
		o.codes, o.access, o.refresh, o.redirects = map[string]grant{}, map[string]bool{}, map[string]bool{}, map[string]string{}
	}
}

func (o *OAuth) next(kind string) string {
	o.n++
	return fmt.Sprintf("%s%s-%s-%d", o.Prefix, kind, Canary, o.n)
}

// Authorize is the authorization endpoint: it checks client_id and the
// redirect URI, then redirects back with a one-time code and the state.
func (o *OAuth) Authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != o.ClientID || !strings.HasPrefix(redirect, "http://127.0.0.1:") && !strings.HasPrefix(redirect, "http://localhost:") {
		http.Error(w, "invalid_request: unknown client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" {
		http.Error(w, "unsupported_response_type", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	o.init()
	code := o.next("code")
	o.codes[code] = grant{challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), redirect: redirect}
	o.mu.Unlock()
	back := url.Values{"code": {code}, "state": {q.Get("state")}}
	if o.CallbackExtra != nil {
		for k, v := range o.CallbackExtra(r) {
			back[k] = v
		}
	}
	http.Redirect(w, r, redirect+"?"+back.Encode(), http.StatusFound)
}

// Token is the token endpoint (authorization_code and refresh_token grants),
// answering errors as RFC 6749 section 5.2 does.
func (o *OAuth) Token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	if !o.clientOK(r) {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	resp := map[string]any{"token_type": "Bearer"}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		g, ok := o.codes[code]
		delete(o.codes, code)
		if !ok {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
			return
		}
		if g.redirect != r.PostForm.Get("redirect_uri") {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
			return
		}
		if g.challenge != "" {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if g.method != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
				tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
				return
			}
		} else if o.ClientSecret == "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", "a public client must use PKCE")
			return
		}
		if !o.NoRefresh {
			rt := o.next("rt")
			o.refresh[rt] = true
			resp["refresh_token"] = rt
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if o.NoRefresh || !o.refresh[rt] {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "refresh token is invalid, expired or revoked")
			return
		}
		o.refreshes++
		if o.Rotate {
			delete(o.refresh, rt)
			rt = o.next("rt")
			o.refresh[rt] = true
			resp["refresh_token"] = rt
		}
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	at := o.next("at")
	o.access[at] = true
	resp["access_token"] = at
	if !o.NoExpiry {
		resp["expires_in"] = 3600
	}
	if o.Extra != nil {
		for k, v := range o.Extra(r) {
			resp[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

func (o *OAuth) clientOK(r *http.Request) bool {
	user, pass, basic := r.BasicAuth()
	if basic {
		if u, err := url.QueryUnescape(user); err == nil {
			user = u
		}
		if p, err := url.QueryUnescape(pass); err == nil {
			pass = p
		}
	} else {
		user, pass = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if basic && o.ClientAuth == "params" || !basic && o.ClientAuth == "basic" {
		return false
	}
	return user == o.ClientID && subtle.ConstantTimeCompare([]byte(pass), []byte(o.ClientSecret)) == 1
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// Valid reports whether tok is a live access token (and counts a use for
// ExpireAfter).
func (o *OAuth) Valid(tok string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.access[tok] {
		return false
	}
	if o.expireIn > 0 {
		if o.expireIn--; o.expireIn == 0 {
			o.access = map[string]bool{} // expired: refresh tokens still work
		}
	}
	return true
}

// ExpireAfter makes every live access token stop working after n more
// successful uses, as when it expires in the middle of a run; refresh tokens
// stay valid, and access tokens issued after that work.
func (o *OAuth) ExpireAfter(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expireIn = n
}

// Refreshes is the number of refresh_token grants answered.
func (o *OAuth) Refreshes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.refreshes
}

// Bearer reports whether r carries a live access token after scheme
// ("Bearer", or a vendor's own such as "Zoho-oauthtoken").
func (o *OAuth) Bearer(r *http.Request, scheme string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), scheme+" ")
	return ok && o.Valid(tok)
}

// Revoke ends tok (an access or refresh token) and, as the vendors do,
// every token of the same grant: here, every token issued. It reports
// whether tok was live.
func (o *OAuth) Revoke(tok string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	live := o.access[tok] || o.refresh[tok]
	o.revoked = append(o.revoked, tok)
	if live {
		o.access, o.refresh = map[string]bool{}, map[string]bool{}
	}
	return live
}

// Revocations is the number of revocation calls.
func (o *OAuth) Revocations() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.revoked)
}

// Invalidate ends every token issued so far, as a changed password or a
// removed user does at the vendor.
func (o *OAuth) Invalidate() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.access, o.refresh = map[string]bool{}, map[string]bool{}
}

// RevokeRFC7009 is an RFC 7009 revocation endpoint: POST form token= with
// the client's credentials; 200 whether or not the token was live.
func (o *OAuth) RevokeRFC7009(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "use POST with a form")
		return
	}
	if r.PostForm.Get("token") == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "no token")
		return
	}
	o.Revoke(r.PostForm.Get("token"))
	w.WriteHeader(http.StatusOK)
}

// Issue mints a live access token, as a completed grant or a refresh
// would, for a suite that drives a source without the authorization flow.
// It is not counted as a refresh.
func (o *OAuth) Issue() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	at := o.next("at")
	o.access[at] = true
	return at
}
