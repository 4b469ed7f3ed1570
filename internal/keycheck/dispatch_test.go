package keycheck_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/keycheck"
)

// The suite below runs every connector's key check (connector.AuthMethod.Check,
// in the connector's own package) through keycheck.Check against a local
// peer that follows the provider's documentation (peers_test.go). It is an
// external test package, so it may import the catalogue: keycheck itself
// imports no connector.

type (
	Identity = keycheck.Identity
	Error    = keycheck.Error
)

const (
	kindUnauthorized = keycheck.KindUnauthorized
	kindForbidden    = keycheck.KindForbidden
	kindNetwork      = keycheck.KindNetwork
	kindServer       = keycheck.KindServer
	kindRateLimit    = keycheck.KindRateLimit
	kindConfig       = keycheck.KindConfig
)

// redacted is what keycheck puts where a secret was.
const redacted = "[redacted]"

var catalogue = all.Catalogue()

// method finds connectorID's auth method as `connctl test` does: authID,
// else fields["auth"], else the connector's default.
func method(connectorID, authID string, fields map[string]string) (*connector.Connector, *connector.AuthMethod) {
	c, ok := catalogue.Lookup(connectorID)
	if !ok || c.ID != connectorID {
		return nil, nil
	}
	if authID == "" {
		authID = fields["auth"]
	}
	if authID == "" {
		return c, c.DefaultAuth()
	}
	m, err := c.Auth(authID)
	if err != nil {
		return c, nil
	}
	return c, m
}

// supported reports whether connectorID/authID has a key check.
func supported(connectorID, authID string) bool {
	_, m := method(connectorID, authID, nil)
	return m != nil && m.Check != nil
}

// checkByID runs connectorID's key check for authID (empty: fields["auth"]
// or the default method) through keycheck.Check, as `connctl test` does.
func checkByID(ctx context.Context, hc *http.Client, connectorID, authID string, fields, secrets map[string]string) (*Identity, error) {
	c, m := method(connectorID, authID, fields)
	if m == nil || m.Check == nil {
		return nil, &Error{Kind: kindConfig, Message: unsupported(c, connectorID, authID)}
	}
	return keycheck.Check(ctx, hc, c.ID, m.Check, fields, secrets)
}

func unsupported(c *connector.Connector, connectorID, authID string) string {
	var known []string
	if c != nil {
		for _, m := range c.Auths {
			if m.Check != nil {
				known = append(known, m.ID)
			}
		}
	}
	if len(known) == 0 {
		return fmt.Sprintf("connctl cannot test %s connections with keys", connectorID)
	}
	return fmt.Sprintf("connctl cannot test %s connections that use %s with keys (it can test: %s)", connectorID, authID, strings.Join(known, ", "))
}
