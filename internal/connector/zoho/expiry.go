package zoho

import (
	"fmt"
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// zohoRefreshSource states Zoho's cap of 20 refresh tokens per user: when a
// 21st is made, the oldest is deleted.
const zohoRefreshSource = "https://www.zoho.com/crm/developer/docs/api/v8/refresh.html"

// expiry states Zoho's rule with no date: a refresh token does not expire,
// but a user's 21st refresh token deletes the oldest, and connctl cannot see
// how many the user has made elsewhere.
// RefreshTokenCap is how many refresh tokens Zoho keeps per user.
const RefreshTokenCap = 20

// grantCapWarning warns when the new grant is the 20th (or later) that
// connctl holds for the same client: if they are the same Zoho user's, the
// 21st deletes the oldest refresh token, and Zoho says nothing.
func grantCapWarning(held int, clientID string) string {
	switch {
	case held >= RefreshTokenCap:
		return fmt.Sprintf("connctl already holds %d Zoho grants for client %s, and Zoho keeps at most %d refresh tokens per user: if they are the same user's, this sign-in deletes the oldest one's refresh token (that connection will need `connctl reauthorize`; %s)",
			held, clientID, RefreshTokenCap, zohoRefreshSource)
	case held == RefreshTokenCap-1:
		return fmt.Sprintf("this is the %dth Zoho grant connctl holds for client %s: Zoho keeps at most %d refresh tokens per user, and the next one for the same user deletes the oldest (%s)",
			held+1, clientID, RefreshTokenCap, zohoRefreshSource)
	}
	return ""
}

func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	if g.Auth != connector.AuthOAuth2 || !g.HasRefreshToken {
		return nil
	}
	return []connector.Forecast{{
		Rule:   "Zoho keeps at most 20 refresh tokens per user: authorizing a 21st (here or in any other app) deletes the oldest; connctl warns at a sign-in that is the 20th or later grant it holds for the same client",
		Source: zohoRefreshSource,
	}}
}
