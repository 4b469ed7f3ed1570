package status

import (
	"context"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
)

// An expiring grant whose earliest rule is an inactivity window is fixed by
// the keep-alive; one that no refresh can save (a Google app in Testing, a
// recorded client secret date) by a new authorization.
func TestExpiringFixFollowsTheRule(t *testing.T) {
	t.Parallel()
	now := saved.Add(24 * time.Hour)
	opts, out := setup(t, "http://127.0.0.1:1", &now)
	opts.Offline = true
	svc, err := opts.Authz()
	if err != nil {
		t.Fatal(err)
	}
	ago := func(d time.Duration) *time.Time { at := now.Add(-d); return &at }
	day := 24 * time.Hour
	grant := []string{connection.KindAccessToken, connection.KindRefreshToken}
	err = svc.Mgr.Config.Update(context.Background(), func(d *configstore.Document) error {
		d.Connections = append(d.Connections,
			configstore.Connection{ID: "conn_00000000000000a1", Name: "idle-jira", Connector: "jira", Auth: "oauth2", Fields: map[string]string{"client_id": "c"},
				Secrets: grant, SecretBackend: "keyring", Status: configstore.StatusAuthorized, AuthorizedAt: ago(85 * day),
				OAuth: &configstore.OAuthState{IssuedAt: ago(85 * day)}, CreatedAt: now, UpdatedAt: now},
			configstore.Connection{ID: "conn_00000000000000a2", Name: "testing-bq", Connector: "bigquery", Auth: "oauth2",
				Fields:  map[string]string{"client_id": "c", "app_status": "testing"},
				Secrets: grant, SecretBackend: "keyring", Status: configstore.StatusAuthorized, AuthorizedAt: ago(5 * day),
				OAuth: &configstore.OAuthState{IssuedAt: ago(time.Hour)}, CreatedAt: now, UpdatedAt: now},
			configstore.Connection{ID: "conn_00000000000000a3", Name: "entra", Connector: "dynamics", Auth: "oauth2",
				Fields:  map[string]string{"client_id": "c", "org_url": "https://acme.crm.dynamics.com", "client_secret_expires_at": now.Add(3 * day).Format("2006-01-02")},
				Secrets: grant, SecretBackend: "keyring", Status: configstore.StatusAuthorized, AuthorizedAt: ago(day),
				OAuth: &configstore.OAuthState{IssuedAt: ago(time.Hour)}, CreatedAt: now, UpdatedAt: now},
		)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	got := results(t, out)
	for name, fix := range map[string]string{
		"idle-jira":  "connctl status --refresh idle-jira",
		"testing-bq": "connctl reauthorize testing-bq",
		"entra":      "connctl reauthorize entra",
	} {
		if r := got[name]; r.State != StateExpiring || r.Fix != fix {
			t.Errorf("%s: %s, fix %q; want expiring, fix %q (%s)", name, r.State, r.Fix, fix, r.Reason)
		}
	}
}
