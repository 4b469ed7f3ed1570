package dynamics

import (
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// entraRefreshSource states the 90-day default lifetime of Microsoft
// identity platform refresh tokens, which replace themselves on every use.
const entraRefreshSource = "https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens#token-lifetime"

// EntraSecretSource states that Microsoft Entra client secrets expire on
// a date set when they are added, and must be rotated by hand.
const EntraSecretSource = "https://learn.microsoft.com/en-us/entra/msidweb/authentication/client-secrets"

// EntraSecretRule is the forecast rule of a client secret recorded to
// expire (client_secret_expires_at).
const EntraSecretRule = "the Microsoft Entra client secret expires on the date recorded in client_secret_expires_at: add a new secret to the app registration, then `connctl edit --secret-stdin` it and update the date"

// expiry forecasts the end of an OAuth grant: a Microsoft Entra refresh
// token lives 90 days and is replaced by a fresh one on every use, so it
// ends 90 days after its last use; and a client secret recorded to expire
// (client_secret_expires_at) ends the grant on that date.
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	out := connector.InactivityForecast(g, 90*24*time.Hour,
		"Microsoft Entra refresh tokens end 90 days after they were issued and are replaced on every use; any refresh (connctl test, status or a job run) starts the 90 days again",
		entraRefreshSource)
	return append(out, connector.ClientSecretForecast(g, EntraSecretRule, EntraSecretSource)...)
}
