// Package hubspot describes the HubSpot connector: a private-app access token
// or OAuth 2.0 (v3 / 2026-03 endpoints). It holds the catalogue entry only and
// never talks to the network.
package hubspot

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for HubSpot.
func Connector() *connector.Connector {
	auths := []connector.AuthMethod{
		{
			ID:      "private_app",
			Check:   checkPrivateApp,
			Kind:    connector.AuthAPIKey,
			Aliases: []string{"api_key"},
			Label:   "Private app access token",
			Fields: []connector.Field{
				fieldkit.Secret("access_token", "Access token", "the private app's access token (pat-...), sent as a Bearer token"),
			},
			HowTo: "In HubSpot, create a private app (Settings > Integrations > Private Apps; in newer accounts\n" +
				"the same app type is under Development > Legacy apps). Grant the scopes\n" +
				"crm.objects.companies.read and crm.objects.contacts.read, create the app, and give its\n" +
				"access token with --secret-stdin.",
		},
		{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "OAuth 2.0 (browser sign-in)",
			Fields: []connector.Field{
				fieldkit.ClientID("Client ID from your HubSpot app's Auth settings"),
				fieldkit.ClientSecret("required", "Client secret from your HubSpot app's Auth settings"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:      "https://app.hubspot.com/oauth/authorize",
				TokenURL:     "https://api.hubapi.com/oauth/2026-03/token",
				RevokeURL:    "https://api.hubapi.com/oauth/2026-03/token/revoke",
				RevokeStyle:  "client_in_form",
				UserinfoURL:  "https://api.hubapi.com/oauth/2026-03/token/introspect",
				Scopes:       []string{"oauth", "crm.objects.companies.read", "crm.objects.contacts.read"},
				AuthStyle:    "params",
				PKCE:         true,
				RedirectURI:  fieldkit.LocalRedirectURI,
				ClientSecret: "required",
				Hooks:        oauthHooks(),
				Quirks: []string{
					"v3 / 2026-03 endpoints take every parameter in the form body; /oauth/v1/token sunsets 2027-02-16",
					"revoke: POST form client_id, client_secret, token, token_type_hint (not RFC 7009)",
					"who-am-I is token introspection: POST form client_id, client_secret, token, token_type_hint; the token response also has hub_id and scopes",
					"no offline_access scope: a refresh token is always returned; access tokens last 30 minutes",
					"http redirect URIs are allowed only for localhost; the redirect must be registered exactly",
					"whether PKCE is enforced, and whether refresh tokens rotate, is unconfirmed",
				},
			},
			HowTo: "Create a HubSpot app (developer account > Apps, or a project app) and in its Auth settings:\n" +
				"  redirect URL " + fieldkit.LocalRedirectURI + "\n" +
				"  scopes oauth, crm.objects.companies.read, crm.objects.contacts.read\n" +
				"Set client_id and client_secret from the same page.",
		},
	}
	return &connector.Connector{
		ID:       "hubspot",
		Name:     "HubSpot",
		Category: connector.CategoryCRM,
		Multiple: false,
		Fields: []connector.Field{
			fieldkit.AuthField(auths),
			fieldkit.BaseURL("API base; default https://api.hubapi.com", "https://api.hubapi.com"),
		},
		Auths: auths,
		Sources: []connector.Source{
			{Name: "companies", New: CompaniesSource, Help: "company objects (CRM v3; search API for increments, 10,000 results per query)", PrimaryKey: "id", IncrementalField: "hs_lastmodifieddate"},
			{Name: "contacts", New: ContactsSource, Help: "contact objects (contacts filter on lastmodifieddate, not hs_lastmodifieddate)", PrimaryKey: "id", IncrementalField: "lastmodifieddate"},
		},
		DocsURL: "https://developers.hubspot.com/docs/api/intro-to-auth",
		Assumptions: "the search after value is an offset capped at 10,000 (re-windowed; the first page sends \"0\"); " +
			"sorts are sent as property names, the form HubSpot's spec types (its guide shows {propertyName, " +
			"direction} objects), sorted ascending; rate-limit policy names from the changelog.",
	}
}
