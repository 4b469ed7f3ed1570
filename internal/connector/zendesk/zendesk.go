// Package zendesk describes the Zendesk Support connector: an API token (HTTP
// Basic {email}/token:{api_token}) or OAuth 2.0 against the account's own
// subdomain. It holds the catalogue entry only and never talks to the network.
package zendesk

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for Zendesk Support.
func Connector() *connector.Connector {
	auths := []connector.AuthMethod{
		{
			ID:      "api_token",
			Check:   checkAPIToken,
			Kind:    connector.AuthBasic,
			Aliases: []string{"basic"},
			Label:   "Email and API token",
			Fields: []connector.Field{
				{
					Name:     "email",
					Label:    "Email",
					Help:     "email address of the Zendesk agent or admin the token acts as",
					Required: true,
					Example:  "jane@acme.com",
					Validate: fieldkit.Email("email"),
				},
				fieldkit.Secret("api_token", "API token", "Zendesk API token; sent as Basic {email}/token:{api_token}"),
			},
			HowTo: "In Zendesk Admin Center > Apps and integrations > APIs > Zendesk API (API tokens):\n" +
				"turn on Token access, add an API token and copy it (it is shown once). Give it with\n" +
				"--secret-stdin; email is the sign-in address of the agent the token acts as.",
		},
		{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "OAuth 2.0 (browser sign-in)",
			Fields: []connector.Field{
				fieldkit.ClientID("the OAuth client's Identifier (Admin Center > Apps and integrations > APIs > OAuth Clients)"),
				fieldkit.ClientSecret("optional", "secret of a Confidential OAuth client; leave empty for a Public client (PKCE)"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:      "https://{subdomain}.zendesk.com/oauth/authorizations/new",
				TokenURL:     "https://{subdomain}.zendesk.com/oauth/tokens",
				RevokeURL:    "https://{subdomain}.zendesk.com/api/v2/oauth/tokens/current.json",
				RevokeStyle:  "delete",
				UserinfoURL:  "https://{subdomain}.zendesk.com/api/v2/users/me.json",
				Scopes:       []string{"read"},
				AuthStyle:    "params",
				PKCE:         true,
				RedirectURI:  fieldkit.LocalRedirectURI,
				ClientSecret: "optional",
				Hooks:        oauthHooks(),
				Quirks: []string{
					"OAuth is per subdomain: a local OAuth client works only in its own Zendesk account (many accounts need a global client)",
					"refresh tokens rotate: a refresh returns a new refresh token and deletes the previous access and refresh tokens",
					"default lifetimes: access 30 minutes, refresh 30 days (enforced for all clients by 2027-04-01)",
					"revoke: DELETE /api/v2/oauth/tokens/current.json with the token as Bearer; reports say current does not always revoke",
					"redirect URIs must be https unless localhost or 127.0.0.1; any-port matching is unconfirmed",
				},
			},
			HowTo: "In Zendesk Admin Center > Apps and integrations > APIs > OAuth Clients, add a client:\n" +
				"  Client kind Public (PKCE, no secret) or Confidential (with a secret)\n" +
				"  Redirect URLs " + fieldkit.LocalRedirectURI + "\n" +
				"Set client_id to its Identifier, and client_secret for a Confidential client.",
		},
	}
	return &connector.Connector{
		ID:       "zendesk",
		Name:     "Zendesk Support",
		Category: connector.CategorySupport,
		Multiple: false,
		Fields: []connector.Field{
			fieldkit.AuthField(auths),
			{
				Name:     "subdomain",
				Label:    "Subdomain",
				Help:     "your Zendesk subdomain: acme for https://acme.zendesk.com",
				Required: true,
				Example:  "acme",
				Validate: fieldkit.Subdomain("subdomain", "zendesk.com"),
			},
			fieldkit.BaseURL("API base; default https://{subdomain}.zendesk.com", "https://acme.zendesk.com"),
		},
		Auths: auths,
		Sources: []connector.Source{
			{Name: "tickets", New: TicketsSource, Help: "tickets via the cursor-based incremental export (changes older than a minute)", PrimaryKey: "id", IncrementalField: "updated_at"},
			{Name: "users", New: UsersSource, Help: "users via the incremental export", PrimaryKey: "id", IncrementalField: "updated_at"},
			{Name: "organizations", New: OrganizationsSource, Help: "organizations via the incremental export", PrimaryKey: "id", IncrementalField: "updated_at"},
		},
		DocsURL: "https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/",
		Assumptions: "tickets and users use the cursor export; organizations the time-based export (the docs offer no " +
			"cursor for it). Zendesk is retiring API tokens (third-party report). Revoking an OAuth grant " +
			"whose access token already expired refreshes it once to send the DELETE; a refused refresh " +
			"token means the grant had already ended.",
	}
}
