// Package mixpanel describes the Mixpanel connector: a service account (HTTP
// Basic username:secret) plus the project_id every request must carry. It
// holds the catalogue entry only and never talks to the network.
package mixpanel

import (
	"fmt"
	"strings"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for Mixpanel.
func Connector() *connector.Connector {
	return &connector.Connector{
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
				"India data residency. (The older project API secret retires on 2027-03-03.)",
		}},
		Sources: []connector.Source{
			{
				Name:             "events",
				Help:             "raw events by UTC day (export API, NDJSON); deduplicate on event, distinct_id, time and $insert_id",
				PrimaryKey:       "$insert_id",
				IncrementalField: "time",
				Params: []connector.Field{
					{Name: "from_date", Label: "From date", Help: "first UTC day to export when there is no checkpoint; default 30 days ago", Example: "2024-01-01"},
				},
			},
		},
		DocsURL: "https://docs.mixpanel.com/reference/raw-data-export-api-authentication",
	}
}

func validateUsername(v string) error {
	if strings.ContainsAny(v, ": \t\r\n") {
		return fmt.Errorf("service_account_username %q contains a colon or spaces: copy the username exactly from Organization Settings > Service Accounts", v)
	}
	return nil
}
