package oauthflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// IDToken is what connctl takes from an OpenID Connect id_token once
// checkIDToken has validated it.
type IDToken struct {
	Subject           string
	Email             string
	PreferredUsername string
}

// openID reports whether the authorization is an OpenID Connect request.
func (c *Config) openID() bool { return slices.Contains(c.Scopes, "openid") }

// checkIDToken validates the id_token of tok, if any, with go-oidc: the
// signature against the issuer's JWKS (the discovered jwks_uri), iss equal to
// the issuer, aud holding the client ID, exp not passed and, when one was
// sent, the nonce (OpenID Connect Core §3.1.3.7). Without an issuer and a
// JWKS URL (endpoints configured by hand) the id_token cannot be checked, so
// it is not used: nil, nil.
func (c *Config) checkIDToken(ctx context.Context, tok *oauth2.Token, nonce string) (*IDToken, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" || c.Issuer == "" || c.JWKSURL == "" {
		return nil, nil
	}
	kctx := ctx
	if c.HTTPClient != nil {
		kctx = oidc.ClientContext(ctx, c.HTTPClient)
	}
	var algs []string
	for _, a := range c.IDTokenAlgs {
		if a != "none" && !strings.HasPrefix(a, "HS") { // a JWKS holds no shared secret
			algs = append(algs, a)
		}
	}
	v := oidc.NewVerifier(strings.TrimSuffix(c.Issuer, "/"), oidc.NewRemoteKeySet(kctx, c.JWKSURL),
		&oidc.Config{ClientID: c.ClientID, SupportedSigningAlgs: algs})
	idt, err := v.Verify(kctx, raw)
	if err != nil && strings.HasSuffix(c.Issuer, "/") {
		// The issuer as discovery spelt it, trailing slash and all.
		v = oidc.NewVerifier(c.Issuer, oidc.NewRemoteKeySet(kctx, c.JWKSURL), &oidc.Config{ClientID: c.ClientID, SupportedSigningAlgs: algs})
		idt, err = v.Verify(kctx, raw)
	}
	if err != nil {
		return nil, fmt.Errorf("the id_token from %s is not valid (%s): nothing was stored", c.Issuer, oneLine(strings.TrimPrefix(err.Error(), "oidc: "), 200))
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, fmt.Errorf("the id_token from %s does not carry the nonce connctl sent (a replayed or injected token): nothing was stored", c.Issuer)
	}
	var claims struct {
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("the id_token from %s has unreadable claims: nothing was stored", c.Issuer)
	}
	return &IDToken{Subject: idt.Subject, Email: claims.Email, PreferredUsername: claims.PreferredUsername}, nil
}
