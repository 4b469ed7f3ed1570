// Package execenv builds the environment of the process `connctl exec`
// starts: each named connection's credentials, fresh, under
// CONNCTL__<NAME>__<FIELD> and under the names its vendor's tools read
// (connector.Connector.ExecEnv, in the connector's package). It knows no
// vendor, never prints and never writes anything down: the credentials go
// only into the child's environment, never into argv, a file or an error.
package execenv

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/secretstore"
)

// Namespace starts every variable connctl sets for a connection. The
// double underscore keeps them apart from connctl's own settings, which
// viper reads from CONNCTL_<SETTING> (CONNCTL_CONFIG, CONNCTL_PASSPHRASE).
const Namespace = "CONNCTL__"

// Withheld are variables of the parent that the child never gets:
// the passphrase of the encrypted secrets file opens every secret, not
// only those of the connections named.
var Withheld = []string{"CONNCTL_PASSPHRASE"}

// Credentials are one connection's, ready to hand to a child process.
type Credentials struct {
	Name      string // as configured
	Connector *connector.Connector
	// Fields are the non-secret fields with defaults applied, empty ones
	// and OAuth plumbing (redirect URI, endpoint overrides) left out.
	Fields map[string]string
	// Secrets are a key-based connection's secrets by field name.
	Secrets map[string]string
	// Token is an OAuth connection's access token, refreshed when due; nil
	// for keys.
	Token *authorization.Token
}

// Usable finds the connection called name and checks that it can be used
// without asking anyone: not found is a usage error (exit 2), and a
// connection that is not authorized, revoked or needs reauthorization is
// exit 4 with the command that fixes it. It reads neither the secret store
// nor the network, so that every connection named is checked before any
// is refreshed.
func Usable(svc *authorization.Service, name string) error {
	c, ok := svc.Mgr.Config.Find(name)
	if !ok {
		return connection.NotFound(name)
	}
	if _, _, err := svc.Mgr.Lookup(c); err != nil {
		return err
	}
	return authorization.Usable(c)
}

// Load reads the credentials of the connection called name: an OAuth
// connection's access token through svc.AccessToken (refreshed when it
// expires within a minute, or whatever its expiry when refresh is true,
// exactly as `connctl token` does), a key-based connection's secrets from
// the secret store.
func Load(ctx context.Context, svc *authorization.Service, name string, refresh bool) (*Credentials, error) {
	c, ok := svc.Mgr.Config.Find(name)
	if !ok {
		return nil, connection.NotFound(name)
	}
	if err := authorization.Usable(c); err != nil {
		return nil, err
	}
	ctr, m, err := svc.Mgr.Lookup(c)
	if err != nil {
		return nil, err
	}
	cr := &Credentials{Name: c.Name, Connector: ctr, Fields: map[string]string{}, Secrets: map[string]string{}}
	plumbing := map[string]bool{}
	if m.OAuth != nil {
		for _, f := range connector.OAuthFields(m.OAuth) {
			plumbing[f.Name] = true
		}
	}
	for k, v := range connection.Effective(ctr, m, c.Fields) {
		if v != "" && !plumbing[k] {
			cr.Fields[k] = v
		}
	}
	if m.OAuth != nil {
		tok, err := svc.AccessToken(ctx, c.Name, refresh)
		if err != nil {
			return nil, err
		}
		cr.Token = tok
		return cr, nil
	}
	for _, f := range connection.SecretFields(ctr, m) {
		if !c.HasSecret(f.Name) {
			continue
		}
		v, err := svc.Mgr.Secret(ctx, c, f.Name)
		if errors.Is(err, secretstore.ErrNotFound) {
			return nil, svc.Mgr.SecretMissing(ctx, c, f.Name, err)
		}
		if err != nil {
			return nil, err
		}
		cr.Secrets[f.Name] = v
	}
	return cr, nil
}

// Prefix is the start of every variable connctl sets for the connection
// called name: CONNCTL__, the name upper-cased with each character other
// than A-Z and 0-9 made _, then __ (crm-prod: CONNCTL__CRM_PROD__).
func Prefix(name string) string { return Namespace + envWord(name) + "__" }

// envWord upper-cases s and makes every character other than A-Z and 0-9 _.
func envWord(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Own returns the connection's variables under its Prefix: each non-secret
// field, each secret of a key-based connection by its field name, and for
// OAuth ACCESS_TOKEN, API_BASE and EXPIRES_AT (RFC 3339) when known;
// CONNECTOR always. Empty values are left out.
func (c *Credentials) Own() map[string]string {
	p := Prefix(c.Name)
	out := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			out[p+envWord(k)] = v
		}
	}
	for k, v := range c.Fields {
		set(k, v)
	}
	for k, v := range c.Secrets {
		set(k, v)
	}
	if t := c.Token; t != nil {
		set("access_token", t.AccessToken)
		set("api_base", t.APIBase)
		if t.ExpiresAt != nil {
			set("expires_at", t.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	set("connector", c.Connector.ID)
	return out
}

// Native returns the variables the connector's tools read
// (connector.Connector.ExecEnv); none when the connector names none. A
// value "" means the variable must be unset in the child.
func (c *Credentials) Native() map[string]string {
	if c.Connector.ExecEnv == nil {
		return nil
	}
	fields := map[string]string{}
	for k, v := range c.Fields {
		fields[k] = v
	}
	token := ""
	if c.Token != nil {
		token = c.Token.AccessToken
		fields["api_base"] = c.Token.APIBase
	}
	return c.Connector.ExecEnv(fields, c.Secrets, token)
}

// ConflictKind is what a Conflict is about.
type ConflictKind int

// Conflicts Build and CheckNames refuse.
const (
	// SamePrefix: two connection names map to one Prefix (crm-prod, crm_prod).
	SamePrefix ConflictKind = iota + 1
	// SameNative: two connections set one native variable.
	SameNative
	// ParentSets: the parent sets a native variable to something else than
	// the connection would (or at all, when the connection unsets it).
	ParentSets
)

// Conflict is a variable connctl will not set, because setting it would
// silently lose something. Its message names the variable and the
// connections, never a value.
type Conflict struct {
	Kind  ConflictKind
	Var   string   // the variable, or for SamePrefix the prefix
	Names []string // the connections involved
}

func (e *Conflict) Error() string {
	switch e.Kind {
	case SamePrefix:
		if e.Names[0] == e.Names[1] {
			return fmt.Sprintf("connection %q is named twice", e.Names[0])
		}
		return fmt.Sprintf("connections %q and %q would both get the variables %s*", e.Names[0], e.Names[1], e.Var)
	case SameNative:
		return fmt.Sprintf("connections %q and %q would both set %s", e.Names[0], e.Names[1], e.Var)
	default:
		return fmt.Sprintf("%s is set in the environment and connection %q would change it", e.Var, e.Names[0])
	}
}

// CheckNames refuses connection names that would share a Prefix.
func CheckNames(names []string) error {
	seen := map[string]string{}
	for _, n := range names {
		p := Prefix(n)
		if first, ok := seen[p]; ok {
			return &Conflict{Kind: SamePrefix, Var: p, Names: []string{first, n}}
		}
		seen[p] = n
	}
	return nil
}

// Build returns the child's environment: parent without Withheld and
// without any variable under a connection's Prefix (a stale one from an
// outer `connctl exec`), then each connection's Own variables and, when
// native is true, its Native ones, sorted by name. It refuses (*Conflict)
// two connections with one Prefix, two connections setting one native
// variable, and a native variable the parent sets (not empty) to another
// value.
func Build(parent []string, creds []*Credentials, native bool) ([]string, error) {
	names := make([]string, len(creds))
	for i, c := range creds {
		names[i] = c.Name
	}
	if err := CheckNames(names); err != nil {
		return nil, err
	}
	inherited := map[string]string{}
	for _, kv := range parent {
		if k, v, ok := strings.Cut(kv, "="); ok {
			inherited[k] = v
		}
	}
	set := map[string]string{}
	unset := map[string]bool{}
	for _, k := range Withheld {
		unset[k] = true
	}
	owner := map[string]string{}
	for _, c := range creds {
		for k, v := range c.Own() {
			set[k] = v
		}
		if !native {
			continue
		}
		vars := c.Native()
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := vars[k]
			if first, ok := owner[k]; ok {
				return nil, &Conflict{Kind: SameNative, Var: k, Names: []string{first, c.Name}}
			}
			owner[k] = c.Name
			if old := inherited[k]; old != "" && old != v { // an empty variable counts as unset, as AWS's SDKs take it
				return nil, &Conflict{Kind: ParentSets, Var: k, Names: []string{c.Name}}
			}
			if v == "" {
				unset[k] = true
			} else {
				set[k] = v
			}
		}
	}
	out := make([]string, 0, len(parent)+len(set))
	for _, kv := range parent {
		k, _, _ := strings.Cut(kv, "=")
		if unset[k] || set[k] != "" || underPrefix(k, names) {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out, nil
}

func underPrefix(k string, names []string) bool {
	for _, n := range names {
		if strings.HasPrefix(k, Prefix(n)) {
			return true
		}
	}
	return false
}
