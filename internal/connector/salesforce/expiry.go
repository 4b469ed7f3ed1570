package salesforce

import (
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// salesforcePolicySource describes the connected app's refresh token
// policy, which each org sets (valid until revoked, or expiring after a
// time or after a time without use).
const salesforcePolicySource = "https://help.salesforce.com/s/articleView?id=sf.connected_app_manage_oauth.htm"

// expiry states Salesforce's rule with no date: the org's admin chooses the
// refresh token policy, which connctl cannot read.
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	if g.Auth != connector.AuthOAuth2 || !g.HasRefreshToken {
		return nil
	}
	return []connector.Forecast{{
		Rule:   "depends on the org's refresh token policy (the connected app's OAuth policies: valid until revoked, or expiring after a set time or time without use)",
		Source: salesforcePolicySource,
	}}
}
