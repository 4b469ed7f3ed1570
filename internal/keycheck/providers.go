package keycheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/connctl/connctl/internal/connector/surveymonkey"

	"github.com/connctl/connctl/internal/connector/freshdesk"
	"github.com/connctl/connctl/internal/connector/gainsightapi"
	"github.com/connctl/connctl/internal/connector/gainsightpx"
)

// getJSON GETs u with one credential header and decodes a 2xx answer into
// out. inspect, when not nil, may classify a non-2xx answer first from the
// provider's own error body; otherwise statusError does, with f.
func (in *input) getJSON(ctx context.Context, u, header, value string, f fixes, inspect func(*response) *Error, out any) (*response, error) {
	return in.sendJSON(ctx, request{method: http.MethodGet, url: u, header: http.Header{header: {value}}}, f, inspect, out)
}

func (in *input) sendJSON(ctx context.Context, req request, f fixes, inspect func(*response) *Error, out any) (*response, error) {
	r, err := in.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !r.ok() {
		if inspect != nil {
			if e := inspect(r); e != nil {
				return r, e
			}
		}
		if in.fields["base_url"] != "" && !strings.Contains(f.notFound, "base_url") {
			f.notFound += ", and base_url"
		}
		return r, statusError(r, f)
	}
	return r, decodeJSON(r, out)
}

// Freshdesk: GET /api/v2/agents/me with Basic {api_key}:X.
// https://developers.freshdesk.com/api/#me (View the currently authenticated agent)
func checkFreshdesk(ctx context.Context, in *input) (*Identity, error) {
	domain, err := in.field("domain")
	if err != nil {
		return nil, err
	}
	key, err := in.secret("api_key")
	if err != nil {
		return nil, err
	}
	host := freshdesk.Host(domain)
	var me struct {
		ID      any `json:"id"`
		Contact *struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"contact"`
	}
	r, err := in.getJSON(ctx, in.baseURL("https://"+host)+"/api/v2/agents/me", "Authorization", in.basic(key, "X"), fixes{
		unauthorized: "check api_key (in Freshdesk: your profile picture > Profile settings > View API key)",
		forbidden:    "the agent's role or the account's plan does not allow API access",
		notFound:     "check domain (acme or acme.freshdesk.com)",
	}, nil, &me)
	if err != nil {
		return nil, err
	}
	if me.Contact == nil {
		return nil, unexpected(r, "an agent")
	}
	return &Identity{Account: me.Contact.Email, Subject: jsonString(me.ID), Org: host}, nil
}

// Zendesk: GET /api/v2/users/me.json with Basic {email}/token:{api_token}.
// https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user
//
// users/me serves anonymous Help Center visitors too: with no or wrong
// credentials it can answer 200 with an anonymous user whose id is null, so
// a null id is a failed sign-in, not a success.
func checkZendesk(ctx context.Context, in *input) (*Identity, error) {
	sub, err := in.field("subdomain")
	if err != nil {
		return nil, err
	}
	email, err := in.field("email")
	if err != nil {
		return nil, err
	}
	token, err := in.secret("api_token")
	if err != nil {
		return nil, err
	}
	host := sub + ".zendesk.com"
	f := fixes{
		unauthorized: "check email and api_token, and that token access is on (Admin Center > Apps and integrations > APIs > Zendesk API)",
		forbidden:    "the user may not use the API, or the account's plan does not include it",
		notFound:     "check subdomain (acme for https://acme.zendesk.com)",
	}
	var me struct {
		User *struct {
			ID    any    `json:"id"`
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"user"`
	}
	r, err := in.getJSON(ctx, in.baseURL("https://"+host)+"/api/v2/users/me.json", "Authorization", in.basic(email+"/token", token), f, nil, &me)
	if err != nil {
		return nil, err
	}
	if me.User == nil {
		return nil, unexpected(r, "a user")
	}
	if me.User.ID == nil || me.User.Role == "anonymous" {
		return nil, &Error{Kind: kindUnauthorized, Status: r.status, Message: r.host + " answered as an anonymous user, so it did not accept the credentials: " + f.unauthorized}
	}
	return &Identity{Account: me.User.Email, Subject: jsonString(me.User.ID), Org: host}, nil
}

// Jira Cloud: GET {site_url}/rest/api/3/myself with Basic {email}:{api_token}.
// https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get
// https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
func checkJira(ctx context.Context, in *input) (*Identity, error) {
	site := strings.TrimRight(in.optional("site_url", ""), "/")
	base := in.baseURL(site)
	if base == "" {
		return nil, &Error{Kind: kindConfig, Message: "the jira connection has no site_url: set it with --set site_url=https://acme.atlassian.net"}
	}
	email, err := in.field("email")
	if err != nil {
		return nil, err
	}
	token, err := in.secret("api_token")
	if err != nil {
		return nil, err
	}
	f := fixes{
		unauthorized: "check email and api_token (https://id.atlassian.com/manage-profile/security/api-tokens); a token with scopes works only through api.atlassian.com",
		forbidden:    "the account may not use Jira on this site",
		notFound:     "check site_url (e.g. https://acme.atlassian.net)",
	}
	// After several failed sign-ins Atlassian demands a CAPTCHA and refuses
	// Basic auth until someone signs in through the browser.
	captcha := func(r *response) *Error {
		if strings.Contains(r.header.Get("X-Seraph-LoginReason"), "AUTHENTICATION_DENIED") {
			return &Error{Kind: kindUnauthorized, Status: r.status, Message: r.host + " wants a CAPTCHA after failed sign-ins: sign in to the site once in a browser, then test again"}
		}
		return nil
	}
	var me struct {
		AccountID    string `json:"accountId"`
		EmailAddress string `json:"emailAddress"`
		DisplayName  string `json:"displayName"`
	}
	r, err := in.getJSON(ctx, base+"/rest/api/3/myself", "Authorization", in.basic(email, token), f, captcha, &me)
	if err != nil {
		return nil, err
	}
	if me.AccountID == "" {
		return nil, unexpected(r, "an accountId")
	}
	account := me.EmailAddress
	if account == "" { // hidden by the user's profile visibility
		account = email
	}
	org := r.host
	if u, perr := url.Parse(site); perr == nil && u.Host != "" {
		org = u.Host
	}
	return &Identity{Account: account, Subject: me.AccountID, Org: org}, nil
}

// HubSpot private app: GET /account-info/2026-03/details with Bearer
// {access_token}. The 2026-03 path is the current one; /account-info/v3/details
// is the same call in the legacy numeric versioning.
// https://developers.hubspot.com/docs/api-reference/latest/account/account-information/get-account-details
func checkHubSpot(ctx context.Context, in *input) (*Identity, error) {
	token, err := in.secret("access_token")
	if err != nil {
		return nil, err
	}
	var acct struct {
		PortalID    any    `json:"portalId"`
		AccountType string `json:"accountType"`
		UIDomain    string `json:"uiDomain"`
	}
	r, err := in.getJSON(ctx, in.baseURL("https://api.hubapi.com")+"/account-info/2026-03/details", "Authorization", "Bearer "+token, fixes{
		unauthorized: "check access_token (the private app's token, pat-...; rotating it replaces the old one)",
		forbidden:    "the private app lacks a scope this call needs, or the account's plan does not include the API",
		notFound:     "check base_url (default https://api.hubapi.com)",
	}, nil, &acct)
	if err != nil {
		return nil, err
	}
	portal := jsonString(acct.PortalID)
	if portal == "" {
		return nil, unexpected(r, "a portalId")
	}
	return &Identity{Org: portal}, nil
}

// SurveyMonkey private app: GET /v3/users/me with Bearer {access_token}.
// https://api.surveymonkey.com/v3/docs#users-me
func checkSurveyMonkey(ctx context.Context, in *input) (*Identity, error) {
	token, err := in.secret("access_token")
	if err != nil {
		return nil, err
	}
	// SurveyMonkey answers error 1018 when the account lives in another data
	// centre (EU, CA) than the host called.
	dataCentre := func(r *response) *Error {
		var body struct {
			Error struct {
				ID any `json:"id"`
			} `json:"error"`
		}
		if json.Unmarshal(r.body, &body) == nil && jsonString(body.Error.ID) == "1018" {
			return &Error{Kind: kindConfig, Status: r.status, Message: r.host + " says the account lives in another data centre (error 1018): set region=eu (api.eu.surveymonkey.com) or region=ca (api.surveymonkey.ca)"}
		}
		return nil
	}
	var me struct {
		ID       any    `json:"id"`
		Username string `json:"username"`
		Email    string `json:"email"`
	}
	base := surveymonkey.Host(in.optional("region", "us"))
	r, err := in.getJSON(ctx, in.baseURL(base)+"/v3/users/me", "Authorization", "Bearer "+token, fixes{
		unauthorized: "check access_token (the private app's Settings > Access Token) and region (us, eu or ca: the data centre of the account)",
		forbidden:    "enable the users_read scope on the app",
		notFound:     "check base_url (default " + base + ")",
	}, dataCentre, &me)
	if err != nil {
		return nil, err
	}
	id := jsonString(me.ID)
	if id == "" {
		return nil, unexpected(r, "a user id")
	}
	account := me.Email
	if account == "" {
		account = me.Username
	}
	return &Identity{Account: account, Subject: id}, nil
}

// mixpanelAppHosts are the application API hosts by data residency (the
// servers of Mixpanel's app API: mixpanel, eu.mixpanel, in.mixpanel).
// https://docs.mixpanel.com/reference/service-accounts-api
var mixpanelAppHosts = map[string]string{"us": "mixpanel.com", "eu": "eu.mixpanel.com", "in": "in.mixpanel.com"}

// mixpanelExportHosts maps the catalogue's base_url values (export API
// hosts) to the app API host of the same residency.
var mixpanelExportHosts = map[string]string{"data.mixpanel.com": "mixpanel.com", "data-eu.mixpanel.com": "eu.mixpanel.com", "data-in.mixpanel.com": "in.mixpanel.com"}

// mixpanelBase is where /api/app/me lives. The catalogue's base_url is the
// export API base (data*.mixpanel.com): one of those selects the app host of
// the same residency; any other base_url (a proxy, a test server) is used
// as it is.
func mixpanelBase(region, baseURL string) (string, error) {
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err == nil && u.Host != "" {
			if app, ok := mixpanelExportHosts[strings.ToLower(u.Hostname())]; ok {
				return "https://" + app, nil
			}
		}
		return baseURL, nil
	}
	host, ok := mixpanelAppHosts[region]
	if !ok {
		return "", &Error{Kind: kindConfig, Message: fmt.Sprintf("the mixpanel connection's region %q is not us, eu or in: set it with --set region=us", region)}
	}
	return "https://" + host, nil
}

// Mixpanel service account: GET /api/app/me with Basic {username}:{secret}.
// https://developer.mixpanel.com/reference/service-accounts (Authenticating with a Service Account)
func checkMixpanel(ctx context.Context, in *input) (*Identity, error) {
	project, err := in.field("project_id")
	if err != nil {
		return nil, err
	}
	user, err := in.field("service_account_username")
	if err != nil {
		return nil, err
	}
	secret, err := in.secret("service_account_secret")
	if err != nil {
		return nil, err
	}
	base, err := mixpanelBase(in.optional("region", "us"), in.baseURL(""))
	if err != nil {
		return nil, err
	}
	var me struct {
		Results *struct {
			UserID    any                        `json:"user_id"`
			UserName  string                     `json:"user_name"`
			UserEmail string                     `json:"user_email"`
			Projects  map[string]json.RawMessage `json:"projects"`
		} `json:"results"`
	}
	r, err := in.getJSON(ctx, base+"/api/app/me", "Authorization", in.basic(user, secret), fixes{
		unauthorized: "check service_account_username and service_account_secret (Organization Settings > Service Accounts)",
		forbidden:    "the service account lacks access to project " + project + ": add it to the project in Organization Settings > Service Accounts",
		notFound:     "check region (us, eu or in) and base_url",
	}, nil, &me)
	if err != nil {
		return nil, err
	}
	if me.Results == nil {
		return nil, unexpected(r, "results")
	}
	res := me.Results
	account := res.UserEmail
	if account == "" {
		account = res.UserName
	}
	if account == "" {
		account = user
	}
	org := ""
	if res.Projects != nil {
		if _, ok := res.Projects[project]; !ok {
			return nil, &Error{Kind: kindForbidden, Status: r.status, Message: fmt.Sprintf("%s says service account %s has no access to project %s: add it to the project in Organization Settings > Service Accounts, or check project_id and region", r.host, user, project)}
		}
		org = project
	}
	return &Identity{Account: account, Subject: jsonString(res.UserID), Org: org}, nil
}

// pxHosts are Gainsight PX's API hosts by region.
// https://px-apidocs.gainsight.com/ (Base URL)
var pxHosts = map[string]string{"us": "api.aptrinsic.com", "eu": "api-eu.aptrinsic.com", "us2": "api-us2.aptrinsic.com"}

// Gainsight PX has no who-am-I: GET /v1/accounts?pageSize=1 with the key in
// X-APTRINSIC-API-KEY is the cheapest authenticated read.
// https://px-apidocs.gainsight.com/ ; https://support.gainsight.com/PX/API_for_Developers/02Usage_of_Different_APIs/Work_with_the_Gainsight_PX_REST_API
func checkGainsightPX(ctx context.Context, in *input) (*Identity, error) {
	key, err := in.secret("api_key")
	if err != nil {
		return nil, err
	}
	region := in.optional("region", "us")
	host, ok := pxHosts[region]
	if !ok {
		return nil, &Error{Kind: kindConfig, Message: fmt.Sprintf("the gainsight-px connection's region %q is not us, eu or us2: set it with --set region=us", region)}
	}
	// The catalogue's base_url includes /v1 (https://api-eu.aptrinsic.com/v1);
	// a bare host is taken to mean the same.
	base := in.baseURL("https://" + host + "/v1")
	if u, perr := url.Parse(base); perr == nil && (u.Path == "" || u.Path == "/") {
		base += "/v1"
	}
	var page map[string]json.RawMessage
	r, err := in.getJSON(ctx, base+"/accounts?pageSize=1", gainsightpx.APIKeyHeader, key, fixes{
		unauthorized: "check api_key (Administration > REST API) and region (us, eu or us2)",
		forbidden:    "the API key lacks Read permission, or belongs to another region: check region (us, eu or us2)",
		notFound:     "check region (us, eu or us2) and base_url",
	}, nil, &page)
	if err != nil {
		return nil, err
	}
	if _, ok := page["accounts"]; !ok {
		return nil, unexpected(r, "accounts")
	}
	return &Identity{Org: host}, nil
}

// Gainsight CS has no who-am-I: a one-row read of Company
// (POST /v1/data/objects/query/Company) with the key in the accesskey header.
// https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Company_and_Relationship_API/Company_API_Documentation
func checkGainsightAPI(ctx context.Context, in *input) (*Identity, error) {
	domain, err := in.field("domain")
	if err != nil {
		return nil, err
	}
	key, err := in.secret("access_key")
	if err != nil {
		return nil, err
	}
	req := request{
		method: http.MethodPost,
		url:    in.baseURL("https://"+domain) + "/v1/data/objects/query/Company",
		header: http.Header{gainsightapi.AccessKeyHeader: {key}, "Content-Type": {"application/json"}},
		body:   []byte(`{"select":["Gsid"],"limit":1}`),
	}
	var out struct {
		Result    *bool  `json:"result"`
		ErrorCode string `json:"errorCode"`
		ErrorDesc string `json:"errorDesc"`
	}
	r, err := in.sendJSON(ctx, req, fixes{
		unauthorized: "check access_key (Administration > Connectors 2.0 > the Gainsight API connection); generating a new key stops the old one",
		forbidden:    "the access key may not read the Company object",
		notFound:     "check domain (your tenant domain, e.g. acme.gainsightcloud.com)",
	}, nil, &out)
	if err != nil {
		return nil, err
	}
	if out.Result == nil {
		return nil, unexpected(r, "a result")
	}
	if !*out.Result {
		msg := fmt.Sprintf("%s refused the Company query (error %s)", r.host, in.quote(out.ErrorCode))
		if d := in.quote(out.ErrorDesc); d != "" {
			msg += ": " + d
		}
		return nil, &Error{Kind: kindServer, Status: r.status, Message: msg}
	}
	return &Identity{Org: domain}, nil
}
