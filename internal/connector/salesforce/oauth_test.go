package salesforce

import (
	"context"
	"testing"

	"github.com/connctl/connctl/internal/connector"
)

// The token response carries instance_url (the API base) and id, the
// identity URL https://login.salesforce.com/id/<org id>/<user id>.
func TestGrantNamesInstanceAndOrg(t *testing.T) {
	t.Parallel()
	tok := map[string]string{"instance_url": "https://acme.my.salesforce.com", "id": "https://login.salesforce.com/id/00Dorg1/005user1"}
	g, err := oauthHooks().DescribeGrant(context.Background(), &connector.GrantInput{TokenField: func(k string) string { return tok[k] }})
	if err != nil || g.APIBase != tok["instance_url"] || g.Org != "00Dorg1" || g.Extra["id_url"] != tok["id"] || g.Extra["instance_url"] != tok["instance_url"] {
		t.Fatalf("got %+v, %v", g, err)
	}
}
