package authorization

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/oauthflow"
	"github.com/connctl/connctl/internal/safehttp"
)

// Options are the choices of one authorization.
type Options struct {
	NoBrowser bool
	Timeout   time.Duration
	Force     bool // reauthorize against another org/instance than before
	// Created says the connection was saved a moment ago by `connctl
	// create`: a failed flow leaves it saved as not_authorized, and the
	// error says so and names `connctl authorize` as the way to try again.
	Created bool
}

// Authorize runs the browser flow for the connection named name and records
// the grant. Nothing is stored unless the flow succeeds and, on a
// reauthorization, the new grant is for the same org as before (or Force).
func (s *Service) Authorize(ctx context.Context, name string, opts Options) (*configstore.Connection, error) {
	c, ok := s.Mgr.Config.Find(name)
	if !ok {
		return nil, connection.NotFound(name)
	}
	e, err := s.Resolve(ctx, c)
	if err != nil {
		return nil, err
	}
	// No grant at the provider that could not be kept.
	if err := s.Mgr.ProbeStore(ctx, c.ID); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := oauthflow.Config{
		Name: c.Name, ClientID: e.ClientID, ClientSecret: e.ClientSecret, AuthURL: e.AuthURL, TokenURL: e.TokenURL,
		Scopes: e.Scopes, AuthStyle: e.AuthStyle, RedirectURI: e.RedirectURI, AuthParams: e.AuthParams,
		Issuer: e.Issuer, RequireIss: e.RequireIss, JWKSURL: e.JWKSURL, IDTokenAlgs: e.IDTokenAlgs, NoBrowser: opts.NoBrowser, Opener: s.Opener, Stderr: s.Stderr, HTTPClient: s.HTTP,
	}
	if h := e.hooks(); h.TokenURLFromCallback != nil {
		tokenURL := e.TokenURL
		cfg.TokenURLFromCallback = func(q url.Values) (string, error) { return h.TokenURLFromCallback(tokenURL, q) }
	}
	s.warnGrantCap(c, e)
	res, err := oauthflow.Run(fctx, cfg)
	if err != nil {
		return nil, flowError(err, c.Name, e.RedirectURI, opts.Created)
	}
	tok := res.Token
	state := configstore.OAuthState{Extra: map[string]string{}}
	issued := s.now().UTC()
	state.IssuedAt = &issued
	state.ExpiresAt = s.expiry(tok.Expiry)
	state.Scopes = grantedScopes(tok, e.Scopes)
	if err := s.describeGrant(ctx, e, res, &state); err != nil {
		s.discard(ctx, e, tok)
		return nil, err
	}
	account, subject, org := s.whoAmI(ctx, e, tok.AccessToken, &state)
	account, subject = preferIDToken(res.IDToken, account, subject)
	state.Subject = subject
	if state.Org == "" {
		state.Org = org
	}
	if prev := c.OAuth; prev != nil && prev.Org != "" && state.Org != "" && prev.Org != state.Org && !opts.Force {
		s.discard(ctx, e, tok)
		return nil, exitcode.WithHint(exitcode.UsageError("the new grant is for %s, but %q was authorized for %s: nothing was changed", state.Org, c.Name, prev.Org),
			"sign in to the same org, or pass --force to switch the connection to the new one")
	}
	stored, err := s.Mgr.StoreGrant(ctx, c.Name, connection.Grant{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Account: account, State: state})
	if err == nil && tok.RefreshToken == "" {
		s.warnNoRefreshToken(c.Name, e, state.ExpiresAt)
	}
	return stored, err
}

// discard revokes a token connctl obtained but will not keep (best effort).
func (s *Service) discard(ctx context.Context, e *Endpoints, tok *oauth2.Token) {
	if e.RevokeURL == "" {
		return
	}
	t, hint := tok.RefreshToken, "refresh_token"
	if t == "" {
		t, hint = tok.AccessToken, "access_token"
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = oauthflow.Revoke(rctx, e.Client(s.HTTP), e.RevokeURL, e.RevokeStyle, t, hint)
}

// FlowFailed reports whether err is a failed browser flow, whose message
// already says what it left stored and whose hints say how to try again.
func FlowFailed(err error) bool {
	var fe *oauthflow.Error
	return errors.As(err, &fe)
}

// flowError explains a failed browser flow: what it left stored and what
// tries again. authorize and reauthorize change nothing when the flow fails,
// so running the command again retries; create has already saved the
// definition (as not_authorized, with no token), so running create again
// would only find the name taken, and `connctl authorize` retries instead.
func flowError(err error, name, redirectURI string, created bool) error {
	var fe *oauthflow.Error
	if !errors.As(err, &fe) {
		return err
	}
	q := connection.QuoteArg(name)
	left, retry := "nothing was stored", "run the command again"
	if created {
		left = fmt.Sprintf("connection %q is saved as not_authorized, with no token stored", name)
		retry = "sign in with `connctl authorize " + q + "`"
	}
	out := *fe
	// The issuer and id_token checks say "nothing was stored" themselves;
	// say it once, in the caller's words.
	out.Message = strings.TrimSuffix(fe.Message, ": nothing was stored")
	// The provider's description may end a sentence: "...request.: connection".
	outcome := func() { out.Message = strings.TrimSuffix(out.Message, ".") + ": " + left }
	var hints []string
	code := exitcode.Failure
	switch fe.Kind {
	case "timeout":
		outcome()
		if created {
			hints = append(hints, retry+" (raise --timeout if you need longer)")
		} else {
			out.Message += "; " + retry + " (raise --timeout if you need longer)"
		}
		if redirectURI == "" {
			// A server that matches a registered redirect exactly (Dex
			// with http://127.0.0.1/callback) shows the user an error
			// page, and the flow can only time out.
			hints = append(hints, "if the browser showed an error about the redirect URI, the server wants the exact URI you registered, port included: "+
				"register a fixed one such as http://127.0.0.1:8976/callback and `connctl edit "+q+" --set redirect_uri=http://127.0.0.1:8976/callback`")
		}
	case "listen":
		// Nothing was tried yet: the message says what to fix.
		if created {
			hints = append(hints, fmt.Sprintf("connection %q is saved as not_authorized; after the fix, %s", name, retry))
		}
	case "denied":
		code = exitcode.AuthNeeded
		if created {
			outcome()
		}
		hints = append(hints, retry+" and allow access, or sign in as another user")
	default:
		if created || out.Message != fe.Message {
			outcome()
		}
		if created {
			hints = append(hints, retry)
		}
	}
	var e error = exitcode.WithCode(code, &out)
	for _, h := range hints {
		e = exitcode.WithHint(e, h)
	}
	return e
}

func grantedScopes(tok *oauth2.Token, asked []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Fields(s)
	}
	return asked
}

// describeGrant records provider details from the token response and
// callback: where the API is, and which org the grant is for (the
// connector's DescribeGrant hook), or the issuer as the org.
func (s *Service) describeGrant(ctx context.Context, e *Endpoints, res *oauthflow.Result, st *configstore.OAuthState) error {
	if h := e.hooks(); h.DescribeGrant != nil {
		tok := res.Token
		g, err := h.DescribeGrant(ctx, &connector.GrantInput{
			AccessToken: tok.AccessToken,
			TokenField:  func(k string) string { v, _ := tok.Extra(k).(string); return v },
			Callback:    res.Callback, Fields: e.Fields, Scopes: e.Scopes,
			Call: caller{s}, Prompt: s.Prompt,
		})
		if err != nil {
			return err
		}
		st.APIBase, st.Org = g.APIBase, g.Org
		for k, v := range g.Extra {
			st.Extra[k] = v
		}
	}
	if e.Issuer != "" && st.Org == "" {
		st.Org = e.Issuer
	}
	return nil
}

// caller makes the calls of the connectors' hooks (connector.Caller).
type caller struct{ s *Service }

func (c caller) GetJSON(ctx context.Context, u, auth string, out any) error {
	return c.s.getJSON(ctx, u, auth, out)
}

func (c caller) PostForm(ctx context.Context, u string, form url.Values, out any) error {
	return c.s.postForm(ctx, u, form, out)
}

// getJSON GETs url with an Authorization header and decodes the JSON answer.
func (s *Service) getJSON(ctx context.Context, u, auth string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		if re := safehttp.AsRedirect(err); re != nil {
			return &CallError{Kind: "server", Message: re.Error()}
		}
		return &CallError{Kind: "network", Message: "cannot reach " + hostOf(u) + ": " + shortErr(err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return &CallError{Kind: "unauthorized", Status: resp.StatusCode, Message: hostOf(u) + " rejected the credentials (HTTP 401)"}
	case resp.StatusCode == http.StatusForbidden && invalidToken(resp.Header, body):
		return &CallError{Kind: "unauthorized", Status: resp.StatusCode, Message: hostOf(u) + " rejected the access token (HTTP 403, invalid token)"}
	case resp.StatusCode == http.StatusForbidden:
		return &CallError{Kind: "forbidden", Status: resp.StatusCode, Message: hostOf(u) + " refused access (HTTP 403): the account or app lacks a permission or scope"}
	case resp.StatusCode == http.StatusTooManyRequests:
		return &CallError{Kind: "rate_limit", Status: resp.StatusCode, Message: hostOf(u) + " is rate limiting (HTTP 429): try again later"}
	case resp.StatusCode >= 500:
		return &CallError{Kind: "server", Status: resp.StatusCode, Message: fmt.Sprintf("%s answered HTTP %d (a server error): try again later", hostOf(u), resp.StatusCode)}
	case resp.StatusCode >= 300:
		return &CallError{Kind: "server", Status: resp.StatusCode, Message: fmt.Sprintf("%s answered HTTP %d", hostOf(u), resp.StatusCode)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &CallError{Kind: "server", Status: resp.StatusCode, Message: hostOf(u) + " answered with something that is not JSON"}
	}
	return nil
}

// invalidToken reports whether a 403 answer means the access token itself is
// bad rather than lacking a permission: RFC 6750's error="invalid_token" in
// WWW-Authenticate, or Salesforce's Bad_OAuth_Token, which its identity and
// userinfo endpoints answer with 403
// (https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_openid.htm).
func invalidToken(h http.Header, body []byte) bool {
	return strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) || bytes.Contains(body, []byte("Bad_OAuth_Token"))
}

// CallError is a failed call to a provider, typed for `connctl test`.
type CallError = connector.CallError

// httpClient is for who-am-I and userinfo calls: a redirect is followed
// only within the origin, so the access token never goes elsewhere, and
// the whole call is bounded (they are small).
func (s *Service) httpClient() *http.Client {
	return safehttp.Call(s.HTTP)
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return "the provider"
}

func shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timed out"
		}
		err = ue.Err
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}
