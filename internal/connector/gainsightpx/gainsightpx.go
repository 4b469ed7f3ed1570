// Package gainsightpx describes the Gainsight PX connector: a REST API key in
// the X-APTRINSIC-API-KEY header, against one of three regional hosts. It
// holds the catalogue entry only and never talks to the network.
package gainsightpx

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// APIKeyHeader is the request header that carries the api_key secret.
const APIKeyHeader = "X-APTRINSIC-API-KEY"

// Connector returns the catalogue entry for Gainsight PX.
func Connector() *connector.Connector {
	return &connector.Connector{
		ID:       "gainsight-px",
		Name:     "Gainsight PX",
		Aliases:  []string{"px", "gainsight_px"},
		Category: connector.CategoryGainsight,
		Multiple: true,
		Fields: []connector.Field{
			fieldkit.Enum(connector.Field{
				Name:    "region",
				Label:   "Region",
				Help:    "PX deployment of the subscription: us (api.aptrinsic.com), eu or us2",
				Default: "us",
				Enum:    []string{"us", "eu", "us2"},
			}),
			fieldkit.BaseURL("API base; default by region: https://api.aptrinsic.com/v1, https://api-eu.aptrinsic.com/v1 or https://api-us2.aptrinsic.com/v1", "https://api-eu.aptrinsic.com/v1"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "api_key",
			Check: checkAPIKey,
			Kind:  connector.AuthAPIKey,
			Label: "REST API key",
			Fields: []connector.Field{
				fieldkit.Secret("api_key", "API key", "PX REST API key; sent in the "+APIKeyHeader+" header"),
			},
			HowTo: "In Gainsight PX, Administration > REST API, create an API key with Read permission (enough\n" +
				"for jobs; a read-only key gets 403 on writes) and give it with --secret-stdin. Set region to\n" +
				"your subscription's deployment (us, eu or us2).",
		}},
		Sources: []connector.Source{
			{Name: "users", New: UsersSource, Help: "users (scroll paging; no server-side updated-since filter: compared client-side)", PrimaryKey: "id", IncrementalField: "lastModifiedDate"},
			{Name: "accounts", New: AccountsSource, Help: "accounts (scroll paging; compared client-side)", PrimaryKey: "id", IncrementalField: "lastModifiedDate"},
			{Name: "events", New: EventsSource, Help: "events of one type by date, at most 190 days per request", PrimaryKey: "eventId", IncrementalField: "date",
				Params: []connector.Field{
					{Name: "type", Label: "Event type", Help: "pageView, session, identify, custom, feature_match, segment_match or lead", Required: true, Example: "pageView",
						Enum: []string{"pageView", "session", "identify", "custom", "feature_match", "segment_match", "lead"}},
					{Name: "from_date", Label: "From date", Help: "first day to fetch when there is no checkpoint (YYYY-MM-DD or epoch ms); default 30 days ago", Example: "2024-01-01"},
				}},
		},
		DocsURL: "https://support.gainsight.com/PX/API_for_Developers/02Usage_of_Different_APIs/Work_with_the_Gainsight_PX_REST_API",
		Assumptions: "page size 1000, the 190-day event window and the per-type response keys come from third-party " +
			"clients; users and accounts are compared client-side on lastModifiedDate.",
	}
}
