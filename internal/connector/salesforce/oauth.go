package salesforce

import (
	"context"
	"strings"

	"github.com/connctl/connctl/internal/connector"
)

// oauthHooks: the token response carries instance_url, the API base, and
// id, the identity URL that names the org
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_understanding_web_server_oauth_flow.htm).
func oauthHooks() *connector.OAuthHooks {
	return &connector.OAuthHooks{DescribeGrant: describeGrant}
}

func describeGrant(_ context.Context, in *connector.GrantInput) (*connector.GrantInfo, error) {
	g := &connector.GrantInfo{APIBase: in.TokenField("instance_url"), Extra: map[string]string{}}
	g.Extra["instance_url"] = g.APIBase
	if id := in.TokenField("id"); id != "" {
		g.Extra["id_url"] = id
		// https://login.salesforce.com/id/<org id>/<user id>
		if parts := strings.Split(strings.TrimSuffix(id, "/"), "/"); len(parts) >= 2 {
			g.Org = parts[len(parts)-2]
		}
	}
	return g, nil
}
