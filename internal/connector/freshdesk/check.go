package freshdesk

import (
	"context"

	"github.com/connctl/connctl/internal/keycheck"
)

// Freshdesk: GET /api/v2/agents/me with Basic {api_key}:X.
// https://developers.freshdesk.com/api/#me (View the currently authenticated agent)
func checkAPIKey(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	f, key, err := in.Need("api_key", "domain")
	if err != nil {
		return nil, err
	}
	host := Host(f[0])
	var me struct {
		ID      any `json:"id"`
		Contact *struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"contact"`
	}
	r, err := in.GetJSON(ctx, in.BaseURL("https://"+host)+"/api/v2/agents/me", "Authorization", in.Basic(key, "X"), keycheck.Fixes{
		Unauthorized: "check api_key (in Freshdesk: your profile picture > Profile settings > View API key)",
		Forbidden:    "the agent's role or the account's plan does not allow API access",
		NotFound:     "check domain (acme or acme.freshdesk.com)",
	}, nil, &me)
	if err != nil {
		return nil, err
	}
	if me.Contact == nil {
		return nil, keycheck.Unexpected(r, "an agent")
	}
	return &keycheck.Identity{Account: me.Contact.Email, Subject: keycheck.JSONString(me.ID), Org: host}, nil
}
