// Package authorization connects a connection to its provider's OAuth
// endpoints: it resolves them from the catalogue and the connection's
// fields, runs the browser flow, records the grant, refreshes tokens safely
// across processes, revokes at the provider and asks who the connection is
// authorized as. It never prints; it returns data and typed errors.
package authorization

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/browser"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/oauthflow"
	"github.com/connctl/connctl/internal/secretstore"
)

// Service runs OAuth operations for connections.
type Service struct {
	Mgr     *connection.Manager
	HTTP    *http.Client
	Opener  browser.Opener
	Stderr  io.Writer
	LockDir string // per-connection refresh locks
	// SharedLock, when set, serialises a connection's refreshes across
	// machines (a team store's advisory lock), taken after the local
	// lock; nil: this machine's lock is enough.
	SharedLock func(ctx context.Context, connID string) (unlock func(), err error)
	// Prompt asks the user to choose among options (e.g. a grant's sites);
	// nil when connctl is not interactive.
	Prompt func(question string, options []string) (int, error)
}

// Endpoints is a connection's resolved OAuth configuration.
type Endpoints struct {
	Connector    *connector.Connector
	Method       *connector.AuthMethod
	AuthURL      string
	TokenURL     string
	RevokeURL    string
	RevokeStyle  oauthflow.RevokeStyle
	UserinfoURL  string
	Scopes       []string
	RedirectURI  string
	AuthStyle    oauthflow.AuthStyle
	AuthParams   map[string]string
	Issuer       string
	RequireIss   bool
	JWKSURL      string   // from discovery: checks id_tokens
	IDTokenAlgs  []string // from discovery
	ClientID     string
	ClientSecret string
	Fields       map[string]string // the connection's effective fields
}

// hooks are the connector's OAuth hooks; none set when it has none.
func (e *Endpoints) hooks() *connector.OAuthHooks {
	if e.Method != nil && e.Method.OAuth != nil && e.Method.OAuth.Hooks != nil {
		return e.Method.OAuth.Hooks
	}
	return &connector.OAuthHooks{}
}

// Client is the token-endpoint identity of e.
func (e *Endpoints) Client(hc *http.Client) oauthflow.Client {
	return oauthflow.Client{ID: e.ClientID, Secret: e.ClientSecret, TokenURL: e.TokenURL, AuthStyle: e.AuthStyle, Scopes: e.Scopes, HTTP: hc}
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// expand fills {name} placeholders from vars; a placeholder without a value
// is an error naming the field to set.
func expand(tmpl string, vars map[string]string) (string, error) {
	var missing string
	out := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		k := m[1 : len(m)-1]
		v, ok := vars[k]
		if !ok || v == "" {
			if missing == "" {
				missing = k
			}
			return m
		}
		return strings.TrimSuffix(v, "/")
	})
	if missing != "" {
		return "", fmt.Errorf("needs %s", missing)
	}
	return out, nil
}

// IsOAuth reports whether c authenticates with OAuth.
func (s *Service) IsOAuth(c *configstore.Connection) bool {
	_, m, err := s.Mgr.Lookup(c)
	return err == nil && m.OAuth != nil
}

// Resolve works out c's OAuth endpoints, scopes and client.
func (s *Service) Resolve(ctx context.Context, c *configstore.Connection) (*Endpoints, error) {
	ctr, m, err := s.Mgr.Lookup(c)
	if err != nil {
		return nil, err
	}
	if m.OAuth == nil {
		return nil, fmt.Errorf("connection %q does not use OAuth", c.Name)
	}
	spec := m.OAuth
	fields := connection.Effective(ctr, m, c.Fields)
	vars := map[string]string{}
	for k, v := range fields {
		vars[k] = v
	}
	if ctr.TemplateVars != nil {
		for k, v := range ctr.TemplateVars(fields) {
			if vars[k] == "" {
				vars[k] = v
			}
		}
	}
	if c.OAuth != nil {
		for k, v := range c.OAuth.Extra {
			if vars[k] == "" {
				vars[k] = v
			}
		}
	}
	e := &Endpoints{Connector: ctr, Method: m, Fields: fields, RevokeStyle: oauthflow.RevokeStyle(spec.RevokeStyle), AuthStyle: oauthflow.AuthStyle(spec.AuthStyle), AuthParams: map[string]string{}}
	for k, v := range spec.AuthParams {
		e.AuthParams[k] = v
	}
	if st := fields["token_auth_style"]; st != "" {
		e.AuthStyle = oauthflow.AuthStyle(st)
	}
	// The generic connector finds its endpoints by discovery.
	if iss := fields["issuer"]; iss != "" {
		md, err := oauthflow.Discover(ctx, s.HTTP, iss)
		if err != nil {
			return nil, exitcode.WithHint(err, "check --set issuer=..., or give auth_url and token_url instead")
		}
		for k, v := range map[string]string{"auth_url": md.AuthorizationEndpoint, "token_url": md.TokenEndpoint, "revoke_url": md.RevocationEndpoint, "userinfo_url": md.UserinfoEndpoint} {
			if c.Fields[k] == "" {
				vars[k] = v
			}
		}
		e.Issuer = md.Issuer
		e.RequireIss = md.AuthorizationResponseIssSupport
		e.JWKSURL, e.IDTokenAlgs = md.JWKSURI, md.IDTokenSigningAlgs
	}
	endpoint := func(override, tmpl string, required bool) (string, error) {
		if v := c.Fields[override]; v != "" {
			return v, nil
		}
		if v := vars[override]; v != "" && tmpl == "{"+override+"}" {
			return v, nil
		}
		if tmpl == "" {
			return "", nil
		}
		v, err := expand(tmpl, vars)
		if err != nil {
			if !required {
				return "", nil
			}
			return "", exitcode.UsageError("connection %q %s to reach its %s: set it with `connctl edit %s --set %s=...`", c.Name, err.Error(), strings.TrimSuffix(override, "_url"), connection.QuoteArg(c.Name), strings.TrimPrefix(err.Error(), "needs "))
		}
		return v, nil
	}
	if e.AuthURL, err = endpoint("auth_url", spec.AuthURL, true); err != nil {
		return nil, err
	}
	if e.TokenURL, err = endpoint("token_url", spec.TokenURL, true); err != nil {
		return nil, err
	}
	if e.RevokeURL, err = endpoint("revoke_url", spec.RevokeURL, false); err != nil {
		return nil, err
	}
	if e.UserinfoURL, err = endpoint("userinfo_url", spec.UserinfoURL, false); err != nil {
		return nil, err
	}
	// A grant may have named other endpoints for its later calls (the
	// user's data centre); endpoints the user set still win.
	if h := e.hooks(); h.GrantEndpoints != nil && c.OAuth != nil {
		tokenURL, revokeURL := h.GrantEndpoints(c.OAuth.Extra)
		if tokenURL != "" && c.Fields["token_url"] == "" {
			e.TokenURL = tokenURL
		}
		if revokeURL != "" && c.Fields["revoke_url"] == "" {
			e.RevokeURL = revokeURL
		}
	}
	for _, sc := range strings.FieldsFunc(fields["scopes"], func(r rune) bool { return r == ' ' || r == ',' }) {
		if v, err := expand(sc, vars); err == nil {
			e.Scopes = append(e.Scopes, v)
		} else {
			return nil, exitcode.UsageError("scope %q of %q %s: set it with `connctl edit %s --set %s=...`", sc, c.Name, err.Error(), connection.QuoteArg(c.Name), strings.TrimPrefix(err.Error(), "needs "))
		}
	}
	if err := e.addAuthParams(fields["auth_params"]); err != nil {
		return nil, exitcode.UsageError("connection %q: %v (`connctl edit %s --set auth_params=...`)", c.Name, err, connection.QuoteArg(c.Name))
	}
	e.RedirectURI = fields["redirect_uri"]
	e.ClientID = fields["client_id"]
	if e.ClientID == "" {
		if v := s.Mgr.Config.String("oauth." + ctr.ID + ".client_id"); v != "" {
			e.ClientID = v
		}
	}
	if e.ClientID == "" {
		return nil, exitcode.WithHint(exitcode.UsageError("connection %q has no OAuth client ID", c.Name),
			fmt.Sprintf("register an app (see `connctl connectors show %s`), then `connctl edit %s --set client_id=...` or `connctl config set oauth.%s.client_id ...`", ctr.ID, connection.QuoteArg(c.Name), ctr.ID))
	}
	if c.HasSecret("client_secret") {
		v, err := s.Mgr.Secret(ctx, c, "client_secret")
		if errors.Is(err, secretstore.ErrNotFound) {
			return nil, s.Mgr.MissingSecret(c, "client_secret", err)
		}
		if err != nil {
			return nil, err
		}
		e.ClientSecret = v
	} else if spec.ClientSecret == "required" {
		return nil, exitcode.WithHint(exitcode.UsageError("%s needs the app's client secret for connection %q", ctr.Name, c.Name),
			fmt.Sprintf("pipe it in: `connctl edit %s --secret-field client_secret --secret-stdin`", connection.QuoteArg(c.Name)))
	}
	return e, nil
}

// lockPath is the per-connection refresh lock file.
func (s *Service) lockPath(c *configstore.Connection) string {
	return filepath.Join(s.LockDir, c.ID+".lock")
}

// now is the manager's clock.
func (s *Service) now() time.Time { return s.Mgr.Now() }
