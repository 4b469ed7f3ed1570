package bigquery

import (
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// googleExpirySource states that a refresh token not used for six months
// stops working (and the other ways one ends).
const googleExpirySource = "https://developers.google.com/identity/protocols/oauth2#expiration"

// expiry forecasts the end of an OAuth grant: Google ends a refresh token
// that has not been used for six months. Service-account keys do not
// expire by Google's default and get no forecast here.
//
// Not forecast: apps whose OAuth consent screen is in "Testing" get refresh
// tokens that end after 7 days (same page); connctl does not know an app's
// publishing status.
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	if g.Auth != connector.AuthOAuth2 || !g.HasRefreshToken {
		return nil
	}
	last := g.RefreshTokenLastUsed()
	if last.IsZero() {
		return nil
	}
	return []connector.Forecast{{
		At:     last.AddDate(0, 6, 0),
		Rule:   "Google ends refresh tokens not used for six months; any refresh (connctl test, status or a job run) keeps it alive",
		Source: googleExpirySource,
	}}
}
