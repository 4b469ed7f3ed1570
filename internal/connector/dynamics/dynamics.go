// Package dynamics describes the Microsoft Dynamics 365 / Dataverse Web API
// connector: Microsoft Entra ID (v2) authorization code with PKCE, with tokens
// scoped to one environment URL. It holds the catalogue entry only and never
// talks to the network.
package dynamics

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// RedirectURI is the redirect registered in Entra. Entra ignores the port of
// a localhost redirect, so the flow may listen on any port of localhost; an
// 127.0.0.1 redirect would have to be added through the app manifest.
const RedirectURI = "http://localhost"

// Connector returns the catalogue entry for Dynamics 365 / Dataverse.
func Connector() *connector.Connector {
	return &connector.Connector{
		ID:       "dynamics",
		Expiry:   expiry,
		Name:     "Microsoft Dynamics 365 / Dataverse",
		Aliases:  []string{"d365", "dataverse"},
		Category: connector.CategoryCRM,
		Multiple: true,
		Fields: []connector.Field{
			{
				Name:     "org_url",
				Label:    "Environment URL",
				Help:     "Dataverse environment URL, from Power Platform admin center > Environments > (environment) > Environment URL",
				Required: true,
				Example:  "https://acme.crm.dynamics.com",
				Validate: fieldkit.URL("org_url", "https://acme.crm.dynamics.com", fieldkit.OriginOnly),
			},
			fieldkit.BaseURL("API base; default {org_url}/api/data/v9.2", "https://acme.api.crm.dynamics.com/api/data/v9.2"),
		},
		Auths: []connector.AuthMethod{{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "Microsoft Entra ID (browser sign-in)",
			Fields: []connector.Field{
				{
					Name:     "tenant",
					Label:    "Tenant",
					Help:     "Entra tenant: organizations (any work account), or your Directory (tenant) ID or domain for a single-tenant app",
					Default:  "organizations",
					Example:  "contoso.onmicrosoft.com",
					Validate: fieldkit.Hostname("tenant", "organizations, a Directory (tenant) ID or a domain such as contoso.onmicrosoft.com"),
				},
				fieldkit.ClientID("Application (client) ID of your Entra app registration"),
				fieldkit.ClientSecret("optional", "leave empty for a public client (Mobile and desktop platform); needed only for a Web-platform app"),
				fieldkit.ClientSecretExpiresAt("when the client secret expires (Certificates & secrets > Expires), so that connctl status warns before it does"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:  "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
				TokenURL: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
				// No RFC 7009 endpoint: revoke deletes the local tokens only.
				UserinfoURL:  "{org_url}/api/data/v9.2/WhoAmI",
				Scopes:       []string{"{org_url}/.default", "offline_access"},
				AuthStyle:    "params",
				PKCE:         true,
				RedirectURI:  RedirectURI,
				ClientSecret: "optional",
				Hooks:        oauthHooks(),
				Quirks: []string{
					"scopes name the environment: tokens are per org_url",
					"the redirect http://localhost matches on any port; [::1] is not supported",
					"no revocation endpoint (server-side only via Graph revokeSignInSessions, which ends all the user's sessions): revoke deletes local tokens",
					"a new refresh token comes back on every refresh; the old one stays valid (90-day lifetime)",
					"discovery omits code_challenge_methods_supported, yet PKCE works: always send S256",
					"WhoAmI returns UserId, BusinessUnitId and OrganizationId, not a name",
					"throttling is 429 with Retry-After (5-minute sliding window per user)",
				},
			},
			HowTo: "In the Microsoft Entra admin center, App registrations > New registration:\n" +
				"  Authentication: add platform \"Mobile and desktop applications\" with redirect URI " + RedirectURI + "\n" +
				"  API permissions: add Dynamics CRM > Delegated > user_impersonation\n" +
				"Set client_id to the Application (client) ID, and tenant to the Directory (tenant) ID\n" +
				"(or keep organizations for a multi-tenant app). org_url is the environment URL, e.g.\n" +
				"https://acme.crm.dynamics.com. The signing-in user needs a security role in that environment.",
		}},
		Sources: []connector.Source{
			{Name: "accounts", New: AccountsSource, Help: "account rows (Web API, @odata.nextLink paging)", PrimaryKey: "accountid", IncrementalField: "modifiedon"},
			{Name: "contacts", New: ContactsSource, Help: "contact rows", PrimaryKey: "contactid", IncrementalField: "modifiedon"},
		},
		DocsURL: "https://learn.microsoft.com/power-apps/developer/data-platform/webapi/web-api-types-operations",
		Assumptions: "fixed lists of standard columns in $select; a column missing in an environment is a config " +
			"failure.",
	}
}
