package authorization

import (
	"slices"

	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// addAuthParams adds the connection's auth_params to the connector's own
// authorization parameters (an empty value removes one), then asks for
// consent where OpenID Connect needs it for a refresh token.
//
// OpenID Connect Core §11: a provider honours offline_access only when the
// request carries prompt=consent, and otherwise drops it (oidc-provider does;
// Hydra and Google do not need it). A request is an OpenID request when its
// scopes hold openid, whatever the server's discovery document; so when such
// a request asks for offline_access and nothing chose a prompt,
// prompt=consent is sent. auth_params=prompt= stops it.
func (e *Endpoints) addAuthParams(raw string) error {
	extra, err := fieldkit.ParseAuthParams(raw)
	if err != nil {
		return err
	}
	_, promptChosen := extra["prompt"]
	for k, v := range extra {
		if v == "" {
			delete(e.AuthParams, k)
			continue
		}
		e.AuthParams[k] = v
	}
	if _, ok := e.AuthParams["prompt"]; !ok && !promptChosen && e.OpenID() && slices.Contains(e.Scopes, "offline_access") {
		e.AuthParams["prompt"] = "consent"
	}
	return nil
}

// OpenID reports whether e's authorization is an OpenID Connect request
// (its scopes hold openid).
func (e *Endpoints) OpenID() bool { return slices.Contains(e.Scopes, "openid") }
