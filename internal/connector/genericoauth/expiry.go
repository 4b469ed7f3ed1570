package genericoauth

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// RefreshTokenIdleField records how long the authorization server lets a
// refresh token go unused (its inactivity window), which a generic server
// does not publish in a way connctl can read. Empty: no such window.
const RefreshTokenIdleField = "refresh_token_idle"

// Sources of the rules: the user's own settings, as recorded in the
// connection, since a generic server's rules are its operator's.
const (
	idleSource   = "the connection's refresh_token_idle field (the server's inactivity window)"
	secretSource = "the connection's client_secret_expires_at field"
)

// expiry forecasts a generic grant from what the user recorded: the end of
// the refresh token's inactivity window (refresh_token_idle after its last
// use) and the client secret's expiry date (client_secret_expires_at).
func expiry(g connector.GrantFacts, _ time.Time) []connector.Forecast {
	idle, _ := ParseIdle(g.Fields[RefreshTokenIdleField])
	var out []connector.Forecast
	if idle > 0 || g.Describe {
		out = connector.InactivityForecast(g, idle,
			fmt.Sprintf("the server ends refresh tokens unused for %s (refresh_token_idle); any refresh (connctl status --refresh, test or a job run) starts it again", showIdle(idle)),
			idleSource)
		if g.Describe {
			out[0].Rule = "with refresh_token_idle set: the server ends refresh tokens unused for that long; any refresh (connctl status --refresh, test or a job run) starts it again"
		}
	}
	return append(out, connector.ClientSecretForecast(g,
		"the client secret expires on the date recorded in client_secret_expires_at: get a new one, `connctl edit --secret-stdin` it and update the date",
		secretSource)...)
}

// ParseIdle reads refresh_token_idle: whole days (30d) or a Go duration
// (720h); "" is zero.
func ParseIdle(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days > 0 && days <= 100000 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%s %q is not a positive duration: write it as 30d or 720h", RefreshTokenIdleField, v)
}

func validateIdle(v string) error {
	_, err := ParseIdle(v)
	return err
}

// showIdle writes d in days when it is whole days.
func showIdle(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
