// Package mixpanel describes the Mixpanel connector: a service account (HTTP
// Basic username:secret, the default) or the project's API secret (HTTP
// Basic secret with an empty password, deprecated by Mixpanel), plus the
// project_id every request carries. It never talks to the network.
package mixpanel

import (
	"fmt"
	"strings"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for Mixpanel.
func Connector() *connector.Connector {
	c := &connector.Connector{
		ID:       "mixpanel",
		Name:     "Mixpanel",
		Category: connector.CategoryAnalytics,
		Multiple: false,
		Fields: []connector.Field{
			{
				Name:     "project_id",
				Label:    "Project ID",
				Help:     "numeric project ID, from Project Settings > Overview",
				Required: true,
				Example:  "1234567",
				Validate: fieldkit.Digits("project_id", "the numeric Project ID from Project Settings > Overview, e.g. 1234567"),
			},
			fieldkit.Enum(connector.Field{
				Name:    "region",
				Label:   "Data residency",
				Help:    "where the project's data lives: us, eu or in (India)",
				Default: "us",
				Enum:    []string{"us", "eu", "in"},
			}),
			fieldkit.BaseURL("API base; default by region: https://data.mixpanel.com, https://data-eu.mixpanel.com or https://data-in.mixpanel.com", "https://data-eu.mixpanel.com"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "service_account",
			Check: checkServiceAccount,
			Kind:  connector.AuthServiceAccount,
			Label: "Service account",
			Fields: []connector.Field{
				{
					Name:     "service_account_username",
					Label:    "Service account username",
					Help:     "the service account's username (not secret)",
					Required: true,
					Example:  "export.a1b2c3.mp-service-account",
					Validate: validateUsername,
				},
				fieldkit.Secret("service_account_secret", "Service account secret", "the service account's secret; sent as Basic {username}:{secret}"),
			},
			HowTo: "In Mixpanel, Organization Settings > Service Accounts > Add Service Account; give it access to\n" +
				"the project and copy its username and secret (the secret is shown once). Give the secret with\n" +
				"--secret-stdin. project_id is in Project Settings > Overview; set region=eu or in for EU or\n" +
				"India data residency. (The older project API secret retires on " + SecretRetires + ".)",
		}, {
			ID:    "api_secret",
			Check: checkAPISecret,
			Kind:  connector.AuthBasic,
			Label: "Project API secret (deprecated by Mixpanel)",
			Fields: []connector.Field{
				fieldkit.Secret("api_secret", "Project API secret", "the project's API secret; sent as Basic {api_secret}: (empty password)"),
			},
			HowTo: "In Mixpanel, Project Settings > Overview > Access Keys: copy the Project Secret and give it\n" +
				"with --secret-stdin. Mixpanel retires project secrets on " + SecretRetires + ": move to a service\n" +
				"account with `connctl reauthorize NAME --auth service_account --set service_account_username=...`.",
		}},
		Sources: []connector.Source{
			{
				Name:             "events",
				New:              EventsSource,
				Help:             "raw events by UTC day (export API, NDJSON); deduplicate on event, distinct_id, time and $insert_id",
				PrimaryKey:       "$insert_id",
				IncrementalField: "time",
				Params: []connector.Field{
					{Name: "from_date", Label: "From date", Help: "first UTC day to export when there is no checkpoint; default 30 days ago", Example: "2024-01-01"},
				},
			},
		},
		DocsURL: "https://docs.mixpanel.com/reference/raw-data-export-api-authentication",
		Assumptions: "one export request per range of up to 30 UTC days, paced under the export's 60 queries an hour " +
			"and 3 a second (retries count); a run that spends the hour's queries stops with a partial " +
			"result (exit 3) that the next run resumes; the last day is fetched again next run; dates are " +
			"UTC only for projects created after 2023-01-01.",
	}
	c.Fields = append(c.Fields, fieldkit.AuthField(c.Auths))
	return c
}

// SecretRetires is the day Mixpanel retires project API secrets. Mixpanel's
// "Project Secret [Deprecated]" page, https://docs.mixpanel.com/reference/project-secret
// (read 2026-12-04): "This authentication method has been deprecated and will
// be fully retired on March 3, 2027. Please migrate to Service Accounts".
// The same page: "Provide your secret as the basic auth username value with
// an empty password."
const SecretRetires = "2027-03-03"

// SecretNotice is what `connctl create` tells a user who picks the project
// API secret: when it stops working and how to move on. name is the
// connection's name, quoted for a shell.
func SecretNotice(name string) string {
	return fmt.Sprintf("note: Mixpanel deprecated project API secrets and retires them on %s; move this connection to a service account before then with\n"+
		"  connctl reauthorize %s --auth service_account --set service_account_username=USER --secret-stdin", SecretRetires, name)
}

func validateUsername(v string) error {
	if strings.ContainsAny(v, ": \t\r\n") {
		return fmt.Errorf("service_account_username %q contains a colon or spaces: copy the username exactly from Organization Settings > Service Accounts", v)
	}
	return nil
}
