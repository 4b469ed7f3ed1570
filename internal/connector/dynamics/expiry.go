package dynamics

import (
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// entraRefreshSource states the 90-day default lifetime of Microsoft
// identity platform refresh tokens, which replace themselves on every use.
const entraRefreshSource = "https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens#token-lifetime"

// expiry forecasts the end of an OAuth grant: a Microsoft Entra refresh
// token lives 90 days and is replaced by a fresh one on every use, so it
// ends 90 days after its last use.
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	return connector.InactivityForecast(g, 90*24*time.Hour,
		"Microsoft Entra refresh tokens end 90 days after they were issued and are replaced on every use; any refresh (connctl test, status or a job run) starts the 90 days again",
		entraRefreshSource)
}
