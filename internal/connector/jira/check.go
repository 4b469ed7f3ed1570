package jira

import (
	"context"
	"net/url"
	"strings"

	"github.com/connctl/connctl/internal/keycheck"
)

// Jira Cloud: GET {site_url}/rest/api/3/myself with Basic {email}:{api_token}.
// https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get
// https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
func checkAPIToken(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	site := strings.TrimRight(in.Optional("site_url", ""), "/")
	base := in.BaseURL(site)
	if base == "" {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: "the jira connection has no site_url: set it with --set site_url=https://acme.atlassian.net"}
	}
	fs, token, err := in.Need("api_token", "email")
	if err != nil {
		return nil, err
	}
	email := fs[0]
	f := keycheck.Fixes{
		Unauthorized: "check email and api_token (https://id.atlassian.com/manage-profile/security/api-tokens); a token with scopes works only through api.atlassian.com",
		Forbidden:    "the account may not use Jira on this site",
		NotFound:     "check site_url (e.g. https://acme.atlassian.net)",
	}
	// After several failed sign-ins Atlassian demands a CAPTCHA and refuses
	// Basic auth until someone signs in through the browser.
	captcha := func(r *keycheck.Response) *keycheck.Error {
		if strings.Contains(r.Header.Get("X-Seraph-LoginReason"), "AUTHENTICATION_DENIED") {
			return &keycheck.Error{Kind: keycheck.KindUnauthorized, Status: r.Status, Message: r.Host + " wants a CAPTCHA after failed sign-ins: sign in to the site once in a browser, then test again"}
		}
		return nil
	}
	var me struct {
		AccountID    string `json:"accountId"`
		EmailAddress string `json:"emailAddress"`
		DisplayName  string `json:"displayName"`
	}
	r, err := in.GetJSON(ctx, base+"/rest/api/3/myself", "Authorization", in.Basic(email, token), f, captcha, &me)
	if err != nil {
		return nil, err
	}
	if me.AccountID == "" {
		return nil, keycheck.Unexpected(r, "an accountId")
	}
	account := me.EmailAddress
	if account == "" { // hidden by the user's profile visibility
		account = email
	}
	org := r.Host
	if u, perr := url.Parse(site); perr == nil && u.Host != "" {
		org = u.Host
	}
	return &keycheck.Identity{Account: account, Subject: me.AccountID, Org: org}, nil
}
