package dynamics

import (
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// A client secret recorded to expire is forecast on that date, with or
// without a refresh token; a bad date is refused when it is set.
func TestExpiryClientSecret(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	g := connector.GrantFacts{Auth: connector.AuthOAuth2, AuthorizedAt: now, Fields: map[string]string{connector.ClientSecretExpiresAtField: "2026-12-03"}}
	got := expiry(g, now)
	if len(got) != 1 || !got[0].At.Equal(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)) || got[0].Source != EntraSecretSource {
		t.Fatalf("forecasts: %+v", got)
	}
	g.Fields[connector.ClientSecretExpiresAtField] = "2026-12-03T08:30:00+01:00"
	if got := expiry(g, now); len(got) != 1 || !got[0].At.Equal(time.Date(2026, 12, 3, 7, 30, 0, 0, time.UTC)) {
		t.Fatalf("RFC 3339: %+v", got)
	}
	m, _ := Connector().Auth("oauth2")
	for _, f := range m.Fields {
		if f.Name == connector.ClientSecretExpiresAtField {
			if err := f.Validate("next year"); err == nil || err.Error() != `client_secret_expires_at "next year" is not a date: write it as 2027-03-01 or 2027-03-01T12:00:00Z` {
				t.Fatalf("validate: %v", err)
			}
			return
		}
	}
	t.Fatal("no client_secret_expires_at field")
}
