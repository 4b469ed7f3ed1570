package zendesk

import (
	"context"
	"net/http"
	"net/url"

	"github.com/connctl/connctl/internal/connector"
)

// oauthHooks: users/me answers an anonymous user (id null) with 200 when it
// does not accept the credentials
// (https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user).
func oauthHooks() *connector.OAuthHooks {
	return &connector.OAuthHooks{WhoAmI: whoAmI}
}

func whoAmI(ctx context.Context, call connector.Caller, req *connector.WhoAmIRequest) (map[string]any, error) {
	var doc map[string]any
	if err := call.GetJSON(ctx, req.URL, "Bearer "+req.AccessToken, &doc); err != nil {
		return nil, err
	}
	if user, ok := doc["user"].(map[string]any); !ok || user["id"] == nil {
		host := "the provider"
		if u, err := url.Parse(req.URL); err == nil && u.Host != "" {
			host = u.Host
		}
		return nil, &connector.CallError{Kind: "unauthorized", Status: http.StatusOK, Message: host + " answered as an anonymous user: it did not accept the access token"}
	}
	return doc, nil
}
