package dynamics

import (
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// TestExpiry checks the forecast rule on an injected clock: the grant's
// facts are fixed times, and now is a parameter.
func TestExpiry(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC) // authorized
	t1 := t0.Add(40 * 24 * time.Hour)                  // last refreshed
	now := t1.Add(24 * time.Hour)
	tests := []struct {
		name  string
		g     connector.GrantFacts
		count int
		at    time.Time
	}{
		{"never refreshed", connector.GrantFacts{Auth: connector.AuthOAuth2, AuthorizedAt: t0, HasRefreshToken: true}, 1, t0.Add(90 * 24 * time.Hour)},
		{"refreshed since", connector.GrantFacts{Auth: connector.AuthOAuth2, AuthorizedAt: t0, RefreshedAt: t1, HasRefreshToken: true}, 1, t1.Add(90 * 24 * time.Hour)},
		{"no refresh token", connector.GrantFacts{Auth: connector.AuthOAuth2, AuthorizedAt: t0}, 0, time.Time{}},
		{"not oauth", connector.GrantFacts{Auth: connector.AuthAPIKey, AuthorizedAt: t0, HasRefreshToken: true}, 0, time.Time{}},
	}
	c := Connector()
	if c.Expiry == nil {
		t.Fatal("the connector has no Expiry rule")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := c.Expiry(tt.g, now)
			if len(got) != tt.count {
				t.Fatalf("%d forecasts, want %d: %+v", len(got), tt.count, got)
			}
			if tt.count == 0 {
				return
			}
			if !got[0].At.Equal(tt.at) {
				t.Errorf("at %v, want %v", got[0].At, tt.at)
			}
			if got[0].Rule == "" || got[0].Source == "" {
				t.Errorf("a forecast without its rule or source: %+v", got[0])
			}
		})
	}
}
