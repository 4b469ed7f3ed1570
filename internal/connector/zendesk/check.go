package zendesk

import (
	"context"

	"github.com/connctl/connctl/internal/keycheck"
)

// Zendesk: GET /api/v2/users/me.json with Basic {email}/token:{api_token}.
// https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user
//
// users/me serves anonymous Help Center visitors too: with no or wrong
// credentials it can answer 200 with an anonymous user whose id is null, so
// a null id is a failed sign-in, not a success.
func checkAPIToken(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	fs, token, err := in.Need("api_token", "subdomain", "email")
	if err != nil {
		return nil, err
	}
	email := fs[1]
	host := fs[0] + ".zendesk.com"
	f := keycheck.Fixes{
		Unauthorized: "check email and api_token, and that token access is on (Admin Center > Apps and integrations > APIs > Zendesk API)",
		Forbidden:    "the user may not use the API, or the account's plan does not include it",
		NotFound:     "check subdomain (acme for https://acme.zendesk.com)",
	}
	var me struct {
		User *struct {
			ID    any    `json:"id"`
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"user"`
	}
	r, err := in.GetJSON(ctx, in.BaseURL("https://"+host)+"/api/v2/users/me.json", "Authorization", in.Basic(email+"/token", token), f, nil, &me)
	if err != nil {
		return nil, err
	}
	if me.User == nil {
		return nil, keycheck.Unexpected(r, "a user")
	}
	if me.User.ID == nil || me.User.Role == "anonymous" {
		return nil, &keycheck.Error{Kind: keycheck.KindUnauthorized, Status: r.Status, Message: r.Host + " answered as an anonymous user, so it did not accept the credentials: " + f.Unauthorized}
	}
	return &keycheck.Identity{Account: me.User.Email, Subject: keycheck.JSONString(me.User.ID), Org: host}, nil
}
