// Package salesforce describes the Salesforce connector: OAuth 2.0 web-server
// flow with PKCE against a login host (production, sandbox or My Domain). It
// holds the catalogue entry only and never talks to the network.
package salesforce

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// apiVersionParam is the optional REST API version parameter of every source.
var apiVersionParam = connector.Field{Name: "api_version", Label: "API version", Help: "Salesforce REST API version (default 62.0)", Example: "61.0"}

// RedirectURI is the callback the Salesforce CLI registers, so a Connected
// App set up for `sf org login web` works for connctl unchanged. Salesforce
// matches callbacks exactly, port included.
const RedirectURI = "http://localhost:1717/OauthRedirect"

// Connector returns the catalogue entry for Salesforce.
func Connector() *connector.Connector {
	clientID := fieldkit.ClientID("Consumer Key of your External Client App or Connected App; may be left out when the config sets a default client for salesforce")
	clientID.Required = false // a per-connector default client may come from the config
	return &connector.Connector{
		ID:       "salesforce",
		Expiry:   expiry,
		ExecEnv:  execEnv,
		Name:     "Salesforce",
		Aliases:  []string{"sfdc"},
		Category: connector.CategoryCRM,
		Multiple: true,
		Fields: []connector.Field{
			{
				Name:  "login_url",
				Label: "Login URL",
				Help: "login host: https://login.salesforce.com for production and Developer Edition, " +
					"https://test.salesforce.com for sandboxes, or your My Domain " +
					"(https://acme.my.salesforce.com, https://acme--dev.sandbox.my.salesforce.com)",
				Default:  "https://login.salesforce.com",
				Example:  "https://test.salesforce.com",
				Validate: fieldkit.URL("login_url", "https://login.salesforce.com", fieldkit.OriginOnly),
			},
			fieldkit.BaseURL("API base; default: the instance_url Salesforce returns at sign-in", "https://acme.my.salesforce.com"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "OAuth 2.0 (browser sign-in)",
			Fields: []connector.Field{
				clientID,
				fieldkit.ClientSecret("optional", "Consumer Secret; leave empty if the app does not require a secret for the web-server and refresh-token flows"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:      "{login_url}/services/oauth2/authorize",
				TokenURL:     "{login_url}/services/oauth2/token",
				RevokeURL:    "{login_url}/services/oauth2/revoke",
				RevokeStyle:  "rfc7009",
				UserinfoURL:  "{login_url}/services/oauth2/userinfo",
				Scopes:       []string{"api", "refresh_token", "id", "openid"},
				AuthStyle:    "params",
				PKCE:         true,
				RedirectURI:  RedirectURI,
				ClientSecret: "optional",
				Hooks:        oauthHooks(),
				Quirks: []string{
					"the token response carries instance_url, the base of every data call: store it with the connection",
					"sandboxes sign in at https://test.salesforce.com and My Domain orgs at their own host: set login_url",
					"the redirect URI must match a registered callback exactly, port included; any-port loopback is not supported",
					"refresh tokens may rotate (per-app policy): persist the new one from each refresh",
					"revoke: POST token= (close to RFC 7009); revoking the refresh token also revokes its access tokens",
					"API limit exhaustion is HTTP 403 REQUEST_LIMIT_EXCEEDED, not 429",
				},
			},
			HowTo: "In Salesforce Setup, create an External Client App (or a Connected App) with OAuth enabled:\n" +
				"  callback URL " + RedirectURI + "\n" +
				"  scopes: Manage user data via APIs (api), Perform requests at any time (refresh_token, offline_access),\n" +
				"          Access the identity URL service (id), Access unique user identifiers (openid)\n" +
				"  enable \"Require Proof Key for Code Exchange (PKCE)\".\n" +
				"Set client_id to the Consumer Key. Either turn off \"Require Secret for Web Server Flow\" and\n" +
				"\"Require Secret for Refresh Token Flow\", or also give the Consumer Secret as client_secret.\n" +
				"Sandbox: login_url=https://test.salesforce.com. App changes can take a few minutes to apply.",
		}},
		Sources: []connector.Source{
			{Name: "accounts", New: AccountsSource, Help: "Account records (REST query)", PrimaryKey: "Id", IncrementalField: "SystemModstamp", Params: []connector.Field{apiVersionParam}},
			{Name: "contacts", New: ContactsSource, Help: "Contact records", PrimaryKey: "Id", IncrementalField: "SystemModstamp", Params: []connector.Field{apiVersionParam}},
			{Name: "opportunities", New: OpportunitiesSource, Help: "Opportunity records", PrimaryKey: "Id", IncrementalField: "SystemModstamp", Params: []connector.Field{apiVersionParam}},
			{Name: "users", New: UsersSource, Help: "User records", PrimaryKey: "Id", IncrementalField: "SystemModstamp", Params: []connector.Field{apiVersionParam}},
			{
				Name: "soql",
				New:  SOQLSource,
				Help: "the records of any SOQL query: fetched in full each run, or incrementally when the query holds {since}",
				Params: []connector.Field{{
					Name:     "query",
					Label:    "SOQL query",
					Help:     "a SOQL SELECT, sent as written; each run fetches everything unless the query holds {since}, which connctl replaces with the last checkpoint as a SOQL datetime (1970-01-01T00:00:00Z on the first run); the query must then select SystemModstamp",
					Required: true,
					Example:  "SELECT Id, Name, SystemModstamp FROM Case WHERE SystemModstamp >= {since} ORDER BY SystemModstamp",
				}, apiVersionParam}},
		},
		DocsURL: "https://help.salesforce.com/HTViewHelpDoc?id=remoteaccess_oauth_web_server_flow.htm",
		Assumptions: "REST API v62.0 unless api_version; the daily REQUEST_LIMIT_EXCEEDED fails at once (rate_limit), " +
			"the concurrent-request limit is retried.",
	}
}
