package genericoauth

import (
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector"
)

func TestExpiry(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	t1 := t0.Add(5 * time.Hour)
	base := connector.GrantFacts{Auth: connector.AuthOAuth2, AuthorizedAt: t0, RefreshedAt: t1, HasRefreshToken: true}
	with := func(fields map[string]string) connector.GrantFacts { g := base; g.Fields = fields; return g }
	if got := expiry(with(nil), t1); len(got) != 0 {
		t.Fatalf("nothing recorded: %+v", got)
	}
	got := expiry(with(map[string]string{RefreshTokenIdleField: "30d"}), t1)
	if len(got) != 1 || !got[0].At.Equal(t1.Add(30*24*time.Hour)) || !strings.Contains(got[0].Rule, "unused for 30d") {
		t.Fatalf("idle 30d: %+v", got)
	}
	got = expiry(with(map[string]string{RefreshTokenIdleField: "90m", connector.ClientSecretExpiresAtField: "2026-02-01"}), t1)
	if len(got) != 2 || !got[0].At.Equal(t1.Add(90*time.Minute)) || !got[1].At.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("idle 90m and a secret date: %+v", got)
	}
	noRefresh := with(map[string]string{RefreshTokenIdleField: "30d"})
	noRefresh.HasRefreshToken = false
	if got := expiry(noRefresh, t1); len(got) != 0 {
		t.Fatalf("no refresh token: %+v", got)
	}
	if got := expiry(connector.GrantFacts{Describe: true}, time.Time{}); len(got) != 2 || !got[0].At.IsZero() {
		t.Fatalf("describe: %+v", got)
	}
}

func TestParseIdle(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"": 0, "30d": 30 * 24 * time.Hour, "720h": 720 * time.Hour, " 2m ": 2 * time.Minute} {
		if got, err := ParseIdle(in); err != nil || got != want {
			t.Errorf("ParseIdle(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"soon", "0d", "-1h", "0s", "1.5d"} {
		if _, err := ParseIdle(in); err == nil || !strings.Contains(err.Error(), "write it as 30d or 720h") {
			t.Errorf("ParseIdle(%q): %v", in, err)
		}
	}
}
