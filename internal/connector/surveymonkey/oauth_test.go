package surveymonkey

import (
	"context"
	"testing"

	"github.com/connctl/connctl/internal/connector"
)

// The token response carries access_url, the API host of the account's
// data centre.
func TestGrantNamesTheDataCentre(t *testing.T) {
	t.Parallel()
	g, err := oauthHooks().DescribeGrant(context.Background(), &connector.GrantInput{TokenField: func(k string) string {
		return map[string]string{"access_url": "https://api.eu.surveymonkey.com"}[k]
	}})
	if err != nil || g.APIBase != "https://api.eu.surveymonkey.com" || g.Extra["access_url"] != g.APIBase || g.Org != "" {
		t.Fatalf("got %+v, %v", g, err)
	}
}
