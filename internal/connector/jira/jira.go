// Package jira describes the Jira Cloud connector: an Atlassian API token
// (HTTP Basic email:token against the site) or OAuth 2.0 (3LO) through
// api.atlassian.com. It holds the catalogue entry only and never talks to the
// network.
package jira

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for Jira Cloud.
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
					Name:     "site_url",
					Label:    "Site URL",
					Help:     "your Jira site",
					Required: true,
					Example:  "https://acme.atlassian.net",
					Validate: fieldkit.URL("site_url", "https://acme.atlassian.net", fieldkit.OriginOnly),
				},
				{
					Name:     "email",
					Label:    "Email",
					Help:     "email address of your Atlassian account",
					Required: true,
					Example:  "jane@acme.com",
					Validate: fieldkit.Email("email"),
				},
				fieldkit.Secret("api_token", "API token", "Atlassian API token; sent as Basic {email}:{api_token}"),
			},
			HowTo: "At https://id.atlassian.com/manage-profile/security/api-tokens choose Create API token\n" +
				"(not \"with scopes\": those need the api.atlassian.com gateway), and copy it (it is shown once).\n" +
				"Give it with --secret-stdin; email is your Atlassian account email and site_url your site,\n" +
				"e.g. https://acme.atlassian.net.",
		},
		{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "OAuth 2.0 (3LO, browser sign-in)",
			Fields: []connector.Field{
				fieldkit.ClientID("Client ID from your app's Settings in the Atlassian developer console"),
				fieldkit.ClientSecret("required", "Secret from your app's Settings in the Atlassian developer console"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:  "https://auth.atlassian.com/authorize",
				TokenURL: "https://auth.atlassian.com/oauth/token",
				// No revocation endpoint: the user removes the app under Connected apps.
				UserinfoURL:  "https://api.atlassian.com/me",
				Scopes:       []string{"read:jira-work", "read:jira-user", "read:me", "offline_access"},
				AuthStyle:    "params",
				PKCE:         false,
				RedirectURI:  fieldkit.LocalRedirectURI,
				AuthParams:   map[string]string{"audience": "api.atlassian.com", "prompt": "consent"},
				ClientSecret: "required",
				Hooks:        oauthHooks(),
				Quirks: []string{
					"audience=api.atlassian.com and prompt=consent are required on authorize",
					"after the exchange, GET https://api.atlassian.com/oauth/token/accessible-resources; with several sites let the user pick, and store its id (cloudId)",
					"API base: https://api.atlassian.com/ex/jira/{cloudId}/rest/api/3",
					"refresh tokens rotate (10-minute reuse leeway); expire after 90 days unused, 365 days at most",
					"PKCE is not supported; the client secret is required",
					"no revocation endpoint: the user removes the app under Connected apps",
					"one callback URL per app; any-port matching is unconfirmed (register the exact URI)",
				},
			},
			HowTo: "At https://developer.atlassian.com/console/myapp create an OAuth 2.0 integration:\n" +
				"  Permissions: Jira API > read:jira-work, read:jira-user; User identity API > read:me\n" +
				"  Authorization: OAuth 2.0 (3LO), callback URL " + fieldkit.LocalRedirectURI + "\n" +
				"Set client_id and client_secret from Settings. After sign-in, connctl lists your sites.",
		},
	}
	return &connector.Connector{
		ID:       "jira",
		Expiry:   expiry,
		Name:     "Jira Cloud",
		Aliases:  []string{"atlassian"},
		Category: connector.CategoryProject,
		Multiple: true,
		Fields: []connector.Field{
			fieldkit.AuthField(auths),
			fieldkit.BaseURL("API base; default site_url (api_token) or https://api.atlassian.com/ex/jira/{cloudId} (oauth2)", "https://acme.atlassian.net"),
		},
		Auths: auths,
		Sources: []connector.Source{
			{
				Name: "issues",
				New:  IssuesSource,
				Help: "issues matching a JQL query (search/jql, nextPageToken paging), oldest update first",
				Params: []connector.Field{{
					Name:    "jql",
					Label:   "JQL",
					Help:    "JQL filter without ORDER BY (connctl adds updated >= {checkpoint} ORDER BY updated ASC)",
					Example: "project = SUP",
				}},
				PrimaryKey:       "id",
				IncrementalField: "updated",
			},
			{Name: "projects", New: ProjectsSource, Help: "projects (full refresh: projects carry no update time)", PrimaryKey: "id"},
		},
		DocsURL: "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/",
		Assumptions: "search/jql refuses unbounded JQL, so every query is bounded by updated; checkpoints are written " +
			"in the user's time zone from /myself. An issue without fields.updated is written, does not move " +
			"the checkpoint and is counted (the activity's without_cursor). Project paging stops on isLast, " +
			"on startAt + values reaching total, or on an empty page.",
	}
}
