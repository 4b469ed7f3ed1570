package all

import (
	"github.com/connctl/connctl/internal/connector/bigquery"
	"github.com/connctl/connctl/internal/connector/dynamics"
	"github.com/connctl/connctl/internal/connector/freshdesk"
	"github.com/connctl/connctl/internal/connector/gainsightapi"
	"github.com/connctl/connctl/internal/connector/gainsightpx"
	"github.com/connctl/connctl/internal/connector/genericoauth"
	"github.com/connctl/connctl/internal/connector/hubspot"
	"github.com/connctl/connctl/internal/connector/jira"
	"github.com/connctl/connctl/internal/connector/mixpanel"
	"github.com/connctl/connctl/internal/connector/s3"
	"github.com/connctl/connctl/internal/connector/salesforce"
	"github.com/connctl/connctl/internal/connector/surveymonkey"
	"github.com/connctl/connctl/internal/connector/zendesk"
	"github.com/connctl/connctl/internal/connector/zoho"
	"github.com/connctl/connctl/internal/jobrunner"
)

// JobSource returns the implementation of a connector's declared source,
// registered here explicitly; false for a source no implementation serves.
func JobSource(connectorID, source string) (jobrunner.Source, bool) {
	switch connectorID + "/" + source {
	case "freshdesk/tickets":
		return freshdesk.TicketsSource(), true
	case "gainsight-px/users":
		return gainsightpx.UsersSource(), true
	case "gainsight-px/accounts":
		return gainsightpx.AccountsSource(), true
	case "gainsight-px/events":
		return gainsightpx.EventsSource(), true
	case "gainsight-api/object":
		return gainsightapi.ObjectSource(), true
	case "mixpanel/events":
		return mixpanel.EventsSource(), true
	case "hubspot/companies":
		return hubspot.CompaniesSource(), true
	case "hubspot/contacts":
		return hubspot.ContactsSource(), true
	case "dynamics/accounts":
		return dynamics.AccountsSource(), true
	case "dynamics/contacts":
		return dynamics.ContactsSource(), true
	case "zoho/accounts":
		return zoho.AccountsSource(), true
	case "zoho/contacts":
		return zoho.ContactsSource(), true
	case "zoho/deals":
		return zoho.DealsSource(), true
	case "zendesk/tickets":
		return zendesk.TicketsSource(), true
	case "zendesk/users":
		return zendesk.UsersSource(), true
	case "zendesk/organizations":
		return zendesk.OrganizationsSource(), true
	case "jira/issues":
		return jira.IssuesSource(), true
	case "jira/projects":
		return jira.ProjectsSource(), true
	case "surveymonkey/surveys":
		return surveymonkey.SurveysSource(), true
	case "surveymonkey/responses":
		return surveymonkey.ResponsesSource(), true
	case "bigquery/query":
		return bigquery.QuerySource(), true
	case "bigquery/table":
		return bigquery.TableSource(), true
	case "oauth2/http":
		return genericoauth.HTTPSource(), true
	case "salesforce/accounts":
		return salesforce.AccountsSource(), true
	case "salesforce/contacts":
		return salesforce.ContactsSource(), true
	case "salesforce/opportunities":
		return salesforce.OpportunitiesSource(), true
	case "salesforce/users":
		return salesforce.UsersSource(), true
	case "salesforce/soql":
		return salesforce.SOQLSource(), true
	case "s3/objects":
		return s3.ObjectsSource(), true
	}
	return nil, false
}
