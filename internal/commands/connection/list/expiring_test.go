package list

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jsonexport"
)

// writeExpiring writes a config whose connections' forecasts end at known
// times from now: a Freshdesk key saved 360 days ago (key_max_age 8760h:
// in 5 days), a Jira grant last refreshed 100 days ago (Atlassian's 90
// days: expired 10 days ago), a Freshdesk key saved yesterday (in 364
// days) and an S3 connection with no date (no forecast).
func writeExpiring(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	s, err := configstore.Open(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ago := func(d time.Duration) *time.Time { at := now.Add(-d); return &at }
	day := 24 * time.Hour
	err = s.Update(context.Background(), func(d *configstore.Document) error {
		d.Connections = append(d.Connections,
			configstore.Connection{ID: "conn_0000000000000001", Name: "old-key", Connector: "freshdesk", Auth: "api_key",
				Fields: map[string]string{"domain": "acme.freshdesk.com"}, Secrets: []string{"api_key"}, SecretBackend: "keyring",
				Status: configstore.StatusAuthorized, AuthorizedAt: ago(360 * day), CreatedAt: now.Add(-360 * day), UpdatedAt: now},
			configstore.Connection{ID: "conn_0000000000000002", Name: "idle-jira", Connector: "jira", Auth: "oauth2",
				Fields: map[string]string{"client_id": "c"}, Secrets: []string{"oauth_access_token", "oauth_refresh_token"}, SecretBackend: "keyring",
				Status: configstore.StatusAuthorized, AuthorizedAt: ago(200 * day), OAuth: &configstore.OAuthState{IssuedAt: ago(100 * day)},
				CreatedAt: now.Add(-200 * day), UpdatedAt: now},
			configstore.Connection{ID: "conn_0000000000000003", Name: "new-key", Connector: "freshdesk", Auth: "api_key",
				Fields: map[string]string{"domain": "acme.freshdesk.com"}, Secrets: []string{"api_key"}, SecretBackend: "keyring",
				Status: configstore.StatusAuthorized, AuthorizedAt: ago(day), CreatedAt: now.Add(-day), UpdatedAt: now},
			configstore.Connection{ID: "conn_0000000000000004", Name: "store", Connector: "s3", Auth: "aws_keys",
				Fields: map[string]string{"bucket": "b", "access_key_id": "AKIAIOSFODNN7EXAMPLE"}, Secrets: []string{"secret_access_key"},
				SecretBackend: "keyring", Status: configstore.StatusAuthorized, CreatedAt: now, UpdatedAt: now},
		)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestListExpiring(t *testing.T) {
	t.Parallel()
	path := writeExpiring(t)
	// Piped without --expiring: the columns scripts read, unchanged.
	pipe := runList(t, path, false, Options{})
	for _, line := range strings.Split(strings.TrimSpace(pipe), "\n") {
		if n := len(strings.Split(line, "\t")); n != 6 {
			t.Fatalf("piped list has %d columns, want 6:\n%s", n, pipe)
		}
	}
	// --expiring 14d: the key ending in 5 days and the grant that ended.
	got := runList(t, path, false, Options{Expiring: "14d"})
	want := "idle-jira\tjira\tauthorized\t\t2026-05-10T12:00:00Z\t0\t2026-11-16T12:00:00Z\n" +
		"old-key\tfreshdesk\tauthorized\t\t2025-12-01T12:00:00Z\t0\t2026-12-01T12:00:00Z\n"
	if got != want {
		t.Fatalf("--expiring 14d:\n%s\nwant:\n%s", got, want)
	}
	// 36h leaves only the one already past; 400d takes every dated one.
	if got := runList(t, path, false, Options{Expiring: "36h"}); !strings.HasPrefix(got, "idle-jira\t") || strings.Count(got, "\n") != 1 {
		t.Fatalf("--expiring 36h:\n%s", got)
	}
	if got := runList(t, path, false, Options{Expiring: "400d"}); strings.Count(got, "\n") != 3 || strings.Contains(got, "store") {
		t.Fatalf("--expiring 400d:\n%s", got)
	}
	// A terminal gets EXPIRES, relative.
	tty := runList(t, path, true, Options{})
	for _, s := range []string{"EXPIRES", "in 5d", "expired 10d ago"} {
		if !strings.Contains(tty, s) {
			t.Errorf("tty list lacks %q:\n%s", s, tty)
		}
	}
	// Asked for with --expiring, a terminal shows EXPIRES even when every
	// forecast is further than 30 days.
	if got := runList(t, path, true, Options{Expiring: "400d", Search: "new"}); !strings.Contains(got, "EXPIRES") || !strings.Contains(got, "2027-11-25") {
		t.Errorf("tty --expiring 400d:\n%s", got)
	}
	if got := runList(t, path, true, Options{Search: "new"}); strings.Contains(got, "EXPIRES") {
		t.Errorf("tty list of a far forecast:\n%s", got)
	}
	// JSON: expiry_at and expiry_reason; expires_at stays the access token's.
	exp, _ := jsonexport.New(jsonexport.JSON, "", nil)
	var views []map[string]any
	if err := json.Unmarshal([]byte(runList(t, path, false, Options{Export: exp})), &views); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, v := range views {
		byName[v["name"].(string)] = v
	}
	if v := byName["old-key"]; v["expiry_at"] != "2026-12-01T12:00:00Z" || !strings.Contains(v["expiry_reason"].(string), "status.key_max_age") || v["expires_at"] != nil {
		t.Errorf("old-key: %v", v)
	}
	if v := byName["store"]; v["expiry_at"] != nil || v["expiry_reason"] != "" {
		t.Errorf("store: %v", v)
	}
	if v := byName["idle-jira"]; !strings.Contains(v["expiry_reason"].(string), "Atlassian") {
		t.Errorf("idle-jira: %v", v)
	}
}

// Without a forecast within 30 days a terminal list has no EXPIRES column.
func TestListNoExpiresColumnWhenFar(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, 2) // s3 keys with no saved date: no forecast
	if tty := runList(t, path, true, Options{}); strings.Contains(tty, "EXPIRES") {
		t.Fatalf("tty list:\n%s", tty)
	}
}

func TestListExpiringBadValue(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, 1)
	for _, v := range []string{"soon", "14", "-3d", "1.5d", "d"} {
		d, _ := testDeps(path, false)
		err := run(context.Background(), withDeps(d, Options{Expiring: v}))
		if exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), "--expiring") || strings.Contains(err.Error(), "\n") {
			t.Errorf("--expiring %q: %v (exit %d)", v, err, exitcode.FromError(err))
		}
	}
}

func TestParseWithin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"14d": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "0d": 0, "90m": 90 * time.Minute} {
		if got, err := ParseWithin(in); err != nil || got != want {
			t.Errorf("ParseWithin(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
