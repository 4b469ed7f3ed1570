package zoho

import (
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// zohoRefreshSource states Zoho's cap of 20 refresh tokens per user: when a
// 21st is made, the oldest is deleted.
const zohoRefreshSource = "https://www.zoho.com/crm/developer/docs/api/v8/refresh.html"

// expiry states Zoho's rule with no date: a refresh token does not expire,
// but a user's 21st refresh token deletes the oldest, and connctl cannot see
// how many the user has made elsewhere.
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	if g.Auth != connector.AuthOAuth2 || !g.HasRefreshToken {
		return nil
	}
	return []connector.Forecast{{
		Rule:   "Zoho keeps at most 20 refresh tokens per user: authorizing a 21st (here or in any other app) deletes the oldest",
		Source: zohoRefreshSource,
	}}
}
