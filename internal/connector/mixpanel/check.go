package mixpanel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/keycheck"
)

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
		return "", &keycheck.Error{Kind: keycheck.KindConfig, Message: fmt.Sprintf("the mixpanel connection's region %q is not us, eu or in: set it with --set region=us", region)}
	}
	return "https://" + host, nil
}

// Mixpanel service account: GET /api/app/me with Basic {username}:{secret}.
// https://developer.mixpanel.com/reference/service-accounts (Authenticating with a Service Account)
func checkServiceAccount(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	fs, secret, err := in.Need("service_account_secret", "project_id", "service_account_username")
	if err != nil {
		return nil, err
	}
	project, user := fs[0], fs[1]
	base, err := mixpanelBase(in.Optional("region", "us"), in.BaseURL(""))
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
	r, err := in.GetJSON(ctx, base+"/api/app/me", "Authorization", in.Basic(user, secret), keycheck.Fixes{
		Unauthorized: "check service_account_username and service_account_secret (Organization Settings > Service Accounts)",
		Forbidden:    "the service account lacks access to project " + project + ": add it to the project in Organization Settings > Service Accounts",
		NotFound:     "check region (us, eu or in) and base_url",
	}, nil, &me)
	if err != nil {
		return nil, err
	}
	if me.Results == nil {
		return nil, keycheck.Unexpected(r, "results")
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
			return nil, &keycheck.Error{Kind: keycheck.KindForbidden, Status: r.Status, Message: fmt.Sprintf("%s says service account %s has no access to project %s: add it to the project in Organization Settings > Service Accounts, or check project_id and region", r.Host, user, project)}
		}
		org = project
	}
	return &keycheck.Identity{Account: account, Subject: keycheck.JSONString(res.UserID), Org: org}, nil
}

// mixpanelExportBases are the raw export API hosts by data residency, the
// only API a project secret is documented for besides import.
// https://docs.mixpanel.com/reference/raw-event-export
var mixpanelExportBases = map[string]string{"us": "https://data.mixpanel.com", "eu": "https://data-eu.mixpanel.com", "in": "https://data-in.mixpanel.com"}

// Mixpanel project API secret (deprecated by Mixpanel, retired 2027-03-03):
// HTTP Basic {api_secret}: with an empty password
// (https://docs.mixpanel.com/reference/project-secret). A secret has no
// who-am-I: the cheapest authenticated read is the raw export of today with
// limit=1 (https://docs.mixpanel.com/reference/raw-event-export), which
// answers 401 for a wrong secret. The account reported is the project.
func checkAPISecret(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	fs, secret, err := in.Need("api_secret", "project_id")
	if err != nil {
		return nil, err
	}
	project := fs[0]
	region := in.Optional("region", "us")
	def, ok := mixpanelExportBases[region]
	if !ok {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: "the mixpanel connection's region " + region + " is not us, eu or in: set it with --set region=us"}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	u := in.BaseURL(def) + "/api/2.0/export?" + url.Values{"project_id": {project}, "from_date": {today}, "to_date": {today}, "limit": {"1"}}.Encode()
	r, err := in.Do(ctx, keycheck.Request{Method: http.MethodGet, URL: u, Header: http.Header{"Authorization": {in.Basic(secret, "")}, "Accept": {"text/plain"}}})
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		return nil, keycheck.StatusError(r, keycheck.Fixes{
			Unauthorized: "check api_secret (Project Settings > Overview > Access Keys), or move to a service account",
			Forbidden:    "the secret does not reach project " + project + ": check project_id",
			NotFound:     "check region (us, eu or in) and base_url",
		})
	}
	return &keycheck.Identity{Account: "project " + project, Org: project}, nil
}
