package connector

import (
	"context"
	"net/url"
)

// OAuthHooks are where a connector departs from plain OAuth 2.0: the
// vendor's own code for what a catalogue entry cannot declare. Every hook
// is optional; a nil hook means the standard behaviour. Packages
// authorization and oauthflow call these hooks and know no vendor by name,
// so a connector's OAuth quirks live in its own package, beside its
// catalogue entry.
type OAuthHooks struct {
	// TokenURLFromCallback picks the token endpoint from the authorization
	// callback's parameters (Zoho names the user's data centre there).
	// tokenURL is the resolved endpoint; "" keeps it. An error refuses the
	// callback, and the code is sent nowhere.
	TokenURLFromCallback func(tokenURL string, callback url.Values) (string, error)

	// DescribeGrant reads, once the code is exchanged, where the API is and
	// which org the grant is for (from the token response, the callback or
	// a call of the vendor's). An error fails the authorization and the
	// new grant is revoked.
	DescribeGrant func(ctx context.Context, in *GrantInput) (*GrantInfo, error)

	// GrantEndpoints overrides the token and revocation endpoints of an
	// authorized connection from what its grant recorded (GrantInfo.Extra);
	// "" keeps the resolved one, and an endpoint the user set wins.
	GrantEndpoints func(grant map[string]string) (tokenURL, revokeURL string)

	// WhoAmI asks who the access token belongs to, instead of a GET of the
	// who-am-I URL with a Bearer token. It returns the decoded answer, from
	// which the account, subject and org are picked as from any other; a
	// token the vendor rejects is a *CallError of kind unauthorized or
	// revoked.
	WhoAmI func(ctx context.Context, call Caller, req *WhoAmIRequest) (map[string]any, error)

	// InvalidGrantCodes are the token endpoint's own error codes for a
	// refresh token or code it rejects, besides RFC 6749's invalid_grant.
	InvalidGrantCodes []string

	// GrantCapWarning warns before a new grant when the vendor caps how
	// many refresh tokens a user may hold: held is how many grants with a
	// refresh token connctl already holds for the same client ID (other
	// connections of the connector). "" says nothing; a warning is printed
	// on one line of stderr and the authorization goes on.
	GrantCapWarning func(held int, clientID string) string

	// RevokeEnded reports whether a refused revocation (HTTP status and
	// OAuth error code, "" when none) means that the vendor had already
	// ended the grant. 400 invalid_token always means so.
	RevokeEnded func(status int, code string) bool
}

// GrantInput is what DescribeGrant may read.
type GrantInput struct {
	AccessToken string
	// TokenField is a string member of the token response (e.g.
	// instance_url), "" when absent.
	TokenField func(name string) string
	Callback   url.Values        // callback parameters other than code and state
	Fields     map[string]string // the connection's effective fields
	Scopes     []string          // the scopes asked for, placeholders filled
	Call       Caller
	// Prompt asks the user to choose among options; nil when connctl is
	// not interactive.
	Prompt func(question string, options []string) (int, error)
}

// GrantInfo describes a grant. Extra is stored with it (in the config, so
// no secrets) and fills the {name} placeholders of later endpoint URLs.
type GrantInfo struct {
	APIBase string
	Org     string
	Extra   map[string]string
}

// WhoAmIRequest is what WhoAmI may use.
type WhoAmIRequest struct {
	URL          string // the who-am-I endpoint, placeholders filled
	AccessToken  string
	ClientID     string
	ClientSecret string
}

// Caller makes the calls hooks need, with the rules every call to a
// provider follows: bounded answers, no credential sent to another origin,
// a refusal as a *CallError whose message names the host. Package
// authorization implements it.
type Caller interface {
	// GetJSON GETs u with the Authorization header auth (a redirect is
	// followed only within the origin) and decodes the JSON answer into
	// out.
	GetJSON(ctx context.Context, u, auth string, out any) error
	// PostForm POSTs form, which may carry the client secret or a token
	// (no redirect is followed), and decodes the JSON answer into out.
	PostForm(ctx context.Context, u string, form url.Values, out any) error
}

// CallError is a failed call to a provider, typed for `connctl test`.
type CallError struct {
	Kind    string // unauthorized, forbidden, revoked, network, server, rate_limit
	Status  int
	Message string
}

func (e *CallError) Error() string { return e.Message }

// CallKind is Kind, for packages that cannot name this type (jobrunner,
// which sorts a run's failures the same way).
func (e *CallError) CallKind() string { return e.Kind }
