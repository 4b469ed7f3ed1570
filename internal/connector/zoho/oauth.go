package zoho

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/connctl/connctl/internal/connector"
)

// oauthHooks are Zoho's departures from plain OAuth: the user's data centre
// (https://www.zoho.com/accounts/protocol/oauth/multi-dc.html), its own
// Authorization scheme, its invalid_code and its bare 400 on revoke.
func oauthHooks() *connector.OAuthHooks {
	return &connector.OAuthHooks{
		TokenURLFromCallback: tokenURLFromCallback,
		DescribeGrant:        describeGrant,
		GrantEndpoints:       grantEndpoints,
		WhoAmI:               whoAmI,
		GrantCapWarning:      grantCapWarning,
		// Zoho's accounts server answers a revoked or expired refresh token
		// with invalid_code (sometimes with HTTP 200).
		InvalidGrantCodes: []string{"invalid_code"},
		// Zoho answers an invalid refresh token with a bare HTTP 400.
		// https://www.zoho.com/accounts/protocol/oauth/revoke-refresh-token.html
		RevokeEnded: func(status int, _ string) bool { return status == 400 },
	}
}

// tokenURLFromCallback exchanges the code at the data centre named in the
// callback's accounts-server, when it is a Zoho accounts server (or the
// configured one, e.g. a test server).
func tokenURLFromCallback(configured string, q url.Values) (string, error) {
	as := q.Get("accounts-server")
	if as == "" {
		return "", nil
	}
	u, err := url.Parse(as)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the callback's accounts-server %q is not a URL", as)
	}
	cu, _ := url.Parse(configured)
	if !isZohoAccountsServer(u) && (cu == nil || !strings.EqualFold(cu.Host, u.Host) || !strings.EqualFold(cu.Scheme, u.Scheme) || u.User != nil) {
		return "", fmt.Errorf("the callback's accounts-server %q is not a Zoho accounts server: refusing to send the code there", as)
	}
	return strings.TrimSuffix(as, "/") + "/oauth/v2/token", nil
}

// zohoAccountsHosts are Zoho's data centres' accounts servers
// (https://www.zoho.com/accounts/protocol/oauth/multi-dc.html): the only
// hosts, besides the configured one, that the code and the client secret
// may be sent to. An exact list, not a pattern: "accounts.zoho.eu.evil.example"
// contains ".zoho." too.
var zohoAccountsHosts = map[string]bool{
	"accounts.zoho.com": true, "accounts.zoho.eu": true, "accounts.zoho.in": true,
	"accounts.zoho.com.au": true, "accounts.zoho.com.cn": true, "accounts.zoho.jp": true,
	"accounts.zoho.sa": true, "accounts.zoho.uk": true, "accounts.zohocloud.ca": true,
}

// isZohoAccountsServer: https, one of the data centres' hosts, the default
// port, no user info.
func isZohoAccountsServer(u *url.URL) bool {
	return u.Scheme == "https" && u.User == nil && (u.Port() == "" || u.Port() == "443") &&
		zohoAccountsHosts[strings.ToLower(u.Hostname())]
}

// describeGrant keeps the data centre the callback named and the api_domain
// of the token response, the base of every data call.
func describeGrant(_ context.Context, in *connector.GrantInput) (*connector.GrantInfo, error) {
	g := &connector.GrantInfo{Extra: map[string]string{}}
	if as := in.Callback.Get("accounts-server"); as != "" {
		g.Extra["accounts_server"] = as
	}
	if loc := in.Callback.Get("location"); loc != "" {
		g.Extra["location"] = loc
	}
	g.APIBase = in.TokenField("api_domain")
	g.Extra["api_domain"] = g.APIBase
	return g, nil
}

// grantEndpoints: the user's data centre, which the callback named at
// sign-in (and was checked then), serves the later token and revocation
// calls too, whatever accounts_server the sign-in started at.
func grantEndpoints(grant map[string]string) (tokenURL, revokeURL string) {
	if grant["accounts_server"] == "" {
		return "", ""
	}
	as := strings.TrimSuffix(grant["accounts_server"], "/")
	return as + "/oauth/v2/token", as + "/oauth/v2/token/revoke"
}

// whoAmI: API calls use the header Authorization: Zoho-oauthtoken {token}.
func whoAmI(ctx context.Context, call connector.Caller, req *connector.WhoAmIRequest) (map[string]any, error) {
	var doc map[string]any
	if err := call.GetJSON(ctx, req.URL, "Zoho-oauthtoken "+req.AccessToken, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}
