package hubspot

import (
	"context"

	"github.com/connctl/connctl/internal/keycheck"
)

// HubSpot private app: GET /account-info/2026-03/details with Bearer
// {access_token}. The 2026-03 path is the current one; /account-info/v3/details
// is the same call in the legacy numeric versioning.
// https://developers.hubspot.com/docs/api-reference/latest/account/account-information/get-account-details
func checkPrivateApp(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	token, err := in.Secret("access_token")
	if err != nil {
		return nil, err
	}
	var acct struct {
		PortalID    any    `json:"portalId"`
		AccountType string `json:"accountType"`
		UIDomain    string `json:"uiDomain"`
	}
	r, err := in.GetJSON(ctx, in.BaseURL("https://api.hubapi.com")+"/account-info/2026-03/details", "Authorization", "Bearer "+token, keycheck.Fixes{
		Unauthorized: "check access_token (the private app's token, pat-...; rotating it replaces the old one)",
		Forbidden:    "the private app lacks a scope this call needs, or the account's plan does not include the API",
		NotFound:     "check base_url (default https://api.hubapi.com)",
	}, nil, &acct)
	if err != nil {
		return nil, err
	}
	portal := keycheck.JSONString(acct.PortalID)
	if portal == "" {
		return nil, keycheck.Unexpected(r, "a portalId")
	}
	return &keycheck.Identity{Org: portal}, nil
}
