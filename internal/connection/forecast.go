package connection

import (
	"fmt"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
)

// KeyMaxAgeSetting is the setting that says at what age an API key or
// secret should be rotated (the key-age forecast).
const KeyMaxAgeSetting = "status.key_max_age"

// Facts is what the config records about c's credentials, for a
// connector's Expiry rule. It reads the config only: never the keyring.
func Facts(c *configstore.Connection, kind connector.AuthKind) connector.GrantFacts {
	g := connector.GrantFacts{Auth: kind, Fields: c.Fields, HasRefreshToken: c.HasSecret(KindRefreshToken)}
	if c.AuthorizedAt != nil {
		g.AuthorizedAt = *c.AuthorizedAt
	}
	if o := c.OAuth; o != nil {
		if o.IssuedAt != nil {
			g.RefreshedAt = *o.IssuedAt
		}
		if o.ExpiresAt != nil {
			g.AccessTokenExpiresAt = *o.ExpiresAt
		}
	}
	return g
}

// Forecasts gathers every rule that will end c's credentials: its
// connector's Expiry rule, and for key-based methods the key-age rule
// (keyMaxAge, the status.key_max_age setting). `connctl status` and
// `connctl list` both forecast with it, from the config alone (no keyring,
// no network), so the two never disagree. A connector this connctl does not
// know gets no forecast.
func Forecasts(cat *connector.Catalogue, c *configstore.Connection, now time.Time, keyMaxAge time.Duration) []connector.Forecast {
	ctr, ok := cat.Lookup(c.Connector)
	if !ok {
		return nil
	}
	m, err := ctr.Auth(c.Auth)
	if err != nil {
		return nil
	}
	g := Facts(c, m.Kind)
	var out []connector.Forecast
	if ctr.Expiry != nil {
		out = ctr.Expiry(g, now)
	}
	if m.Kind != connector.AuthOAuth2 && !g.AuthorizedAt.IsZero() && keyMaxAge > 0 {
		out = append(out, connector.Forecast{At: g.AuthorizedAt.Add(keyMaxAge),
			Rule:   fmt.Sprintf("the key was saved on %s; %s (%s) says to rotate keys at that age: `connctl reauthorize` with a new one", g.AuthorizedAt.UTC().Format("2006-01-02"), KeyMaxAgeSetting, keyMaxAge),
			Source: KeyMaxAgeSetting})
	}
	return out
}

// Earliest returns the dated forecast that ends first (the first of
// equals), and false when none has a date.
func Earliest(fs []connector.Forecast) (connector.Forecast, bool) {
	var best connector.Forecast
	found := false
	for _, f := range fs {
		if f.At.IsZero() {
			continue
		}
		if !found || f.At.Before(best.At) {
			best, found = f, true
		}
	}
	return best, found
}
