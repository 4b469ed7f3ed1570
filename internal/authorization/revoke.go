package authorization

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/oauthflow"
	"github.com/connctl/connctl/internal/secretstore"
)

// Remote outcomes of a revocation, reported honestly per connection.
const (
	RevokedAtProvider = "revoked at provider"
	NoEndpoint        = "provider has no revocation endpoint: removed locally"
	NothingToRevoke   = "no token stored: removed locally"
	AlreadyEnded      = RevokedAtProvider + " (it had already ended the grant): removed locally"
)

// Revocation is what happened when a connection was revoked.
type Revocation struct {
	Connection *configstore.Connection `json:"-"`
	Name       string                  `json:"name"`
	Remote     string                  `json:"remote"`
	Error      string                  `json:"error,omitempty"`
}

// Revoke asks the provider to revoke the connection's grant (refresh token
// first, which also ends its access tokens), then removes the tokens locally
// and marks the connection revoked. The local tokens are removed even when
// the provider refuses; that failure is returned alongside the result.
func (s *Service) Revoke(ctx context.Context, name string) (*Revocation, error) {
	c, ok := s.Mgr.Config.Find(name)
	if !ok {
		return nil, connection.NotFound(name)
	}
	rep := &Revocation{Name: c.Name}
	remoteErr := s.revokeRemote(ctx, c, rep)
	updated, err := s.Mgr.RevokeLocal(ctx, c.Name, true)
	if err != nil {
		return nil, err
	}
	rep.Connection = updated
	if remoteErr != nil {
		rep.Error = remoteErr.Error()
		return rep, exitcode.WithHint(fmt.Errorf("revoke %q at the provider: %w (the local tokens were removed)", c.Name, remoteErr),
			"revoke the app's access in the provider's account settings to be sure")
	}
	return rep, nil
}

func (s *Service) revokeRemote(ctx context.Context, c *configstore.Connection, rep *Revocation) error {
	token, hint := "", ""
	for _, k := range []struct{ kind, hint string }{{connection.KindRefreshToken, "refresh_token"}, {connection.KindAccessToken, "access_token"}} {
		if !c.HasSecret(k.kind) {
			continue
		}
		v, err := s.Mgr.Secret(ctx, c, k.kind)
		if errors.Is(err, secretstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		token, hint = v, k.hint
		break
	}
	if token == "" {
		rep.Remote = NothingToRevoke
		return nil
	}
	e, err := s.Resolve(ctx, c)
	if err != nil {
		rep.Remote = "not revoked at provider"
		return err
	}
	if e.RevokeURL == "" {
		rep.Remote = NoEndpoint
		return nil
	}
	if e.RevokeStyle == oauthflow.RevokeDelete {
		// Zendesk revokes "the current token": the access token's grant.
		if v, err := s.Mgr.Secret(ctx, c, connection.KindAccessToken); err == nil {
			token = v
		}
	}
	h := e.hooks()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = oauthflow.Revoke(rctx, e.Client(s.HTTP), e.RevokeURL, e.RevokeStyle, token, hint)
	var re *oauthflow.RevokeError
	if e.RevokeStyle == oauthflow.RevokeDelete && errors.As(err, &re) && re.Status == http.StatusUnauthorized {
		// The DELETE signs in with the access token it ends, so an expired
		// or ended one is refused (401) while the refresh token may live on.
		// Get a new access token and try again; a refresh token the provider
		// refuses (invalid_grant) means it has ended the grant already.
		if rt, rerr := s.Mgr.Secret(ctx, c, connection.KindRefreshToken); rerr == nil {
			tok, rerr := oauthflow.Refresh(rctx, e.Client(s.HTTP), rt)
			switch {
			case rerr == nil:
				err = oauthflow.Revoke(rctx, e.Client(s.HTTP), e.RevokeURL, e.RevokeStyle, tok.AccessToken, hint)
			case oauthflow.IsInvalidGrant(rerr, h.InvalidGrantCodes...):
				rep.Remote = AlreadyEnded
				return nil
			}
		}
	}
	if errors.As(err, &re) && (re.Status == http.StatusBadRequest && re.Code == "invalid_token" || h.RevokeEnded != nil && h.RevokeEnded(re.Status, re.Code)) {
		// Google answers a token that is already expired or revoked with
		// 400 invalid_token where RFC 7009 answers 200: the token is dead
		// at the provider already.
		// https://developers.google.com/identity/protocols/oauth2/native-app#tokenrevoke
		// A connector may say which other answers mean so (RevokeEnded).
		rep.Remote = AlreadyEnded
		return nil
	}
	if err != nil {
		rep.Remote = "not revoked at provider"
		return err
	}
	rep.Remote = RevokedAtProvider
	return nil
}

// Test calls the provider's who-am-I with the connection's credentials.
// An OAuth connection whose token is rejected gets one forced refresh and a
// retry before it is reported unauthorized.
func (s *Service) Test(ctx context.Context, name string) (*Identity, error) {
	c, ok := s.Mgr.Config.Find(name)
	if !ok {
		return nil, connection.NotFound(name)
	}
	tok, err := s.AccessToken(ctx, name, false)
	if err != nil {
		return nil, err
	}
	e, err := s.Resolve(ctx, c)
	if err != nil {
		return nil, err
	}
	id, err := s.identity(ctx, e, tok.AccessToken, c.OAuth)
	var ce *CallError
	if errors.As(err, &ce) && (ce.Kind == "unauthorized" || ce.Kind == "revoked") && c.HasSecret(connection.KindRefreshToken) && !tok.Refreshed {
		if tok, err = s.AccessToken(ctx, name, true); err != nil {
			return nil, err
		}
		id, err = s.identity(ctx, e, tok.AccessToken, c.OAuth)
	}
	if errors.As(err, &ce) && (ce.Kind == "unauthorized" || ce.Kind == "revoked") {
		if cur, ok := s.Mgr.Config.Find(name); ok {
			return nil, s.Mgr.MarkNeedsReauthorization(ctx, cur, ce.Message)
		}
	}
	return id, err
}
