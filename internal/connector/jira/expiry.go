package jira

import (
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// atlassianRefreshSource states that Atlassian's rotating refresh tokens
// expire after 90 days of inactivity.
const atlassianRefreshSource = "https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens/"

// expiry forecasts the end of an OAuth (3LO) grant: Atlassian rotates the
// refresh token on every use, and one not used for 90 days expires. API
// tokens get the generic key-age warning of `connctl status`.
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	return connector.InactivityForecast(g, 90*24*time.Hour,
		"Atlassian's rotating refresh tokens expire after 90 days without use; any refresh (connctl test, status or a job run) starts the 90 days again",
		atlassianRefreshSource)
}
