// Package oauthflow runs OAuth 2.0 authorization in the user's browser for a
// native app (RFC 8252): a loopback listener that lives only for the flow,
// PKCE S256 (RFC 7636), a one-time state compared exactly, the issuer check
// of RFC 9207, and the code exchange with an explicitly chosen client
// authentication style. It also refreshes and revokes (RFC 7009) tokens. It
// never prints a token, code or verifier.
package oauthflow

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/connctl/connctl/internal/browser"
	"github.com/connctl/connctl/internal/safehttp"
	"github.com/connctl/connctl/internal/textsafe"
)

// AuthStyle is how the client authenticates at the token endpoint.
type AuthStyle string

// Auth styles; never autodetected (x/oauth2's detection can spend the code).
const (
	AuthInParams AuthStyle = "params"
	AuthInHeader AuthStyle = "header"
)

func (s AuthStyle) oauth2() oauth2.AuthStyle {
	if s == AuthInHeader {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

// Config is one authorization.
type Config struct {
	Name         string // connection name, shown on the browser page
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	Scopes       []string
	AuthStyle    AuthStyle
	// RedirectURI is a fixed, registered redirect. Empty: loopback on an
	// ephemeral port, http://127.0.0.1:<port>/callback (RFC 8252 §7.3).
	RedirectURI string
	AuthParams  map[string]string
	// Issuer, when set, must equal the callback's iss parameter when one is
	// sent (RFC 9207); RequireIss makes a missing iss an error.
	Issuer     string
	RequireIss bool
	// JWKSURL and IDTokenAlgs (from discovery) let an id_token be checked;
	// with openid in Scopes a nonce is sent too.
	JWKSURL     string
	IDTokenAlgs []string
	// TokenURLFromCallback, when set, picks the token endpoint from the
	// callback's parameters (Zoho's accounts-server); it returns "" to keep TokenURL.
	TokenURLFromCallback func(url.Values) (string, error)

	NoBrowser  bool
	Opener     browser.Opener
	Stderr     io.Writer
	HTTPClient *http.Client
	// ExchangeTimeout bounds the code exchange at the token endpoint
	// (0: DefaultExchangeTimeout).
	ExchangeTimeout time.Duration
}

// DefaultExchangeTimeout is how long the token endpoint has to answer the
// code exchange.
const DefaultExchangeTimeout = 30 * time.Second

func (c *Config) exchangeTimeout() time.Duration {
	if c.ExchangeTimeout > 0 {
		return c.ExchangeTimeout
	}
	return DefaultExchangeTimeout
}

// safeEndpoint is an endpoint URL without its query, for messages.
func safeEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// Result is a successful authorization.
type Result struct {
	Token       *oauth2.Token
	RedirectURI string
	Callback    url.Values // callback parameters other than code and state
	TokenURL    string     // the endpoint the code was exchanged at
	IDToken     *IDToken   // the validated id_token; nil when none came or it could not be checked
}

// Error is a failed authorization with a kind scripts and tests can test.
// A "timeout" message names only what did not answer: what the failure
// leaves stored, and what tries again, is the caller's to say.
type Error struct {
	Kind        string // "denied", "timeout", "state", "issuer", "exchange", "id_token", "listen", "server", "endpoint"
	Message     string
	Description string
}

func (e *Error) Error() string { return e.Message }

// ErrTimeout is wrapped when nobody completed the flow in time.
var ErrTimeout = errors.New("authorization timed out")

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Config) oauthConfig(redirect, tokenURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: tokenURL, AuthStyle: c.AuthStyle.oauth2()},
		RedirectURL:  redirect,
		Scopes:       c.Scopes,
	}
}

// listen opens the loopback listener(s) for the redirect and returns the
// redirect URI to send. A fixed redirect on "localhost" listens on both
// 127.0.0.1 and ::1, since a browser may resolve either.
func listen(redirect string) ([]net.Listener, string, string, error) {
	if redirect == "" {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, "", "", &Error{Kind: "listen", Message: fmt.Sprintf("cannot listen on the loopback interface: %v", err)}
		}
		port := l.Addr().(*net.TCPAddr).Port
		return []net.Listener{l}, fmt.Sprintf("http://127.0.0.1:%d/callback", port), "/callback", nil
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" {
		return nil, "", "", &Error{Kind: "listen", Message: fmt.Sprintf("redirect_uri %q must be an http:// loopback URL such as http://127.0.0.1:8976/callback", redirect)}
	}
	host := u.Hostname()
	var addrs []string
	switch host {
	case "127.0.0.1":
		addrs = []string{"127.0.0.1"}
	case "::1":
		addrs = []string{"::1"}
	case "localhost":
		addrs = []string{"127.0.0.1", "::1"}
	default:
		return nil, "", "", &Error{Kind: "listen", Message: fmt.Sprintf("redirect_uri %q is not a loopback address: use 127.0.0.1, [::1] or localhost", redirect)}
	}
	port := u.Port()
	if port == "" {
		port = "0" // e.g. Microsoft's http://localhost: any port is accepted
	}
	var ls []net.Listener
	for i, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, port))
		if err != nil {
			if i > 0 { // ::1 may be missing; 127.0.0.1 alone is enough
				continue
			}
			for _, o := range ls {
				_ = o.Close()
			}
			return nil, "", "", &Error{Kind: "listen", Message: fmt.Sprintf("cannot listen on %s for redirect_uri %s: %v (close whatever uses port %s, or register another redirect and set it with --set redirect_uri=...)", net.JoinHostPort(a, port), redirect, shortNetErr(err), port)}
		}
		if port == "0" {
			port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		}
		ls = append(ls, l)
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	out := *u
	out.Host = net.JoinHostPort(host, port)
	if u.Port() == "" && host == "localhost" {
		out.Host = "localhost:" + port
	}
	return ls, out.String(), path, nil
}

func shortNetErr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// Run performs the authorization: it opens the browser at the provider's
// authorize URL and waits for the redirect, until ctx ends (the caller sets
// the --timeout deadline; Ctrl-C cancels). Nothing is stored here.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if !textsafe.Safe(cfg.AuthURL) {
		// A hand-edited config or a discovery document can carry a
		// terminal control in the endpoint: never open, send or print it.
		return nil, &Error{Kind: "endpoint", Message: fmt.Sprintf("the authorization endpoint %s contains a control character: refusing to use it", textsafe.Sanitize(cfg.AuthURL))}
	}
	ls, redirect, path, err := listen(cfg.RedirectURI)
	if err != nil {
		return nil, err
	}
	state := randomString(32)
	verifier := oauth2.GenerateVerifier()
	oc := cfg.oauthConfig(redirect, cfg.TokenURL)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	for k, v := range cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	nonce := ""
	if cfg.openID() {
		nonce = randomString(24)
		opts = append(opts, oauth2.SetAuthURLParam("nonce", nonce))
	}
	authURL := oc.AuthCodeURL(state, opts...)

	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	var once sync.Once
	finish := func(o outcome) { once.Do(func() { done <- o }) }
	var used sync.Mutex
	consumed := false
	allowedHosts := map[string]bool{}
	for _, l := range ls {
		allowedHosts[l.Addr().String()] = true
	}
	if u, err := url.Parse(redirect); err == nil {
		allowedHosts[u.Host] = true
	}

	var exchanging atomic.Pointer[string] // the token URL, once the code is being exchanged

	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		// DNS rebinding: only loopback Host headers.
		if !allowedHosts[r.Host] {
			http.Error(w, "unexpected Host header", http.StatusBadRequest)
			return
		}
		q := r.URL.Query()
		got := q.Get("state")
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1 {
			page(w, http.StatusBadRequest, cfg.Name, false, "This sign-in response does not belong to the authorization connctl started (state mismatch). Nothing was stored.")
			if cfg.Stderr != nil {
				fmt.Fprintln(cfg.Stderr, "warning: ignored a callback with a wrong state (a stale tab or a forged request); still waiting")
			}
			return
		}
		used.Lock()
		if consumed {
			used.Unlock()
			page(w, http.StatusBadRequest, cfg.Name, false, "This sign-in response was already used.")
			return
		}
		consumed = true
		used.Unlock()

		if iss := q.Get("iss"); iss != "" || cfg.RequireIss {
			if cfg.Issuer != "" && iss != strings.TrimSuffix(cfg.Issuer, "/") && iss != cfg.Issuer {
				e := &Error{Kind: "issuer", Message: fmt.Sprintf("the authorization response came from issuer %q, not %q (possible mix-up attack): nothing was stored", iss, cfg.Issuer)}
				if iss == "" {
					e.Message = fmt.Sprintf("the authorization response lacks the iss parameter, which issuer %q promises to send (authorization_response_iss_parameter_supported, RFC 9207; possible mix-up attack): nothing was stored", cfg.Issuer)
				}
				page(w, http.StatusBadRequest, cfg.Name, false, e.Message)
				finish(outcome{err: e})
				return
			}
		}
		if code := q.Get("error"); code != "" {
			// The redirect's error text is the provider's (or whoever sent
			// the browser here): shown escaped, never as terminal control.
			e := &Error{Kind: "denied", Message: fmt.Sprintf("the provider refused the authorization: %s", textsafe.Sanitize(code)), Description: textsafe.Sanitize(q.Get("error_description"))}
			if code == "access_denied" {
				e.Message = "authorization was denied in the browser (access_denied)"
			}
			if e.Description != "" {
				e.Message += ": " + oneLine(e.Description, 200)
			}
			page(w, http.StatusOK, cfg.Name, false, e.Message)
			finish(outcome{err: e})
			return
		}
		code := q.Get("code")
		if code == "" {
			e := &Error{Kind: "server", Message: "the authorization response has no code"}
			page(w, http.StatusBadRequest, cfg.Name, false, e.Message)
			finish(outcome{err: e})
			return
		}
		tokenURL := cfg.TokenURL
		if cfg.TokenURLFromCallback != nil {
			t, err := cfg.TokenURLFromCallback(q)
			if err != nil {
				e := &Error{Kind: "server", Message: err.Error()}
				page(w, http.StatusBadRequest, cfg.Name, false, e.Message)
				finish(outcome{err: e})
				return
			}
			if t != "" {
				tokenURL = t
			}
		}
		// The exchange has its own deadline, so that a stalled token
		// endpoint is named as such rather than as a browser that never
		// answered; and its client never follows a redirect, which would
		// carry the code, the verifier and the client secret elsewhere.
		exchanging.Store(&tokenURL)
		timeout := cfg.exchangeTimeout()
		xctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		xctx = context.WithValue(xctx, oauth2.HTTPClient, safehttp.NoRedirects(cfg.HTTPClient, "token endpoint"))
		tok, err := cfg.oauthConfig(redirect, tokenURL).Exchange(xctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			msg := "token exchange failed: " + DescribeTokenError(err)
			if ctx.Err() == nil && errors.Is(xctx.Err(), context.DeadlineExceeded) {
				msg = fmt.Sprintf("token exchange failed: the token endpoint %s did not answer within %s", safeEndpoint(tokenURL), timeout)
			}
			e := &Error{Kind: "exchange", Message: msg}
			page(w, http.StatusBadGateway, cfg.Name, false, e.Message)
			finish(outcome{err: e})
			return
		}
		idt, err := cfg.checkIDToken(xctx, tok, nonce)
		if err != nil {
			e := &Error{Kind: "id_token", Message: err.Error()}
			page(w, http.StatusBadGateway, cfg.Name, false, e.Message)
			finish(outcome{err: e})
			return
		}
		cb := url.Values{}
		for k, v := range q {
			if k != "code" && k != "state" {
				cb[k] = v
			}
		}
		page(w, http.StatusOK, cfg.Name, true, "")
		finish(outcome{res: &Result{Token: tok, RedirectURI: redirect, Callback: cb, TokenURL: tokenURL, IDToken: idt}})
	})
	if path != "/" {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	for _, l := range ls {
		go func() { _ = srv.Serve(l) }()
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		for _, l := range ls {
			_ = l.Close()
		}
	}()

	if cfg.Stderr != nil {
		if cfg.NoBrowser {
			fmt.Fprintf(cfg.Stderr, "Open this URL in a browser that can reach this machine's loopback (e.g. through ssh -L %s):\n  %s\n", forwardHint(redirect), textsafe.Sanitize(authURL))
		} else {
			fmt.Fprintf(cfg.Stderr, "Opening your browser to authorize %s. If it does not open, visit:\n  %s\n", textsafe.Sanitize(cfg.Name), textsafe.Sanitize(authURL))
		}
		fmt.Fprintf(cfg.Stderr, "Waiting for the browser to return to %s ...\n", redirect)
	}
	if !cfg.NoBrowser && cfg.Opener != nil {
		if err := cfg.Opener.Open(ctx, authURL); err != nil && cfg.Stderr != nil {
			fmt.Fprintf(cfg.Stderr, "warning: %v; open the URL above yourself\n", err)
		}
	}

	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		if t := exchanging.Load(); t != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &Error{Kind: "timeout", Message: fmt.Sprintf("the token endpoint %s did not answer before the authorization timed out", safeEndpoint(*t))}
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &Error{Kind: "timeout", Message: "no answer from the browser in time"}
		}
		return nil, ctx.Err()
	}
}

func forwardHint(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return "PORT:127.0.0.1:PORT"
	}
	return fmt.Sprintf("%s:127.0.0.1:%s", u.Port(), u.Port())
}

// oneLine makes a provider's text one line of at most max bytes (cut on a
// character boundary), with terminal controls shown escaped.
func oneLine(s string, max int) string {
	s = textsafe.Sanitize(strings.Join(strings.Fields(s), " "))
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>connctl</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;line-height:1.5}h1{font-size:1.3em}</style></head>
<body>{{if .OK}}<h1 id="result">connctl: {{.Name}} is authorized — you can close this tab</h1>
{{else}}<h1 id="result">connctl: authorization of {{.Name}} failed</h1><p>{{.Message}}</p><p>Return to the terminal for details.</p>{{end}}
</body></html>`))

func page(w http.ResponseWriter, status int, name string, ok bool, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct {
		OK            bool
		Name, Message string
	}{ok, name, msg})
}

// DescribeTokenError turns a token endpoint failure into one line with no
// secret: the OAuth error code and description, or the HTTP status.
func DescribeTokenError(err error) string {
	if re := safehttp.AsRedirect(err); re != nil {
		return re.Error()
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			s := textsafe.Sanitize(re.ErrorCode)
			if re.ErrorDescription != "" {
				s += ": " + oneLine(re.ErrorDescription, 200)
			}
			return s
		}
		if re.Response != nil {
			return fmt.Sprintf("the token endpoint answered HTTP %d", re.Response.StatusCode)
		}
		return "the token endpoint answered with an error"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "the token endpoint did not answer in time"
		}
		return "cannot reach the token endpoint: " + shortNetErr(ue.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the token endpoint did not answer in time"
	}
	return oneLine(err.Error(), 200)
}

// TokenErrorKind sorts a token endpoint failure as connector.CallError's
// Kind does: "network" when the endpoint could not be reached or did not
// answer in time, "server" for an HTTP 5xx or the codes server_error and
// temporarily_unavailable (the provider's trouble: try again later),
// "rate_limit" for HTTP 429, else "" (the request was refused: the
// connection's settings, not the moment). status is the HTTP status, or 0.
func TokenErrorKind(err error) (kind string, status int) {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		switch {
		case re.ErrorCode == "server_error" || re.ErrorCode == "temporarily_unavailable" || status >= 500:
			return "server", status
		case status == http.StatusTooManyRequests:
			return "rate_limit", status
		}
		return "", status
	}
	if safehttp.AsRedirect(err) != nil {
		return "", 0
	}
	var ue *url.Error
	if errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
		return "network", 0
	}
	return "", 0
}

// IsInvalidGrant reports whether the server rejected a refresh token or code:
// RFC 6749's invalid_grant, or one of codes, the provider's own codes for it
// (the connector's OAuthHooks.InvalidGrantCodes; Zoho's invalid_code comes
// sometimes with HTTP 200). x/oauth2 reports either as a RetrieveError.
func IsInvalidGrant(err error, codes ...string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || slices.Contains(codes, re.ErrorCode))
}
