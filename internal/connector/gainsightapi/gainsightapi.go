// Package gainsightapi describes the Gainsight CS (NXT) REST API connector:
// the org's access key in the accesskey header, against the tenant's domain.
// It holds the catalogue entry only and never talks to the network.
package gainsightapi

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// AccessKeyHeader is the request header that carries the access_key secret.
const AccessKeyHeader = "accesskey"

// Connector returns the catalogue entry for the Gainsight CS REST API.
func Connector() *connector.Connector {
	return &connector.Connector{
		ID:       "gainsight-api",
		Name:     "Gainsight CS REST API",
		Aliases:  []string{"gainsight", "gs-api"},
		Category: connector.CategoryGainsight,
		Multiple: true,
		Fields: []connector.Field{
			{
				Name:     "domain",
				Label:    "Domain",
				Help:     "your Gainsight tenant domain, or the custom API domain set up under Setup a Gainsight Domain",
				Required: true,
				Example:  "acme.gainsightcloud.com",
				Validate: fieldkit.Hostname("domain", "your tenant domain, e.g. acme.gainsightcloud.com"),
			},
			fieldkit.BaseURL("API base; default https://{domain}", "https://acme.gainsightcloud.com"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "api_key",
			Check: checkAccessKey,
			Kind:  connector.AuthAPIKey,
			Label: "Access key",
			Fields: []connector.Field{
				fieldkit.Secret("access_key", "Access key", "the org's REST API access key; sent in the "+AccessKeyHeader+" header"),
			},
			HowTo: "As an active Super Admin in Gainsight: Administration > Connectors 2.0 > Create Connection >\n" +
				"connector Gainsight API, Authentication Type Access_Key > Generate, and copy the key. Give it\n" +
				"with --secret-stdin. There is one key per org and it does not expire; generating a new one\n" +
				"stops the old.",
		}},
		Sources: []connector.Source{
			{
				Name: "object",
				New:  ObjectSource,
				Help: "records of one object (Company, Relationship or a custom object), up to 5,000 per call",
				Params: []connector.Field{{
					Name:     "object",
					Label:    "Object",
					Help:     "object API name",
					Required: true,
					Example:  "Company",
				}, {Name: "fields", Label: "Fields", Help: "comma-separated fields to select; Gsid and ModifiedDate are always added", Default: "Gsid,Name,ModifiedDate", Example: "Gsid,Name,Arr,ModifiedDate"}},
				PrimaryKey:       "Gsid",
				IncrementalField: "ModifiedDate",
			},
		},
		DocsURL: "https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Generate_REST_API/Generate_REST_API_Key",
		Assumptions: "the query body, where shape and {result, data:{records}} envelope come from a third-party " +
			"OpenAPI and tap; ModifiedDate is read as epoch ms or a date-time.",
	}
}
