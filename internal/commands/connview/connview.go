// Package connview is how connections look in output: the stable JSON
// fields and the values commands print. It holds views only; the services
// commands use (connection manager, OAuth service, activity recording) are
// built by internal/deps.
package connview

import (
	"sort"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
)

// Fields are the JSON field names of a connection, in CSV/TSV column order.
// Adding a field is fine; renaming or removing one breaks scripts.
var Fields = []string{"id", "name", "connector", "auth", "status", "account", "secret_backend",
	"fields", "secrets", "scopes", "expires_at", "api_base", "failed_24h", "created_at", "updated_at", "authorized_at", "verified", "status_reason",
	"expiry_at", "expiry_reason"}

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
	// ExpiryAt is when the earliest dated forecast (a provider's rule or
	// status.key_max_age, see connection.Forecasts) ends the credentials;
	// null when no rule gives a date. Not the access token's expires_at.
	ExpiryAt *time.Time `json:"expiry_at"`
	// ExpiryReason is that forecast's rule; "" when ExpiryAt is null.
	ExpiryReason string `json:"expiry_reason"`
}

// SetExpiry fills ExpiryAt and ExpiryReason from the earliest of fs.
func (v *Connection) SetExpiry(fs []connector.Forecast) {
	if f, ok := connection.Earliest(fs); ok {
		at := f.At.UTC()
		v.ExpiryAt, v.ExpiryReason = &at, f.Rule
	}
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
