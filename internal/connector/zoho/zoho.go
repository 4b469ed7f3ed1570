// Package zoho describes the Zoho CRM connector: OAuth 2.0 authorization code
// against a data-centre-specific accounts server. It holds the catalogue entry
// only and never talks to the network.
package zoho

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for Zoho CRM.
func Connector() *connector.Connector {
	return &connector.Connector{
		ID:       "zoho",
		Expiry:   expiry,
		Name:     "Zoho CRM",
		Aliases:  []string{"zohocrm"},
		Category: connector.CategoryCRM,
		Multiple: true,
		Fields: []connector.Field{
			{
				Name:  "accounts_server",
				Label: "Accounts server",
				Help: "your data centre's accounts server: https://accounts.zoho.com (US), .eu, .in, .com.au, .jp, .com.cn, .sa, " +
					"or https://accounts.zohocloud.ca (CA)",
				Default:  "https://accounts.zoho.com",
				Example:  "https://accounts.zoho.eu",
				Validate: fieldkit.URL("accounts_server", "https://accounts.zoho.com", fieldkit.OriginOnly),
			},
			fieldkit.BaseURL("API base; default: the api_domain Zoho returns at sign-in (e.g. https://www.zohoapis.eu)", "https://www.zohoapis.eu"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "OAuth 2.0 (browser sign-in)",
			Fields: []connector.Field{
				fieldkit.ClientID("Client ID from the Zoho API Console"),
				fieldkit.ClientSecret("optional", "Client Secret of a Server-based Application; leave empty for a Mobile-based client (PKCE)"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:     "{accounts_server}/oauth/v2/auth",
				TokenURL:    "{accounts_server}/oauth/v2/token",
				RevokeURL:   "{accounts_server}/oauth/v2/token/revoke",
				RevokeStyle: "query",
				// api_domain comes from the token response, not from a field.
				UserinfoURL: "{api_domain}/crm/v8/users?type=CurrentUser",
				Scopes: []string{
					"ZohoCRM.modules.accounts.READ", "ZohoCRM.modules.contacts.READ",
					"ZohoCRM.modules.deals.READ", "ZohoCRM.users.READ",
				},
				AuthStyle:    "params",
				PKCE:         true,
				RedirectURI:  fieldkit.LocalRedirectURI,
				AuthParams:   map[string]string{"access_type": "offline"},
				ClientSecret: "optional",
				Hooks:        oauthHooks(),
				Quirks: []string{
					"the callback carries accounts-server (and location): exchange the code at that server, and store it",
					"the token response carries api_domain, the base of every data call: store it with the connection",
					"API calls use the header Authorization: Zoho-oauthtoken {access_token}",
					"a refresh token needs access_type=offline; it lasts until revoked; at most 20 per user (the 21st deletes the oldest)",
					"revoke: POST {accounts_server}/oauth/v2/token/revoke?token={refresh_token}",
					"Zoho's examples join scopes with commas; scope names are unconfirmed against the vendor's list (verify)",
					"whether prompt=consent is needed to get a new refresh token on re-authorize is unconfirmed",
					"any-port loopback redirect is undocumented: register the exact redirect URI",
				},
			},
			HowTo: "In the Zoho API Console of your data centre (https://api-console.zoho.com, .eu, .in, ...),\n" +
				"Add Client > Server-based Applications, Authorized Redirect URI " + fieldkit.LocalRedirectURI + ".\n" +
				"Set client_id and client_secret from the Client Secret tab, and accounts_server to your data centre\n" +
				"(e.g. https://accounts.zoho.eu).",
		}},
		Sources: []connector.Source{
			{Name: "accounts", New: AccountsSource, Help: "records of the Accounts module", PrimaryKey: "id", IncrementalField: "Modified_Time"},
			{Name: "contacts", New: ContactsSource, Help: "records of the Contacts module", PrimaryKey: "id", IncrementalField: "Modified_Time"},
			{Name: "deals", New: DealsSource, Help: "records of the Deals module", PrimaryKey: "id", IncrementalField: "Modified_Time"},
		},
		DocsURL: "https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html",
		Assumptions: "If-Modified-Since is sent one second before the checkpoint, in ISO 8601 with an offset; 204 for " +
			"an empty module; scope names unconfirmed. A dead refresh token may be answered invalid_code " +
			"(even with HTTP 200, community reports): read as invalid_grant (reauthorize).",
	}
}
