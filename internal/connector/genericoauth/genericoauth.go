// Package genericoauth describes the generic OAuth 2.0 / OpenID Connect
// connector (id oauth2): any authorization server, configured from RFC 8414 /
// OIDC discovery or from explicit endpoint URLs. It holds the catalogue entry
// only and never talks to the network.
package genericoauth

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// DefaultScopes is the scopes field's default.
const DefaultScopes = "openid offline_access"

// Connector returns the catalogue entry for the generic OAuth 2.0 connector.
func Connector() *connector.Connector {
	endpoint := func(name, label, help, example string) connector.Field {
		return connector.Field{Name: name, Label: label, Help: help, Example: example, Validate: fieldkit.URL(name, example)}
	}
	return &connector.Connector{
		ID:       "oauth2",
		Expiry:   expiry,
		Name:     "Generic OAuth 2.0 / OpenID Connect",
		Aliases:  []string{"generic-oauth2", "oidc"},
		Category: connector.CategoryGeneric,
		Multiple: true,
		Fields: []connector.Field{
			fieldkit.BaseURL("API base that the http source's paths are relative to", "https://api.example.com"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "OAuth 2.0 (browser sign-in)",
			Fields: []connector.Field{
				endpoint("issuer", "Issuer", "issuer URL for discovery (RFC 8414 or OpenID Connect); fills the endpoint URLs left empty", "https://accounts.example.com"),
				endpoint("auth_url", "Authorization endpoint", "authorization endpoint; needed when there is no issuer", "https://accounts.example.com/oauth2/authorize"),
				endpoint("token_url", "Token endpoint", "token endpoint; needed when there is no issuer", "https://accounts.example.com/oauth2/token"),
				endpoint("revoke_url", "Revocation endpoint", "RFC 7009 revocation endpoint; empty: revoke deletes local tokens only", "https://accounts.example.com/oauth2/revoke"),
				endpoint("userinfo_url", "Userinfo endpoint", "who-am-I endpoint used by connctl test (OIDC userinfo)", "https://accounts.example.com/userinfo"),
				fieldkit.ClientID("client ID registered with the authorization server"),
				fieldkit.ClientSecret("optional", "client secret; leave empty for a public client (PKCE)"),
				{
					Name:    "scopes",
					Label:   "Scopes",
					Help:    "space-separated scopes to request",
					Default: DefaultScopes,
					Example: "openid email offline_access",
				},
				{
					Name:     "redirect_uri",
					Label:    "Redirect URI",
					Help:     "exact loopback redirect registered with the server; empty: http://127.0.0.1 on any port (RFC 8252)",
					Example:  "http://127.0.0.1:8976/callback",
					Validate: validateRedirect,
				},
				fieldkit.AuthParams(),
				fieldkit.Enum(connector.Field{
					Name:    "token_auth_style",
					Label:   "Token endpoint auth",
					Help:    "how the client authenticates at the token endpoint: params (client_secret_post) or header (client_secret_basic)",
					Default: "params",
					Enum:    []string{"params", "header"},
				}),
				{
					Name:     RefreshTokenIdleField,
					Label:    "Refresh token idle limit",
					Help:     "how long the server lets a refresh token go unused before it ends (e.g. 30d, 720h), if it has such a window; connctl status forecasts it and status --refresh keeps the grant alive",
					Example:  "30d",
					Validate: validateIdle,
				},
				fieldkit.ClientSecretExpiresAt("when the client secret expires, if it does (e.g. Microsoft Entra); connctl status warns before it does"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:      "{auth_url}",
				TokenURL:     "{token_url}",
				RevokeURL:    "{revoke_url}",
				RevokeStyle:  "rfc7009",
				UserinfoURL:  "{userinfo_url}",
				Scopes:       strings.Fields(DefaultScopes),
				AuthStyle:    "params",
				PKCE:         true,
				RedirectURI:  "",
				ClientSecret: "optional",
				Quirks: []string{
					"every endpoint comes from a field; with issuer set, discovery fills the empty ones: try {host}/.well-known/oauth-authorization-server{path} (RFC 8414) and {issuer}/.well-known/openid-configuration, and check the document's issuer",
					"either issuer or both auth_url and token_url must be given",
					"the scopes field (space-separated) replaces Scopes; token_auth_style replaces AuthStyle; redirect_uri replaces RedirectURI",
					"an empty revoke_url or userinfo_url means the server has none",
					"send PKCE S256 even when discovery omits code_challenge_methods_supported (Microsoft Entra does, yet supports it)",
					"an OpenID request (scopes hold openid) that asks for offline_access also sends prompt=consent: OpenID Connect Core §11 grants offline access only then (auth_params=prompt= stops it)",
					"auth_params adds authorization parameters (Google's access_type=offline, audience=...); it cannot replace client_id, redirect_uri, state, PKCE, nonce, response_type or scope",
					"with openid in scopes, a nonce is sent and an id_token that comes back is checked (signature against the discovered JWKS, iss, aud, exp, nonce); its email or sub names the account",
				},
			},
			HowTo: "Register a client with your authorization server: a native or public client with the\n" +
				"authorization_code and refresh_token grants and the redirect URI http://127.0.0.1 (any port,\n" +
				"RFC 8252), or an exact loopback URI that you also set as redirect_uri. Set issuer for discovery,\n" +
				"or auth_url and token_url. Set client_id, client_secret for a confidential client, and\n" +
				"token_auth_style=header if the server wants client_secret_basic.",
		}},
		Sources: []connector.Source{
			{
				Name:             "http",
				New:              HTTPSource,
				Help:             "the JSON a GET returns, authorized with the connection's token",
				IncrementalParam: "incremental_field",
				Params: []connector.Field{
					{Name: "path", Label: "Path", Help: "path relative to base_url (may hold a query), or a full URL on base_url's host", Required: true, Example: "/v1/items"},
					{Name: "records", Label: "Records pointer", Help: "RFC 6901 JSON pointer to the array of records; empty: the whole body is the array", Example: "/data/items"},
					{Name: "next", Label: "Next page", Help: "link (Link rel=\"next\" header, the default), cursor:<pointer> (cursor value sent back as cursor_param), url:<pointer> (next URL in the body, same host only), or none", Example: "cursor:/meta/next_cursor"},
					{Name: "cursor_param", Label: "Cursor parameter", Help: "query parameter a cursor:<pointer> next page sends the cursor in (default cursor)", Example: "after"},
					{Name: "incremental_field", Label: "Incremental field", Help: "record field (name, or a /pointer into the record) holding RFC 3339 or epoch time; its largest value becomes the checkpoint", Example: "updated_at"},
					{Name: "since_param", Label: "Since parameter", Help: "query parameter the checkpoint is sent in on the first request (needs incremental_field)", Example: "updated_since"},
					{Name: "page_size_param", Label: "Page size parameter", Help: "query parameter for the page size (set with page_size)", Example: "per_page"},
					{Name: "page_size", Label: "Page size", Help: "records per page, sent as page_size_param", Example: "100"},
				},
			},
		},
		DocsURL: "https://www.rfc-editor.org/rfc/rfc8414",
		Assumptions: "paging and the since parameter are what the job describes; whether the API treats since as " +
			"inclusive is up to the API. A job is incremental when it sets incremental_field.",
	}
}

// validateRedirect accepts an http URL on a loopback host, where connctl's
// listener can receive the redirect.
func validateRedirect(v string) error {
	u, err := url.Parse(v)
	if err == nil && u.Scheme == "http" && u.User == nil && u.Fragment == "" {
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	shown := v
	if err == nil {
		shown = u.Redacted()
	}
	return fmt.Errorf("redirect_uri %q is not a loopback URL: use http://127.0.0.1:PORT/PATH or http://localhost:PORT/PATH, as registered with the server", shown)
}
