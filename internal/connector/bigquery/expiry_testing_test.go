package bigquery

import (
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector"
)

// An app in Testing (app_status=testing) ends a refresh token 7 days after
// the sign-in, however recently it was refreshed; production adds nothing.
func TestExpiryTestingApp(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	t1 := t0.Add(3 * 24 * time.Hour) // refreshed: does not move the 7 days
	g := connector.GrantFacts{Auth: connector.AuthOAuth2, AuthorizedAt: t0, RefreshedAt: t1, HasRefreshToken: true,
		Fields: map[string]string{AppStatusField: "testing"}}
	got := expiry(g, t1)
	if len(got) != 2 || !got[1].At.Equal(t0.Add(7*24*time.Hour)) || !strings.Contains(got[1].Rule, "Testing") || got[1].Source != googleExpirySource {
		t.Fatalf("testing app: %+v", got)
	}
	if e, ok := earliest(got); !ok || !e.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("earliest %v", e)
	}
	g.Fields[AppStatusField] = "production"
	if got := expiry(g, t1); len(got) != 1 {
		t.Fatalf("production app: %+v", got)
	}
	// The field is an enum: anything else is refused at --set.
	c := Connector()
	m, _ := c.Auth("oauth2")
	for _, f := range m.Fields {
		if f.Name == AppStatusField {
			if f.Validate("beta") == nil || f.Validate("testing") != nil || f.Default != "production" {
				t.Fatalf("app_status field: %+v", f)
			}
			return
		}
	}
	t.Fatal("no app_status field on the oauth2 method")
}

func earliest(fs []connector.Forecast) (time.Time, bool) {
	var best time.Time
	for _, f := range fs {
		if !f.At.IsZero() && (best.IsZero() || f.At.Before(best)) {
			best = f.At
		}
	}
	return best, !best.IsZero()
}
