package all

import "testing"

// TestJobSourcesAreDeclared: every source connctl can run is one a connector
// declares (so `connectors show` lists it), and the list below is what runs.
func TestJobSourcesAreDeclared(t *testing.T) {
	t.Parallel()
	runnable := map[string]bool{}
	for _, c := range Catalogue().All() {
		for _, s := range c.Sources {
			if _, ok := JobSource(c.ID, s.Name); ok {
				runnable[c.ID+"/"+s.Name] = true
			}
		}
	}
	declared := 0
	for _, c := range Catalogue().All() {
		declared += len(c.Sources)
	}
	if len(runnable) != declared {
		t.Errorf("%d of %d declared sources can run", len(runnable), declared)
	}
	for _, want := range []string{"freshdesk/tickets", "salesforce/accounts", "salesforce/contacts", "salesforce/opportunities",
		"salesforce/users", "salesforce/soql", "s3/objects", "gainsight-px/users", "gainsight-px/accounts", "gainsight-px/events",
		"gainsight-api/object", "mixpanel/events", "hubspot/companies", "hubspot/contacts", "dynamics/accounts", "dynamics/contacts",
		"zoho/accounts", "zoho/contacts", "zoho/deals", "zendesk/tickets", "zendesk/users", "zendesk/organizations",
		"jira/issues", "jira/projects", "surveymonkey/surveys", "surveymonkey/responses", "bigquery/query", "bigquery/table", "oauth2/http"} {
		if !runnable[want] {
			t.Errorf("%s is registered but not declared by its connector (or not registered)", want)
		}
	}
}
