package oauthflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/connctl/connctl/internal/safehttp"
	"github.com/connctl/connctl/internal/textsafe"
)

// Client identifies the app at the token and revocation endpoints.
type Client struct {
	ID        string
	Secret    string
	TokenURL  string
	AuthStyle AuthStyle
	Scopes    []string
	HTTP      *http.Client
}

// ctx carries the client x/oauth2 sends token requests with: c.HTTP (or a
// default client) that never follows a redirect, since a 307 or 308 would
// send the client secret and the refresh token on to wherever it points.
func (c Client) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, safehttp.NoRedirects(c.HTTP, "token endpoint"))
}

// Refresh exchanges refreshToken for new tokens. When the server omits a new
// refresh token the old one is kept in the result (x/oauth2's behaviour).
func Refresh(ctx context.Context, c Client, refreshToken string) (*oauth2.Token, error) {
	oc := &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthStyle: c.AuthStyle.oauth2()}}
	return oc.TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// RevokeStyle is a provider's revocation request shape.
type RevokeStyle string

// Revocation shapes.
const (
	RevokeRFC7009      RevokeStyle = "rfc7009"        // POST form token + token_type_hint, client auth as at the token endpoint
	RevokeQuery        RevokeStyle = "query"          // POST ?token= (Google, Zoho)
	RevokeDelete       RevokeStyle = "delete"         // DELETE with the access token as Bearer (Zendesk)
	RevokeClientInForm RevokeStyle = "client_in_form" // POST form client_id, client_secret, token, token_type_hint (HubSpot)
)

// Revoke asks the provider to revoke token (RFC 7009 §2.1 or the provider's
// own shape). A 200 means revoked or already invalid (RFC 7009 §2.2).
func Revoke(ctx context.Context, c Client, endpoint string, style RevokeStyle, token, hint string) error {
	var req *http.Request
	var err error
	switch style {
	case RevokeQuery:
		u, perr := url.Parse(endpoint)
		if perr != nil {
			return fmt.Errorf("revocation endpoint %q: %w", endpoint, perr)
		}
		q := u.Query()
		q.Set("token", token)
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case RevokeDelete:
		req, err = http.NewRequestWithContext(ctx, http.MethodDelete, endpoint, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	default:
		form := url.Values{"token": {token}}
		if hint != "" {
			form.Set("token_type_hint", hint)
		}
		inHeader := style != RevokeClientInForm && c.AuthStyle == AuthInHeader
		if !inHeader {
			form.Set("client_id", c.ID)
			if c.Secret != "" {
				form.Set("client_secret", c.Secret)
			}
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if inHeader {
				req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
			}
		}
	}
	if err != nil {
		return fmt.Errorf("build revocation request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := safehttp.NoRedirects(c.HTTP, "revocation endpoint").Do(req)
	if err != nil {
		if re := safehttp.AsRedirect(err); re != nil {
			return re
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("cannot reach the revocation endpoint: %s", shortNetErr(ue.Err))
		}
		return fmt.Errorf("cannot reach the revocation endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg := fmt.Sprintf("the provider refused the revocation: %s", textsafe.Sanitize(e.Error))
		if e.Description != "" {
			msg += ": " + oneLine(e.Description, 200)
		}
		return &RevokeError{Status: resp.StatusCode, Code: e.Error, msg: msg}
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		return &RevokeError{Status: resp.StatusCode, msg: "the revocation endpoint is unavailable (HTTP 503): the token may still be valid; try again later"}
	}
	return &RevokeError{Status: resp.StatusCode, msg: fmt.Sprintf("the revocation endpoint answered HTTP %d", resp.StatusCode)}
}

// RevokeError is a revocation the provider answered with an error status.
type RevokeError struct {
	Status int    // the HTTP status
	Code   string // the OAuth error code of the answer, if any (invalid_token...)
	msg    string
}

func (e *RevokeError) Error() string { return e.msg }

// Metadata is what connctl reads from RFC 8414 / OpenID discovery.
type Metadata struct {
	Issuer                          string   `json:"issuer"`
	AuthorizationEndpoint           string   `json:"authorization_endpoint"`
	TokenEndpoint                   string   `json:"token_endpoint"`
	RevocationEndpoint              string   `json:"revocation_endpoint"`
	UserinfoEndpoint                string   `json:"userinfo_endpoint"`
	IntrospectionEndpoint           string   `json:"introspection_endpoint"`
	CodeChallengeMethodsSupported   []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethods        []string `json:"token_endpoint_auth_methods_supported"`
	AuthorizationResponseIssSupport bool     `json:"authorization_response_iss_parameter_supported"`
	JWKSURI                         string   `json:"jwks_uri"`
	IDTokenSigningAlgs              []string `json:"id_token_signing_alg_values_supported"`
}

// Discover fetches the issuer's metadata: OpenID discovery
// ({issuer}/.well-known/openid-configuration), then RFC 8414
// (/.well-known/oauth-authorization-server{path}). The document's issuer
// must equal the one asked for (RFC 8414 §3.3).
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	issuer = strings.TrimSuffix(issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("issuer %q is not a URL", issuer)
	}
	candidates := []string{
		issuer + "/.well-known/openid-configuration",
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + u.Path,
	}
	hc = safehttp.Call(hc) // a small document: the whole request is bounded
	var lastErr error
	for _, c := range candidates {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			lastErr = fmt.Errorf("cannot reach %s: %v", c, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			lastErr = fmt.Errorf("%s answered HTTP %d", c, resp.StatusCode)
			continue
		}
		var m Metadata
		if err := json.Unmarshal(body, &m); err != nil {
			lastErr = fmt.Errorf("%s is not a discovery document: %v", c, err)
			continue
		}
		if strings.TrimSuffix(m.Issuer, "/") != issuer {
			return nil, fmt.Errorf("discovery at %s names issuer %q, not %q: refusing it (RFC 8414 §3.3)", c, m.Issuer, issuer)
		}
		if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
			return nil, fmt.Errorf("discovery at %s lacks the authorization or token endpoint", c)
		}
		// Discovered endpoints obey the rule configured ones do
		// (fieldkit.URL): https, or http on a loopback host only.
		for _, ep := range []struct{ what, url string }{
			{"authorization endpoint", m.AuthorizationEndpoint},
			{"token endpoint", m.TokenEndpoint},
			{"revocation endpoint", m.RevocationEndpoint},
			{"userinfo endpoint", m.UserinfoEndpoint},
			{"introspection endpoint", m.IntrospectionEndpoint},
		} {
			if ep.url == "" {
				continue
			}
			if err := safehttp.CheckEndpoint(ep.what, ep.url); err != nil {
				return nil, fmt.Errorf("discovery at %s: %v: refusing it", c, err)
			}
		}
		return &m, nil
	}
	return nil, fmt.Errorf("no discovery document for issuer %s: %v", issuer, lastErr)
}
