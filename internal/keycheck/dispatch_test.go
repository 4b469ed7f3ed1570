package keycheck_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

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

// TestEveryKeyCheckHasAPeer: a connector whose auth method has a Check
// must bring a documented peer to the suite (peers_test.go, allPeers), or
// run the same scenarios against its own peer in its own package
// (testedAtHome), so that every scenario runs against it.
func TestEveryKeyCheckHasAPeer(t *testing.T) {
	t.Parallel()
	// Methods tested by a file of their own instead.
	elsewhere := map[string]string{"mixpanel/api_secret": "mixpanel_secret_test.go"}
	have := map[string]bool{}
	for _, p := range allPeers(t) {
		_, m := method(p.connector, p.auth, nil)
		if m == nil {
			t.Errorf("peer %s/%s names no catalogue method", p.connector, p.auth)
			continue
		}
		have[p.connector+"/"+m.ID] = true
	}
	for _, c := range catalogue.All() {
		for _, m := range c.Auths {
			key := c.ID + "/" + m.ID
			if m.Check != nil && !have[key] && elsewhere[key] == "" && !testedAtHome(m.Check) {
				t.Errorf("%s has a key check but no peer: add one to peers_test.go and allPeers, or run the scenarios in its own package (TestCheckScenarios in check_test.go)", key)
			}
		}
	}
}

// testedAtHome reports whether check's own package runs the key-check
// scenarios itself: its check_test.go beside the check declares
// TestCheckScenarios (ok, 401, 403, 429 with Retry-After, 5xx and a
// malformed answer, against a peer that follows the vendor's
// documentation). A new connector then adds no line to this package.
func testedAtHome(check keycheck.Func) bool {
	f := runtime.FuncForPC(reflect.ValueOf(check).Pointer())
	if f == nil {
		return false
	}
	// github.com/connctl/connctl/internal/connector/x.checkKey -> ../connector/x
	name := f.Name()
	const module = "github.com/connctl/connctl/internal/"
	if !strings.HasPrefix(name, module) {
		return false
	}
	pkg := strings.TrimPrefix(name, module)
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		if j := strings.Index(pkg[i:], "."); j >= 0 {
			pkg = pkg[:i+j]
		}
	}
	src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(pkg), "check_test.go"))
	return err == nil && strings.Contains(string(src), "func TestCheckScenarios(")
}
