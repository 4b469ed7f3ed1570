package authorization

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gofrs/flock"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/oauthflow"
	"github.com/connctl/connctl/internal/secretstore"
)

// RefreshMargin is how long before expiry a token is refreshed, at most: a
// token that lives less than four margins is refreshed when a quarter of its
// lifetime is left (see refreshMargin), so that a 65-second token is not
// refreshed on every call.
const RefreshMargin = 60 * time.Second

// Token is a usable access token and what scripts need with it.
type Token struct {
	AccessToken string     `json:"access_token"`
	TokenType   string     `json:"token_type"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Scopes      []string   `json:"scopes"`
	APIBase     string     `json:"api_base"`
	Refreshed   bool       `json:"refreshed"`
}

// Usable checks that c may be used: authorized, or an exit-4 error naming
// the command that fixes it.
func Usable(c *configstore.Connection) error { return usableAt(c, time.Time{}) }

// usableAt is Usable on connctl's clock: it can then tell a token that has
// expired without a refresh token from credentials the provider rejected.
func usableAt(c *configstore.Connection, now time.Time) error {
	q := connection.QuoteArg(c.Name)
	switch c.Status {
	case configstore.StatusAuthorized:
		return nil
	case configstore.StatusNotAuthorized:
		return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "connection %q is not authorized yet", c.Name), "run `connctl authorize "+q+"`")
	case configstore.StatusRevoked:
		return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "connection %q is revoked", c.Name), "run `connctl reauthorize "+q+"`")
	default:
		if c.StatusReason == configstore.ReasonSecretMissing {
			// Nothing was rejected: a secret was not found. Reading it again
			// tells whether it is back (secrets.backend switched back) or
			// still missing, and says which.
			return nil
		}
		return connection.NeedsReauthorization(c.Name, reauthReason(c, now))
	}
}

// reauthReason says why a connection marked needs_reauthorization needs it,
// from what the config records: a grant without a refresh token whose access
// token has expired (now zero: whatever the time) was not rejected by anyone.
func reauthReason(c *configstore.Connection, now time.Time) string {
	if o := c.OAuth; o != nil && o.ExpiresAt != nil && !c.HasSecret(connection.KindRefreshToken) &&
		(now.IsZero() || !o.ExpiresAt.After(now)) {
		return fmt.Sprintf("its access token expired at %s and the provider issued no refresh token", o.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return "the provider rejected its credentials earlier"
}

func fresh(c *configstore.Connection, now time.Time) bool {
	if c.OAuth == nil || c.OAuth.ExpiresAt == nil {
		return true // no expiry: a long-lived token (SurveyMonkey) or the provider did not say
	}
	return c.OAuth.ExpiresAt.After(now.Add(refreshMargin(c.OAuth)))
}

// refreshMargin is how long before its expiry a token is refreshed:
// RefreshMargin, or a quarter of the token's lifetime (expires_at minus
// issued_at, both recorded when the token was stored) when that is shorter.
func refreshMargin(o *configstore.OAuthState) time.Duration {
	if o.IssuedAt == nil || o.ExpiresAt == nil {
		return RefreshMargin
	}
	if life := o.ExpiresAt.Sub(*o.IssuedAt); life > 0 && life/4 < RefreshMargin {
		return life / 4
	}
	return RefreshMargin
}

// AccessToken returns a valid access token for the connection, refreshing
// it when it has expired or is about to (force refreshes regardless).
// Refreshes are serialised across processes by a per-connection lock; the
// stored token is re-read under the lock, so a token another process just
// refreshed is used as is, and a rotated refresh token is persisted before
// the new access token is returned.
func (s *Service) AccessToken(ctx context.Context, name string, force bool) (*Token, error) {
	c, ok := s.Mgr.Config.Find(name)
	if !ok {
		return nil, connection.NotFound(name)
	}
	if !s.IsOAuth(c) {
		return nil, exitcode.UsageError("connection %q uses %s, not OAuth: it has no access token", c.Name, c.Auth)
	}
	if err := usableAt(c, s.now()); err != nil {
		return nil, err
	}
	if !force && fresh(c, s.now()) {
		if t, err := s.stored(ctx, c, false); err == nil || !errors.Is(err, errRefresh) {
			return t, err
		}
	}
	if err := os.MkdirAll(s.LockDir, 0o700); err != nil {
		return nil, fmt.Errorf("create lock folder: %w", err)
	}
	lock := flock.New(s.lockPath(c))
	lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if ok, err := lock.TryLockContext(lctx, 20*time.Millisecond); err != nil || !ok {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("another connctl process is refreshing %q and has not finished", c.Name)
	}
	defer func() { _ = lock.Unlock() }()
	if s.SharedLock != nil {
		unlock, err := s.SharedLock(lctx, c.ID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if lctx.Err() != nil {
				return nil, fmt.Errorf("another machine is refreshing %q and has not finished", c.Name)
			}
			return nil, err
		}
		defer unlock()
	}

	before := c.OAuth
	if err := s.Mgr.Config.Reload(); err != nil {
		return nil, err
	}
	if c, ok = s.Mgr.Config.Find(name); !ok {
		return nil, connection.NotFound(name)
	}
	if err := usableAt(c, s.now()); err != nil {
		return nil, err
	}
	// Another process refreshed while we waited: its token is as new as a
	// refresh of ours would be, so use it.
	if c.OAuth != nil && before != nil && c.OAuth.IssuedAt != nil && before.IssuedAt != nil &&
		c.OAuth.IssuedAt.After(*before.IssuedAt) {
		if t, err := s.stored(ctx, c, false); err == nil || !errors.Is(err, errRefresh) {
			return t, err
		}
	}
	if !force && fresh(c, s.now()) {
		if t, err := s.stored(ctx, c, false); err == nil || !errors.Is(err, errRefresh) {
			return t, err
		}
	}
	return s.refresh(ctx, c)
}

var errRefresh = errors.New("refresh needed")

// expiry converts x/oauth2's expiry (wall clock at receipt + expires_in) to
// connctl's clock; nil when the provider gave none.
func (s *Service) expiry(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	e := s.now().Add(time.Until(t)).UTC().Round(time.Second)
	return &e
}

func (s *Service) stored(ctx context.Context, c *configstore.Connection, refreshed bool) (*Token, error) {
	v, err := s.Mgr.Secret(ctx, c, connection.KindAccessToken)
	if errors.Is(err, secretstore.ErrNotFound) {
		if c.HasSecret(connection.KindRefreshToken) && !refreshed {
			return nil, errRefresh
		}
		return nil, s.Mgr.SecretMissing(ctx, c, connection.KindAccessToken, err)
	}
	if err != nil {
		return nil, err
	}
	t := &Token{AccessToken: v, TokenType: "Bearer", Refreshed: refreshed, Scopes: []string{}}
	if c.OAuth != nil {
		t.ExpiresAt, t.APIBase = c.OAuth.ExpiresAt, c.OAuth.APIBase
		if c.OAuth.Scopes != nil {
			t.Scopes = c.OAuth.Scopes
		}
	}
	return t, nil
}

func (s *Service) refresh(ctx context.Context, c *configstore.Connection) (*Token, error) {
	rt, err := s.Mgr.Secret(ctx, c, connection.KindRefreshToken)
	if errors.Is(err, secretstore.ErrNotFound) && c.HasSecret(connection.KindRefreshToken) {
		return nil, s.Mgr.SecretMissing(ctx, c, connection.KindRefreshToken, err)
	}
	if errors.Is(err, secretstore.ErrNotFound) {
		why := "its refresh token is missing from the secret store"
		if !c.HasSecret(connection.KindRefreshToken) {
			why = reauthReason(c, time.Time{})
		}
		return nil, s.Mgr.MarkNeedsReauthorization(ctx, c, why)
	}
	if err != nil {
		return nil, err
	}
	e, err := s.Resolve(ctx, c)
	if err != nil {
		return nil, err
	}
	tok, err := oauthflow.Refresh(ctx, e.Client(s.HTTP), rt)
	if err != nil {
		if oauthflow.IsInvalidGrant(err, e.hooks().InvalidGrantCodes...) {
			return nil, s.Mgr.MarkNeedsReauthorization(ctx, c, "the provider rejected its refresh token (invalid_grant)")
		}
		// A *CallError, so that status and job runs tell the provider's
		// trouble (unreachable, a 5xx, rate limiting) from a refusal.
		kind, status := oauthflow.TokenErrorKind(err)
		return nil, &CallError{Kind: kind, Status: status, Message: fmt.Sprintf("refresh the token of %q: %s", c.Name, oauthflow.DescribeTokenError(err))}
	}
	exp := s.expiry(tok.Expiry)
	newRT := ""
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		newRT = tok.RefreshToken
	}
	var scopes []string
	if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
		scopes = grantedScopes(tok, nil)
	}
	updated, err := s.Mgr.UpdateTokens(ctx, c, rt, tok.AccessToken, newRT, s.now().UTC(), exp, scopes)
	if err != nil {
		return nil, err
	}
	out := &Token{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresAt: exp, Refreshed: true, Scopes: []string{}}
	if updated.OAuth != nil {
		out.APIBase = updated.OAuth.APIBase
		if updated.OAuth.Scopes != nil {
			out.Scopes = updated.OAuth.Scopes
		}
	}
	return out, nil
}
