package all_test

import (
	"slices"
	"testing"

	"github.com/connctl/connctl/internal/connector/all"
)

// One vocabulary: connectors lists the method ids create takes, and the
// kinds it used to show (basic, api_key) stay accepted as hidden aliases.
func TestAuthVocabulary(t *testing.T) {
	t.Parallel()
	cat := all.Catalogue()
	for _, tc := range []struct{ connector, typed, want string }{
		{"jira", "basic", "api_token"},
		{"zendesk", "basic", "api_token"},
		{"hubspot", "api_key", "private_app"},
		{"surveymonkey", "API_KEY", "private_app"},
		{"mixpanel", "api_secret", "api_secret"},
		{"mixpanel", "", "service_account"},
	} {
		c, _ := cat.Lookup(tc.connector)
		m, err := c.Auth(tc.typed)
		if err != nil || m.ID != tc.want {
			t.Errorf("%s --auth %q = %v, %v; want %s", tc.connector, tc.typed, m, err, tc.want)
		}
	}
	for _, c := range cat.All() {
		ids := c.AuthIDs()
		for _, m := range c.Auths {
			for _, a := range m.Aliases {
				if slices.Contains(ids, a) {
					t.Errorf("%s: alias %s of %s is another method's id", c.ID, a, m.ID)
				}
			}
		}
	}
}
