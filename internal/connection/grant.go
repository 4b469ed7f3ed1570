package connection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/textsafe"
)

// Secret kinds of an OAuth grant. Access and refresh tokens are separate
// items (Windows caps an item at 2,560 bytes). The access token's kind is
// the key a job run hands it to its source under (jobrunner.Request.Secrets),
// so the two cannot drift apart.
const (
	KindAccessToken  = jobrunner.SecretAccessToken
	KindRefreshToken = "oauth_refresh_token"
)

// Grant is a new OAuth authorization to record.
type Grant struct {
	AccessToken  string
	RefreshToken string // empty: the provider issued none (the old one is removed)
	Account      string
	State        configstore.OAuthState
}

// StoreGrant stores the grant's tokens, then records the grant in the
// config and marks the connection authorized. If the config cannot be
// written the previous tokens are put back.
func (mg *Manager) StoreGrant(ctx context.Context, name string, g Grant) (*configstore.Connection, error) {
	cur, unlock, err := mg.lockByName(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	secrets := map[string]string{KindAccessToken: g.AccessToken}
	if g.RefreshToken != "" {
		secrets[KindRefreshToken] = g.RefreshToken
	}
	pending := unlisted(cur, sortedKeys(secrets))
	if g.RefreshToken == "" && cur.HasSecret(KindRefreshToken) {
		pending = append(pending, KindRefreshToken) // the old one is removed below
	}
	if err := mg.notePending(cur.ID, pending); err != nil {
		return nil, err
	}
	restore, err := mg.replaceSecrets(ctx, cur.ID, secrets)
	if err != nil {
		return nil, err
	}
	st, _ := mg.Secrets()
	now := mg.Now().UTC()
	updated, err := mg.setStatus(ctx, cur, configstore.StatusAuthorized, func(c *configstore.Connection) {
		kinds := []string{}
		for _, k := range c.Secrets {
			if k != KindAccessToken && k != KindRefreshToken {
				kinds = append(kinds, k)
			}
		}
		kinds = append(kinds, KindAccessToken)
		if g.RefreshToken != "" {
			kinds = append(kinds, KindRefreshToken)
		}
		c.Secrets = kinds
		c.SecretBackend = st.Name()
		c.AuthorizedAt = &now
		c.Account = textsafe.Sanitize(g.Account) // the provider's words; see package textsafe
		state := g.State
		c.OAuth = &state
	})
	if err != nil {
		if restore() {
			mg.clearPending(cur.ID)
		}
		return nil, err
	}
	if g.RefreshToken == "" && cur.HasSecret(KindRefreshToken) {
		mg.removeSecrets(ctx, cur, []string{KindRefreshToken})
	} else {
		mg.clearPending(cur.ID)
	}
	changes := []Change{{Field: "status", Old: string(cur.Status), New: string(updated.Status)}}
	if cur.Account != updated.Account {
		changes = append(changes, Change{Field: "account", Old: cur.Account, New: updated.Account})
	}
	changes = append(changes, Change{Field: KindAccessToken, Secret: true})
	if g.RefreshToken != "" {
		changes = append(changes, Change{Field: KindRefreshToken, Secret: true})
	}
	mg.notify(ctx, authorizeAction(cur.Status), updated, changes)
	return updated, nil
}

// UpdateTokens persists refreshed tokens: the secret store first (a rotated
// refresh token must be saved before the new access token is used), then
// the expiry in the config.
//
// The tokens are not rolled back when the config cannot be written: the
// provider may already have retired the old refresh token, so the new ones
// are the only good ones; the config then keeps the old expiry and the next
// use refreshes again. A connection deleted during the refresh gets nothing.
//
// prevRefresh is the refresh token the refresh used. A store that can
// check-and-set (Vault) writes the new one only if prevRefresh is still
// stored, so that a writer on another machine that saved a newer token is
// never overwritten; the loser gets an error wrapping ErrConflict.
func (mg *Manager) UpdateTokens(ctx context.Context, c *configstore.Connection, prevRefresh, access, refresh string, issued time.Time, expires *time.Time, scopes []string) (*configstore.Connection, error) {
	c, unlock, err := mg.lockID(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if c == nil {
		return nil, exitcode.New(exitcode.Failure, "the connection was deleted while its token was being refreshed")
	}
	st, err := mg.Secrets()
	if err != nil {
		return nil, SecretStoreError(err)
	}
	if refresh != "" && !c.HasSecret(KindRefreshToken) {
		if err := mg.notePending(c.ID, []string{KindRefreshToken}); err != nil {
			return nil, err
		}
	}
	if refresh != "" {
		var err error
		if sw, ok := st.(secretstore.Swapper); ok && prevRefresh != "" {
			err = sw.CompareAndSwap(ctx, c.ID, KindRefreshToken, prevRefresh, refresh)
		} else {
			err = st.Set(ctx, c.ID, KindRefreshToken, refresh)
		}
		if errors.Is(err, secretstore.ErrConflict) {
			return nil, exitcode.WithHint(exitcode.WithCode(exitcode.Failure, fmt.Errorf("the refresh token of %q was rotated by another writer at the same time; the newer one is kept: %w", c.Name, err)),
				"re-run: the next call uses the token the other writer saved")
		}
		if err != nil {
			return nil, SecretStoreError(fmt.Errorf("save the new refresh token of %q: %w", c.Name, err))
		}
	}
	if err := st.Set(ctx, c.ID, KindAccessToken, access); err != nil {
		return nil, SecretStoreError(fmt.Errorf("save the new access token of %q: %w", c.Name, err))
	}
	updated, err := mg.setStatus(ctx, c, c.Status, func(n *configstore.Connection) {
		if n.OAuth == nil {
			n.OAuth = &configstore.OAuthState{}
		}
		n.OAuth.IssuedAt = &issued
		n.OAuth.ExpiresAt = expires
		if len(scopes) > 0 {
			n.OAuth.Scopes = scopes
		}
		if refresh != "" && !n.HasSecret(KindRefreshToken) {
			n.Secrets = append(append([]string{}, n.Secrets...), KindRefreshToken)
		}
	})
	if err == nil {
		mg.clearPending(c.ID)
	}
	return updated, err
}

// MarkNeedsReauthorization records that the provider rejected the
// connection's credentials (or they went missing) and returns the exit-4
// error that tells the user what to run.
func (mg *Manager) MarkNeedsReauthorization(ctx context.Context, c *configstore.Connection, why string) error {
	_, _ = mg.setStatus(ctx, c, configstore.StatusNeedsReauthorization, func(n *configstore.Connection) { n.StatusReason = "" })
	return NeedsReauthorization(c.Name, why)
}

// NeedsReauthorization is the exit-4 error naming the fix.
func NeedsReauthorization(name, why string) error {
	return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "connection %q needs reauthorization: %s", name, why),
		fmt.Sprintf("run `connctl reauthorize %s`", quoteArg(name)))
}

// Secret reads one secret of c; a missing one is an exit-4 error.
func (mg *Manager) Secret(ctx context.Context, c *configstore.Connection, kind string) (string, error) {
	st, err := mg.Secrets()
	if err != nil {
		return "", SecretStoreError(err)
	}
	if err := checkBackend(c, st); err != nil {
		return "", err
	}
	v, err := st.Get(ctx, c.ID, kind)
	if errors.Is(err, secretstore.ErrNotFound) {
		return "", err
	}
	if err != nil {
		return "", SecretStoreError(err)
	}
	mg.secretFound(ctx, c)
	return v, nil
}

// RevokeLocal removes the connection's credentials (for OAuth connections
// only the tokens, keeping the client secret for reauthorization) and
// marks it revoked. Like Delete it reads the secrets first (an unreachable
// store changes nothing), then marks the connection revoked, then removes
// them; one that cannot be removed is left to a later sweep.
func (mg *Manager) RevokeLocal(ctx context.Context, name string, oauthOnly bool) (*configstore.Connection, error) {
	cur, unlock, err := mg.lockByName(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	keep := []string{}
	drop := *cur
	drop.Secrets = nil
	for _, k := range cur.Secrets {
		if oauthOnly && k != KindAccessToken && k != KindRefreshToken {
			keep = append(keep, k)
		} else {
			drop.Secrets = append(drop.Secrets, k)
		}
	}
	if len(drop.Secrets) > 0 {
		if err := mg.probeSecrets(ctx, cur, drop.Secrets); err != nil {
			return nil, err
		}
		if err := mg.notePending(cur.ID, drop.Secrets); err != nil {
			return nil, err
		}
	}
	updated, err := mg.setStatus(ctx, cur, configstore.StatusRevoked, func(c *configstore.Connection) {
		c.Secrets = keep
		if len(keep) == 0 {
			c.SecretBackend = ""
		}
		c.AuthorizedAt = nil
		if c.OAuth != nil {
			c.OAuth.ExpiresAt = nil
			c.OAuth.IssuedAt = nil
		}
	})
	if err != nil {
		mg.clearPending(cur.ID)
		return nil, err
	}
	mg.removeSecrets(ctx, cur, drop.Secrets)
	{
		changes := []Change{{Field: "status", Old: string(cur.Status), New: string(updated.Status)}}
		for _, k := range drop.Secrets {
			changes = append(changes, Change{Field: k, Secret: true})
		}
		mg.notify(ctx, "revoke", updated, changes)
	}
	return updated, nil
}

// RecordAccount stores who the connection is authorized as, when a check
// with the provider found out (best effort: a failure changes nothing).
func (mg *Manager) RecordAccount(ctx context.Context, c *configstore.Connection, account string) {
	account = textsafe.Sanitize(account) // the provider's words; see package textsafe
	if account == "" || account == c.Account {
		return
	}
	_, _ = mg.setStatus(ctx, c, c.Status, func(n *configstore.Connection) { n.Account = account })
}
