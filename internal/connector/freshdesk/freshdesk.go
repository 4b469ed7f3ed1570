// Package freshdesk describes the Freshdesk connector: an API key sent as HTTP
// Basic (key:X); Freshdesk has no OAuth for its API. It holds the catalogue
// entry only and never talks to the network.
package freshdesk

import (
	"strings"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Parent is the domain every Freshdesk account lives under.
const Parent = "freshdesk.com"

// Host returns the account's host for a valid domain field, which may be
// given as acme or acme.freshdesk.com: both give acme.freshdesk.com.
func Host(domain string) string {
	return strings.TrimSuffix(domain, "."+Parent) + "." + Parent
}

// Connector returns the catalogue entry for Freshdesk.
func Connector() *connector.Connector {
	return &connector.Connector{
		ID:       "freshdesk",
		Name:     "Freshdesk",
		Category: connector.CategorySupport,
		Multiple: true,
		Fields: []connector.Field{
			{
				Name:     "domain",
				Label:    "Domain",
				Help:     "your Freshdesk account: acme or acme.freshdesk.com",
				Required: true,
				Example:  "acme.freshdesk.com",
				Validate: fieldkit.SubdomainOrHost("domain", Parent),
			},
			fieldkit.BaseURL("API base; default https://{domain}.freshdesk.com", "https://acme.freshdesk.com"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "api_key",
			Check: checkAPIKey,
			Kind:  connector.AuthAPIKey,
			Label: "API key",
			Fields: []connector.Field{
				fieldkit.Secret("api_key", "API key", "your Freshdesk API key; sent as Basic {api_key}:X"),
			},
			HowTo: "In Freshdesk, click your profile picture > Profile settings > View API key, and copy it.\n" +
				"Give it with --secret-stdin. The key acts as you; resetting it disconnects every app that uses it.",
		}},
		Sources: []connector.Source{
			{Name: "tickets", New: TicketsSource, Help: "tickets, oldest change first (without a start, Freshdesk returns only the last 30 days)", PrimaryKey: "id", IncrementalField: "updated_at"},
		},
		DocsURL: "https://developers.freshdesk.com/api/",
		Assumptions: "a first run sends updated_since=1970-01-01T00:00:00Z to lift the 30-day default window " +
			"(third-party sources); over 300 pages the source re-windows on updated_since.",
	}
}
