package dynamics

import (
	"context"
	"testing"

	"github.com/connctl/connctl/internal/connector"
)

// The first scope names the environment: it is the API host and the org.
func TestGrantIsForTheScopesEnvironment(t *testing.T) {
	t.Parallel()
	g, err := oauthHooks().DescribeGrant(context.Background(), &connector.GrantInput{Scopes: []string{"https://acme.crm.dynamics.com/.default", "offline_access"}})
	if err != nil || g.APIBase != "https://acme.crm.dynamics.com" || g.Org != g.APIBase {
		t.Fatalf("got %+v, %v", g, err)
	}
}
