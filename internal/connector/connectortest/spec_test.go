package connectortest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// Each vendored description loads, accepts the requests connctl makes and
// refuses the ones issue #11 found.
func TestAPISpecsJudgeRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		spec   APISpec
		method string
		target string
		body   string
		bad    string // "" when the request conforms; else a word of the complaint
	}{
		{"mixpanel range", MixpanelExportSpec, "GET", "/api/2.0/export?project_id=1234567&from_date=2024-01-01&to_date=2024-01-30", "", ""},
		{"mixpanel without to_date", MixpanelExportSpec, "GET", "/api/2.0/export?project_id=1234567&from_date=2024-01-01", "", "to_date"},
		{"mixpanel project_id not a number", MixpanelExportSpec, "GET", "/api/2.0/export?project_id=acme&from_date=2024-01-01&to_date=2024-01-01", "", "project_id"},
		{"mixpanel other path unchecked", MixpanelExportSpec, "GET", "/api/app/me", "", ""},
		{"hubspot search", HubSpotCRMSpec, "POST", "/crm/v3/objects/contacts/search",
			`{"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"GTE","value":"1"}]}],"sorts":["lastmodifieddate"],"properties":["email"],"limit":100,"after":"0"}`, ""},
		{"hubspot search sorts as objects", HubSpotCRMSpec, "POST", "/crm/v3/objects/companies/search",
			`{"filterGroups":[],"sorts":[{"propertyName":"hs_lastmodifieddate","direction":"ASCENDING"}],"properties":[],"limit":100,"after":"0"}`, "sorts"},
		{"hubspot search without after", HubSpotCRMSpec, "POST", "/crm/v3/objects/companies/search",
			`{"filterGroups":[],"sorts":["hs_lastmodifieddate"],"properties":[],"limit":100}`, "after"},
		{"hubspot list", HubSpotCRMSpec, "GET", "/crm/v3/objects/companies?limit=100&properties=name,domain&archived=false", "", ""},
		{"hubspot unknown object", HubSpotCRMSpec, "GET", "/crm/v3/objects/widgets", "", "not in"},
		{"jira search", JiraPlatformSpec, "POST", "/rest/api/3/search/jql", `{"jql":"updated >= \"1970-01-01 00:00\" ORDER BY updated ASC","fields":["*all"],"maxResults":100}`, ""},
		{"jira search through the gateway", JiraPlatformSpec, "POST", "/ex/jira/cloud-1/rest/api/3/search/jql", `{"jql":"project = A","maxResults":"lots"}`, "maxResults"},
		{"jira projects", JiraPlatformSpec, "GET", "/rest/api/3/project/search?startAt=0&maxResults=50&orderBy=key", "", ""},
		{"jira projects bad order", JiraPlatformSpec, "GET", "/rest/api/3/project/search?orderBy=color", "", "orderBy"},
		{"jira old search", JiraPlatformSpec, "GET", "/rest/api/3/search?jql=x", "", "not in"},
		{"jira myself", JiraPlatformSpec, "GET", "/rest/api/3/myself", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			err := tc.spec.Check(r)
			switch {
			case tc.bad == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.bad != "" && err == nil:
				t.Errorf("accepted, want a complaint about %s", tc.bad)
			case tc.bad != "" && !strings.Contains(err.Error(), tc.bad):
				t.Errorf("complaint %q does not name %s", err, tc.bad)
			}
		})
	}
}
