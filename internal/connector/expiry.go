package connector

import (
	"fmt"
	"strings"
	"time"
)

// GrantFacts is what connctl knows about a connection's credentials, for
// a connector's Expiry rule. Zero times are unknown.
type GrantFacts struct {
	Auth AuthKind // the kind of the connection's auth method
	// AuthorizedAt is when the credentials were saved or the OAuth grant
	// made (create, authorize, reauthorize, a new secret with edit).
	AuthorizedAt time.Time
	// RefreshedAt is when the OAuth tokens were last refreshed, which is
	// also when the refresh token was last used; zero when never since
	// the grant (connctl records it as oauth.issued_at).
	RefreshedAt time.Time
	// HasRefreshToken reports whether the grant holds a refresh token.
	HasRefreshToken bool
	// AccessTokenExpiresAt is the access token's expiry, when the provider said.
	AccessTokenExpiresAt time.Time
	// Fields are the connection's (non-secret) field values.
	Fields map[string]string
	// Describe asks the rule for every forecast it can make, undated and
	// whatever the other facts say, so that docs/connectors.md lists each
	// connector's rules and sources from the same code that applies them.
	Describe bool
}

// RefreshTokenLastUsed is the last time the refresh token was issued or
// used: the later of the grant and the last refresh.
func (g GrantFacts) RefreshTokenLastUsed() time.Time {
	if g.RefreshedAt.After(g.AuthorizedAt) {
		return g.RefreshedAt
	}
	return g.AuthorizedAt
}

// Forecast is one provider rule that will end a connection's credentials.
type Forecast struct {
	// At is when the rule ends the credentials if nothing changes; zero
	// when the rule gives no date (it depends on settings connctl cannot see).
	At time.Time
	// Rule says the provider's rule in one sentence, and what keeps the
	// credentials alive.
	Rule string
	// Source is the provider's page that states the rule.
	Source string
	// KeepAlive says that a refresh starts the rule's window again (an
	// inactivity rule), so `connctl status --refresh` is the fix, not a
	// new authorization.
	KeepAlive bool
}

// InactivityForecast is the forecast of a refresh token that ends after
// window without use: nothing when the grant has no refresh token or
// connctl does not know when it was last used.
func InactivityForecast(g GrantFacts, window time.Duration, rule, source string) []Forecast {
	if g.Describe {
		return []Forecast{{Rule: rule, Source: source, KeepAlive: true}}
	}
	if g.Auth != AuthOAuth2 || !g.HasRefreshToken {
		return nil
	}
	last := g.RefreshTokenLastUsed()
	if last.IsZero() {
		return nil
	}
	return []Forecast{{At: last.Add(window), Rule: rule, Source: source, KeepAlive: true}}
}

// ClientSecretExpiresAtField is the optional field in which a user records
// when an OAuth client secret expires (Microsoft Entra client secrets
// expire on a date chosen when the secret is added), so that `connctl
// status` and `connctl list` forecast it.
const ClientSecretExpiresAtField = "client_secret_expires_at"

// ClientSecretForecast is the forecast of the client secret recorded to
// expire in the ClientSecretExpiresAtField field: nothing when the field is
// empty or unreadable (field validation refuses such a value).
func ClientSecretForecast(g GrantFacts, rule, source string) []Forecast {
	if g.Describe {
		return []Forecast{{Rule: rule, Source: source}}
	}
	at, err := ParseDate(g.Fields[ClientSecretExpiresAtField])
	if err != nil || at.IsZero() {
		return nil
	}
	return []Forecast{{At: at, Rule: rule, Source: source}}
}

// ParseDate reads a recorded date: 2027-03-01 (the start of that day, UTC)
// or an RFC 3339 time; "" is the zero time.
func ParseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date: write it as 2027-03-01 or 2027-03-01T12:00:00Z", v)
}
