// Package credcheck checks key-based credentials with the provider before
// create, authorize, reauthorize or edit saves them (the call `connctl test`
// makes), and records the outcome on the connection. It turns keycheck's
// answers into exit codes and hints; the only thing it writes is a warning
// when the outcome cannot be recorded.
package credcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/keycheck"
	"github.com/connctl/connctl/internal/secretstore"
)

// Checker is what Verify and AfterSave use: a command's Options hold one
// instead of all of Deps. Building it builds nothing (its fields are funcs).
type Checker struct {
	// SkipVerify: see deps.Deps.SkipVerify (the test binary's switch).
	SkipVerify bool
	HTTP       func() *http.Client // nil: keycheck's own client
	Catalog    func() *connector.Catalogue
	IO         *iostreams.IOStreams // for AfterSave's warning
}

// New returns the Checker on d's services.
func New(d *deps.Deps) *Checker {
	return &Checker{SkipVerify: d.SkipVerify, HTTP: d.HTTP, Catalog: d.Catalog, IO: d.IO}
}

// Verification is what a command that saves key-based credentials asks of
// Verify.
type Verification struct {
	Connector *connector.Connector
	Auth      *connector.AuthMethod
	Fields    map[string]string // the connection's fields after the change
	Secrets   map[string]string // the new secrets, by field name
	// Current is the connection being changed (nil on create): its stored
	// secrets fill those not given anew.
	Current *configstore.Connection
	// Saved says what happens to the old credentials when the check fails,
	// for the hint: "nothing was saved" or "the old secret is kept".
	Saved string
}

// Verify checks key-based credentials with the provider before they are
// saved, with the same call as `connctl test`. It returns the identity the
// provider reports, or nil when there is nothing to check (OAuth, a method
// keycheck does not know, or d.SkipVerify). A rejection is exit 4 with the
// provider's answer; a provider that cannot be reached is exit 1 with a
// hint naming --no-verify.
func (d *Checker) Verify(ctx context.Context, mg *connection.Manager, v Verification) (*keycheck.Identity, error) {
	if d.SkipVerify || v.Auth.Kind.Interactive() || v.Auth.Check == nil {
		return nil, nil
	}
	secrets := map[string]string{}
	for _, f := range connection.SecretFields(v.Connector, v.Auth) {
		if s, ok := v.Secrets[f.Name]; ok {
			secrets[f.Name] = s
			continue
		}
		if v.Current == nil || !v.Current.HasSecret(f.Name) {
			continue
		}
		s, err := mg.Secret(ctx, v.Current, f.Name)
		if errors.Is(err, secretstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		secrets[f.Name] = s
	}
	var hc *http.Client // nil: keycheck's own client
	if d.HTTP != nil {
		hc = d.HTTP()
	}
	id, err := keycheck.Check(ctx, hc, v.Connector.ID, v.Auth.Check, connection.Effective(v.Connector, v.Auth, v.Fields), secrets)
	if err == nil {
		return id, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	saved := v.Saved
	if saved == "" {
		saved = "nothing was saved"
	}
	var ke *keycheck.Error
	if !errors.As(err, &ke) {
		return nil, err
	}
	switch ke.Kind {
	case "unauthorized", "forbidden":
		return nil, exitcode.WithHint(exitcode.WithCode(exitcode.AuthNeeded, fmt.Errorf("the provider rejected the credentials: %s", ke.Message)),
			saved+"; give the right secret, or pass --no-verify to save it unchecked")
	case "network":
		return nil, exitcode.WithHint(exitcode.New(exitcode.Failure, "cannot check the credentials: %s", ke.Message),
			saved+"; to set up offline, pass --no-verify and check later with `connctl test`")
	}
	return nil, exitcode.WithHint(exitcode.New(exitcode.Failure, "cannot check the credentials: %s", ke.Message),
		saved+"; to save without the check, pass --no-verify")
}

// AfterSave records the outcome of Verify on a connection whose key-based
// credentials were just saved: the account the provider named, or, after
// --no-verify, that the credentials are unverified (only for methods
// `connctl test` can check, so that a passing test can clear it). It
// returns the connection as stored; a failure to record is a warning.
func (d *Checker) AfterSave(ctx context.Context, mg *connection.Manager, c *configstore.Connection, m *connector.AuthMethod, noVerify bool, id *keycheck.Identity) *configstore.Connection {
	if m.Kind.Interactive() || d.SkipVerify {
		return c
	}
	if _, ok := d.Catalog().Lookup(c.Connector); !ok || m.Check == nil {
		return c
	}
	if id != nil && id.Account != "" {
		mg.RecordAccount(ctx, c, id.Account)
	}
	out, err := mg.SetVerified(ctx, c.Name, !noVerify)
	if err != nil {
		d.IO.Warnf("the credentials were saved, but not whether they were checked: %v", err)
		return c
	}
	return out
}
