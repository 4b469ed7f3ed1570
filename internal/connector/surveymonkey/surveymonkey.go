// Package surveymonkey describes the SurveyMonkey connector: a private app's
// access token, or OAuth 2.0 for a public app. It holds the catalogue entry
// only and never talks to the network.
package surveymonkey

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// hosts are the API hosts of SurveyMonkey's data centres; an account, its
// apps and their tokens belong to one (https://api.surveymonkey.com/v3/docs,
// "Data centers"; a call to another answers error 1018).
var hosts = map[string]string{
	"us": "https://api.surveymonkey.com",
	"eu": "https://api.eu.surveymonkey.com",
	"ca": "https://api.surveymonkey.ca",
}

// Host returns the API host of region (us, eu or ca); the US host for an
// empty or unknown region.
func Host(region string) string {
	if h, ok := hosts[region]; ok {
		return h
	}
	return hosts["us"]
}

// Connector returns the catalogue entry for SurveyMonkey.
func Connector() *connector.Connector {
	auths := []connector.AuthMethod{
		{
			ID:      "private_app",
			Check:   checkPrivateApp,
			Kind:    connector.AuthAPIKey,
			Aliases: []string{"api_key"},
			Label:   "Private app access token",
			Fields: []connector.Field{
				fieldkit.Secret("access_token", "Access token", "the private app's access token, sent as a Bearer token"),
			},
			HowTo: "At https://developer.surveymonkey.com > My Apps (EU accounts: developer.eu.surveymonkey.com,\n" +
				"Canada: developer.surveymonkey.ca, and set region=eu or ca), create a Private app. Under Scopes\n" +
				"enable users_read, surveys_read, responses_read and responses_read_detail, then copy the Access\n" +
				"Token from the app's Settings and give it with --secret-stdin. Draft apps allow 120 calls a\n" +
				"minute and 500 a day.",
		},
		{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "OAuth 2.0 (browser sign-in)",
			Fields: []connector.Field{
				fieldkit.ClientID("Client ID from your app's Settings at developer.surveymonkey.com"),
				fieldkit.ClientSecret("required", "Secret from your app's Settings at developer.surveymonkey.com"),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:  "{api_host}/oauth/authorize",
				TokenURL: "{api_host}/oauth/token",
				// No revocation endpoint: the user removes the app (My Account > Linked Accounts).
				// access_url comes from the token response, not from a field.
				UserinfoURL:  "{access_url}/v3/users/me",
				AuthStyle:    "params",
				PKCE:         true,
				RedirectURI:  fieldkit.LocalRedirectURI,
				ClientSecret: "required",
				Hooks:        oauthHooks(),
				Quirks: []string{
					"scopes are configured on the app, not requested at authorize",
					"the token response carries access_url (US, EU or CA host): use it as the API base; the wrong host gives error 1018",
					"no refresh token: the access token is long-lived",
					"no revocation endpoint: the user removes the app under My Account > Linked Accounts",
					"PKCE support is undocumented (unconfirmed); the client secret is required",
					"the authorization code is valid for 5 minutes",
				},
			},
			HowTo: "At https://developer.surveymonkey.com > My Apps (EU: developer.eu.surveymonkey.com, Canada:\n" +
				"developer.surveymonkey.ca, and set region=eu or ca), create a Public app. In its Settings set the\n" +
				"OAuth Redirect URL to " + fieldkit.LocalRedirectURI + " and enable the scopes users_read,\n" +
				"surveys_read, responses_read and responses_read_detail. Set client_id and client_secret from Settings.",
		},
	}
	return &connector.Connector{
		ID:       "surveymonkey",
		Name:     "SurveyMonkey",
		Aliases:  []string{"sm"},
		Category: connector.CategorySurvey,
		Multiple: true,
		Fields: []connector.Field{
			fieldkit.AuthField(auths),
			fieldkit.Enum(connector.Field{
				Name:    "region",
				Label:   "Data centre",
				Help:    "where the account (and its app) lives: us (api.surveymonkey.com), eu (api.eu.surveymonkey.com) or ca (api.surveymonkey.ca)",
				Default: "us",
				Enum:    []string{"us", "eu", "ca"},
			}),
			fieldkit.BaseURL("API base; default the access_url returned at sign-in, or the region's host", "https://api.eu.surveymonkey.com"),
		},
		TemplateVars: func(fields map[string]string) map[string]string {
			return map[string]string{"api_host": Host(fields["region"])}
		},
		Auths: auths,
		Sources: []connector.Source{
			{Name: "surveys", New: SurveysSource, Help: "surveys of the account", PrimaryKey: "id", IncrementalField: "date_modified"},
			{Name: "responses", New: ResponsesSource, Help: "responses of every survey (responses/bulk)", PrimaryKey: "id", IncrementalField: "date_modified"},
		},
		DocsURL: "https://api.surveymonkey.com/v3/docs",
		Assumptions: "start_modified_at is taken as inclusive from one second before the checkpoint; responses list " +
			"every survey each run.",
	}
}
