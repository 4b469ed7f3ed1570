// Package connview is how connections look in output: the stable JSON
// fields and the values commands print.
package connview

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
)

// Fields are the JSON field names of a connection, in CSV/TSV column order.
// Adding a field is fine; renaming or removing one breaks scripts.
var Fields = []string{"id", "name", "connector", "auth", "status", "account", "secret_backend",
	"fields", "secrets", "scopes", "expires_at", "api_base", "failed_24h", "created_at", "updated_at", "authorized_at", "verified", "status_reason"}

// Connection is one connection as printed with -o json.
type Connection struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Connector     string            `json:"connector"`
	Auth          string            `json:"auth"`
	Status        string            `json:"status"`
	Account       string            `json:"account"`
	SecretBackend string            `json:"secret_backend"`
	Fields        map[string]string `json:"fields"`
	Secrets       []string          `json:"secrets"`
	Scopes        []string          `json:"scopes"`
	ExpiresAt     *time.Time        `json:"expires_at"`
	APIBase       string            `json:"api_base"`
	Failed24h     int               `json:"failed_24h"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
	AuthorizedAt  *time.Time        `json:"authorized_at"`
	// Verified is false for key-based credentials saved with --no-verify
	// and not tested since (status "unverified").
	Verified bool `json:"verified"`
	// StatusReason is "secret_missing" when the connection needs
	// reauthorization because its secret was not found (not rejected).
	StatusReason string `json:"status_reason"`
}

// From builds the view of c, with its effective fields (defaults filled in).
func From(cat *connector.Catalogue, c *configstore.Connection) Connection {
	v := Connection{
		ID: c.ID, Name: c.Name, Connector: c.Connector, Auth: c.Auth, Status: StatusText(c), Verified: !c.Unverified, StatusReason: c.StatusReason,
		Account: c.Account, SecretBackend: c.SecretBackend, Fields: c.Fields,
		Secrets: append([]string{}, c.Secrets...), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, AuthorizedAt: c.AuthorizedAt,
	}
	if ctr, ok := cat.Lookup(c.Connector); ok {
		if m, err := ctr.Auth(c.Auth); err == nil {
			v.Fields = connection.Effective(ctr, m, c.Fields)
		}
	}
	v.Scopes = []string{}
	if c.OAuth != nil {
		if c.OAuth.Scopes != nil {
			v.Scopes = c.OAuth.Scopes
		}
		v.ExpiresAt, v.APIBase = c.OAuth.ExpiresAt, c.OAuth.APIBase
	}
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	sort.Strings(v.Secrets)
	return v
}

// Manager builds the connection manager from the command's dependencies.
func Manager(d *deps.Deps) (*connection.Manager, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	mg := &connection.Manager{Config: cfg, Secrets: d.Secrets, Catalog: d.Catalog(), Now: d.Now,
		LockDir: filepath.Join(d.StateDir(), "locks"), Warnf: d.IO.Warnf}
	if d.Activities != nil {
		mg.OnUpdate = func(ctx context.Context, u connection.Update) { recordUpdate(ctx, d, u) }
	}
	return mg, nil
}

// recordUpdate writes an update activity. The change has already happened,
// so a failure to record it is a warning, not an error.
func recordUpdate(ctx context.Context, d *deps.Deps, u connection.Update) {
	store, err := d.Activities()
	if err == nil {
		a := activitylog.Activity{Type: activitylog.TypeUpdate, Action: u.Action, ConnectionID: u.Connection.ID,
			ConnectionName: u.Connection.Name, Status: activitylog.StatusSucceeded, Who: d.Who(), StartedAt: d.Now()}
		for _, ch := range u.Changes {
			a.Changes = append(a.Changes, activitylog.Change{Field: ch.Field, Old: ch.Old, New: ch.New, Secret: ch.Secret})
		}
		_, err = store.Record(ctx, a)
	}
	if err != nil {
		d.IO.Warnf("the change was made but not recorded in the activity log: %v", err)
	}
}

// Authz builds the OAuth service from the command's dependencies.
func Authz(d *deps.Deps) (*authorization.Service, error) {
	mgr, err := Manager(d)
	if err != nil {
		return nil, err
	}
	s := &authorization.Service{Mgr: mgr, HTTP: d.HTTP(), Opener: d.Browser, Stderr: d.IO.ErrOut, LockDir: filepath.Join(d.StateDir(), "locks")}
	if d.IO.CanPrompt() {
		s.Prompt = func(q string, options []string) (int, error) {
			fmt.Fprintln(d.IO.ErrOut, q)
			for i, o := range options {
				fmt.Fprintf(d.IO.ErrOut, "  %d) %s\n", i+1, o)
			}
			for range 3 {
				a, err := d.IO.Prompt("Choose 1-" + strconv.Itoa(len(options)) + ": ")
				if err != nil {
					return 0, err
				}
				if n, err := strconv.Atoi(strings.TrimSpace(a)); err == nil && n >= 1 && n <= len(options) {
					return n - 1, nil
				}
			}
			return 0, exitcode.UsageError("no valid choice given")
		}
	}
	return s, nil
}

// RecordFailedAuthorization records a failed (re)authorization as a failed
// update activity, so that `connctl list` flags the connection.
func RecordFailedAuthorization(ctx context.Context, d *deps.Deps, c *configstore.Connection, action string, cause error) {
	if d.Activities == nil || c == nil {
		return
	}
	store, err := d.Activities()
	if err == nil {
		_, err = store.Record(context.WithoutCancel(ctx), activitylog.Activity{Type: activitylog.TypeUpdate, Action: action,
			ConnectionID: c.ID, ConnectionName: c.Name, Status: activitylog.StatusFailed, Reason: activitylog.ReasonAuth,
			Message: cause.Error(), Who: d.Who(), StartedAt: d.Now()})
	}
	if err != nil {
		d.IO.Warnf("the failure was not recorded in the activity log: %v", err)
	}
}

// FailedLastDay counts each connection's failed activities of the last 24
// hours (the product's info icon). No activity log yet means none; a log that
// cannot be read is a warning, not a reason to fail the listing.
func FailedLastDay(ctx context.Context, d *deps.Deps) map[string]int {
	store, err := d.ActivitiesIfAny()
	if err == nil && store != nil {
		var m map[string]int
		if m, err = store.FailedSince(ctx, d.Now().Add(-24*time.Hour)); err == nil {
			return m
		}
	}
	if err != nil {
		d.IO.Warnf("cannot read the activity log: %v", err)
	}
	return map[string]int{}
}
