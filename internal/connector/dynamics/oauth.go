package dynamics

import (
	"context"
	"strings"

	"github.com/connctl/connctl/internal/connector"
)

// oauthHooks: the first scope names the environment ({org_url}/.default),
// which is both the API host and the org the grant is for.
func oauthHooks() *connector.OAuthHooks {
	return &connector.OAuthHooks{DescribeGrant: describeGrant}
}

func describeGrant(_ context.Context, in *connector.GrantInput) (*connector.GrantInfo, error) {
	base := strings.TrimSuffix(in.Scopes[0], "/.default")
	return &connector.GrantInfo{APIBase: base, Org: base}, nil
}
