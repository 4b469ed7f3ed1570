package bigquery

import (
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// googleExpirySource states that a refresh token not used for six months
// stops working (and the other ways one ends).
const googleExpirySource = "https://developers.google.com/identity/protocols/oauth2#expiration"

// AppStatusField records the publishing status of the OAuth consent
// screen of the user's Google app (production or testing), which connctl
// cannot read from Google.
const AppStatusField = "app_status"

const (
	idleRule    = "Google ends refresh tokens not used for six months; any refresh (connctl test, status or a job run) keeps it alive"
	testingRule = "the app's OAuth consent screen is in Testing (app_status=testing): Google ends its refresh tokens 7 days after sign-in, whatever their use; publish the app to production, or `connctl reauthorize` weekly"
)

// expiry forecasts the end of an OAuth grant: Google ends a refresh token
// that has not been used for six months, and, for an app whose consent
// screen is in "Testing" (external users), one 7 days after it was issued
// (same page). Service-account keys do not expire by Google's default and
// get no forecast here.
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	if g.Describe {
		return []connector.Forecast{{Rule: idleRule, Source: googleExpirySource}, {Rule: testingRule, Source: googleExpirySource}}
	}
	if g.Auth != connector.AuthOAuth2 || !g.HasRefreshToken {
		return nil
	}
	last := g.RefreshTokenLastUsed()
	if last.IsZero() {
		return nil
	}
	out := []connector.Forecast{{At: last.AddDate(0, 6, 0), Rule: idleRule, Source: googleExpirySource, KeepAlive: true}}
	if g.Fields[AppStatusField] == "testing" && !g.AuthorizedAt.IsZero() {
		out = append(out, connector.Forecast{At: g.AuthorizedAt.Add(7 * 24 * time.Hour), Rule: testingRule, Source: googleExpirySource})
	}
	return out
}
