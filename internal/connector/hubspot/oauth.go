package hubspot

import (
	"context"
	"net/url"

	"github.com/connctl/connctl/internal/connector"
)

// oauthHooks: who-am-I is token introspection, a POST form of the client's
// credentials and the token, which answers active: false for a token that
// has ended.
func oauthHooks() *connector.OAuthHooks {
	return &connector.OAuthHooks{WhoAmI: whoAmI}
}

func whoAmI(ctx context.Context, call connector.Caller, req *connector.WhoAmIRequest) (map[string]any, error) {
	var doc map[string]any
	form := url.Values{"client_id": {req.ClientID}, "client_secret": {req.ClientSecret}, "token": {req.AccessToken}, "token_type_hint": {"access_token"}}
	if err := call.PostForm(ctx, req.URL, form, &doc); err != nil {
		return nil, err
	}
	if active, ok := doc["active"].(bool); ok && !active {
		return nil, &connector.CallError{Kind: "revoked", Message: "HubSpot says the token is not active"}
	}
	return doc, nil
}
