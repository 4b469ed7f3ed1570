package connection

import (
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
)

func TestForecastsAndEarliest(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	saved := now.Add(-300 * 24 * time.Hour)
	cat := all.Catalogue()
	key := &configstore.Connection{Name: "k", Connector: "freshdesk", Auth: "api_key", AuthorizedAt: &saved}
	fs := Forecasts(cat, key, now, 365*24*time.Hour)
	if len(fs) != 1 || !fs[0].At.Equal(saved.Add(365*24*time.Hour)) || fs[0].Source != KeyMaxAgeSetting {
		t.Fatalf("key forecasts: %+v", fs)
	}
	// An OAuth grant gets its connector's rule, never the key-age rule.
	issued := now.Add(-80 * 24 * time.Hour)
	jira := &configstore.Connection{Name: "j", Connector: "jira", Auth: "oauth2", AuthorizedAt: &saved,
		Secrets: []string{KindRefreshToken}, OAuth: &configstore.OAuthState{IssuedAt: &issued}}
	fs = Forecasts(cat, jira, now, time.Hour)
	if e, ok := Earliest(fs); !ok || !e.At.Equal(issued.Add(90*24*time.Hour)) || len(fs) != 1 {
		t.Fatalf("jira forecasts: %+v", fs)
	}
	if fs := Forecasts(cat, &configstore.Connection{Name: "x", Connector: "nosuch"}, now, time.Hour); fs != nil {
		t.Fatalf("unknown connector: %+v", fs)
	}
	a, b := now.Add(time.Hour), now.Add(2*time.Hour)
	if e, ok := Earliest([]connector.Forecast{{Rule: "undated"}, {At: b, Rule: "b"}, {At: a, Rule: "a"}}); !ok || e.Rule != "a" {
		t.Fatalf("Earliest = %+v, %v", e, ok)
	}
	if _, ok := Earliest([]connector.Forecast{{Rule: "undated"}}); ok {
		t.Fatal("Earliest of undated forecasts found one")
	}
}
