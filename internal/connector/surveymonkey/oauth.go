package surveymonkey

import (
	"context"

	"github.com/connctl/connctl/internal/connector"
)

// oauthHooks: the token response carries access_url, the API host of the
// account's data centre (https://api.surveymonkey.com/v3/docs, "Data
// centers").
func oauthHooks() *connector.OAuthHooks {
	return &connector.OAuthHooks{DescribeGrant: describeGrant}
}

func describeGrant(_ context.Context, in *connector.GrantInput) (*connector.GrantInfo, error) {
	base := in.TokenField("access_url")
	return &connector.GrantInfo{APIBase: base, Extra: map[string]string{"access_url": base}}, nil
}
