package keycheck

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

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
func checkMixpanelSecret(ctx context.Context, in *input) (*Identity, error) {
	project, err := in.field("project_id")
	if err != nil {
		return nil, err
	}
	secret, err := in.secret("api_secret")
	if err != nil {
		return nil, err
	}
	region := in.optional("region", "us")
	def, ok := mixpanelExportBases[region]
	if !ok {
		return nil, &Error{Kind: kindConfig, Message: "the mixpanel connection's region " + region + " is not us, eu or in: set it with --set region=us"}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	u := in.baseURL(def) + "/api/2.0/export?" + url.Values{"project_id": {project}, "from_date": {today}, "to_date": {today}, "limit": {"1"}}.Encode()
	r, err := in.do(ctx, request{method: http.MethodGet, url: u, header: http.Header{"Authorization": {in.basic(secret, "")}, "Accept": {"text/plain"}}})
	if err != nil {
		return nil, err
	}
	if !r.ok() {
		return nil, statusError(r, fixes{
			unauthorized: "check api_secret (Project Settings > Overview > Access Keys), or move to a service account",
			forbidden:    "the secret does not reach project " + project + ": check project_id",
			notFound:     "check region (us, eu or in) and base_url",
		})
	}
	return &Identity{Account: "project " + project, Org: project}, nil
}
