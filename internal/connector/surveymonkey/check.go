package surveymonkey

import (
	"context"
	"encoding/json"

	"github.com/connctl/connctl/internal/keycheck"
)

// SurveyMonkey private app: GET /v3/users/me with Bearer {access_token}.
// https://api.surveymonkey.com/v3/docs#users-me
func checkPrivateApp(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	token, err := in.Secret("access_token")
	if err != nil {
		return nil, err
	}
	// SurveyMonkey answers error 1018 when the account lives in another data
	// centre (EU, CA) than the host called.
	dataCentre := func(r *keycheck.Response) *keycheck.Error {
		var body struct {
			Error struct {
				ID any `json:"id"`
			} `json:"error"`
		}
		if json.Unmarshal(r.Body, &body) == nil && keycheck.JSONString(body.Error.ID) == "1018" {
			return &keycheck.Error{Kind: keycheck.KindConfig, Status: r.Status, Message: r.Host + " says the account lives in another data centre (error 1018): set region=eu (api.eu.surveymonkey.com) or region=ca (api.surveymonkey.ca)"}
		}
		return nil
	}
	var me struct {
		ID       any    `json:"id"`
		Username string `json:"username"`
		Email    string `json:"email"`
	}
	base := Host(in.Optional("region", "us"))
	r, err := in.GetJSON(ctx, in.BaseURL(base)+"/v3/users/me", "Authorization", "Bearer "+token, keycheck.Fixes{
		Unauthorized: "check access_token (the private app's Settings > Access Token) and region (us, eu or ca: the data centre of the account)",
		Forbidden:    "enable the users_read scope on the app",
		NotFound:     "check base_url (default " + base + ")",
	}, dataCentre, &me)
	if err != nil {
		return nil, err
	}
	id := keycheck.JSONString(me.ID)
	if id == "" {
		return nil, keycheck.Unexpected(r, "a user id")
	}
	account := me.Email
	if account == "" {
		account = me.Username
	}
	return &keycheck.Identity{Account: account, Subject: id}, nil
}
