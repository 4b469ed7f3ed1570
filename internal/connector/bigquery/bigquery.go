// Package bigquery describes the Google BigQuery connector: a service-account
// JSON key (JWT bearer) or Google OAuth 2.0 as a Desktop app client. It holds
// the catalogue entry only and never talks to the network.
package bigquery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// Connector returns the catalogue entry for Google BigQuery.
func Connector() *connector.Connector {
	auths := []connector.AuthMethod{
		{
			ID:    "service_account",
			Check: checkServiceAccount,
			Kind:  connector.AuthServiceAccount,
			Label: "Service account JSON key",
			Fields: []connector.Field{{
				Name:     "service_account_key",
				Label:    "Service account key",
				Help:     "the service account's JSON key file; give it with --secret-file key.json",
				Required: true,
				Secret:   true,
				Validate: validateKey,
				// MaxBytes 0: the store's default limit (2,560 bytes, the
				// Windows Credential Manager cap). A Google key file is about
				// 2,300-2,400 bytes as downloaded; stored compacted, a
				// pretty-printed one fits too.
				Normalize: compactJSON,
			}},
			HowTo: "In the Google Cloud console > IAM & Admin > Service Accounts, create a service account in the\n" +
				"project and grant it BigQuery Job User (to run queries) and BigQuery Data Viewer (to read tables).\n" +
				"Then Keys > Add key > Create new key > JSON, and give the downloaded file with --secret-file.",
		},
		{
			ID:    "oauth2",
			Kind:  connector.AuthOAuth2,
			Label: "Google account (browser sign-in)",
			Fields: []connector.Field{
				fieldkit.ClientID("Client ID of an OAuth client of type Desktop app"),
				fieldkit.ClientSecret("required", "Client secret of the Desktop app client (Google issues one and expects it at the token endpoint)"),
				fieldkit.Enum(connector.Field{
					Name:    AppStatusField,
					Label:   "Publishing status",
					Help:    "the OAuth consent screen's publishing status: testing (refresh tokens end 7 days after sign-in, so status forecasts it) or production",
					Default: "production",
					Enum:    []string{"production", "testing"},
				}),
			},
			OAuth: &connector.OAuthSpec{
				AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
				TokenURL:    "https://oauth2.googleapis.com/token",
				RevokeURL:   "https://oauth2.googleapis.com/revoke",
				RevokeStyle: "query",
				UserinfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
				Scopes:      []string{"https://www.googleapis.com/auth/bigquery", "openid", "email"},
				AuthStyle:   "params",
				PKCE:        true,
				// Empty: a Desktop client accepts http://127.0.0.1 on any port.
				RedirectURI:  "",
				AuthParams:   map[string]string{"access_type": "offline", "prompt": "consent"},
				ClientSecret: "required",
				Quirks: []string{
					"access_type=offline&prompt=consent, or a refresh token comes only with the first consent",
					"loopback redirect http://127.0.0.1:{any port} (Desktop client); localhost works but can hit firewalls",
					"revoke: POST https://oauth2.googleapis.com/revoke?token= (revoking an access token revokes its refresh token too)",
					"refresh tokens expire after 6 months unused, and after 7 days for apps in Testing with external users (set app_status=testing)",
					"quota errors are HTTP 403 rateLimitExceeded (back off) or quotaExceeded",
				},
			},
			HowTo: "In the Google Cloud console > APIs & Services: enable the BigQuery API, configure the OAuth\n" +
				"consent screen (while in Testing, add yourself as a test user and set app_status=testing: refresh tokens then last 7 days),\n" +
				"then Credentials > Create credentials > OAuth client ID > Application type Desktop app.\n" +
				"Set client_id and client_secret. No redirect URI to register: Desktop clients accept any loopback port.",
		},
	}
	return &connector.Connector{
		ID:       "bigquery",
		Expiry:   expiry,
		ExecEnv:  execEnv,
		Name:     "Google BigQuery",
		Aliases:  []string{"bq", "google-bigquery"},
		Category: connector.CategoryAnalytics,
		Multiple: true,
		Fields: []connector.Field{
			fieldkit.AuthField(auths),
			{
				Name:     "project_id",
				Label:    "Project ID",
				Help:     "Google Cloud project that runs the queries (the ID, not the name or number)",
				Required: true,
				Example:  "acme-analytics",
				Validate: validateProjectID,
			},
			{
				Name:     "location",
				Label:    "Location",
				Help:     "BigQuery location of the datasets, e.g. US, EU or europe-west2; empty: BigQuery decides",
				Example:  "EU",
				Validate: validateLocation,
			},
			fieldkit.BaseURL("API base; default https://bigquery.googleapis.com", "https://bigquery.googleapis.com"),
		},
		Auths: auths,
		Sources: []connector.Source{
			{
				Name: "query",
				New:  QuerySource,
				Help: "rows of a GoogleSQL query (jobs.query, then getQueryResults pages)",
				// A job that names its incremental_column runs incrementally:
				// the source then fills {since} from the checkpoint.
				IncrementalParam: "incremental_column",
				Params: []connector.Field{{
					Name:     "sql",
					Label:    "SQL",
					Help:     "GoogleSQL query; put {since} where the last checkpoint goes (a TIMESTAMP literal; the 1970 epoch on the first run) to run it incrementally",
					Required: true,
					Example:  "SELECT * FROM `acme-analytics.sales.orders` WHERE updated_at >= {since}",
				}, {
					Name:    "incremental_column",
					Label:   "Incremental column",
					Help:    "column whose largest value becomes the checkpoint when the SQL contains {since}",
					Example: "updated_at",
				}},
			},
			{
				Name: "table",
				New:  TableSource,
				Help: "every row of one table (tabledata.list)",
				Params: []connector.Field{
					{Name: "dataset", Label: "Dataset", Help: "dataset ID", Required: true, Example: "sales"},
					{Name: "table", Label: "Table", Help: "table ID", Required: true, Example: "orders"},
				},
			},
		},
		DocsURL: "https://developers.google.com/identity/protocols/oauth2/native-app",
		Assumptions: "{since} becomes a TIMESTAMP literal with a +00:00 offset; jobs are polled every second. A query " +
			"job is incremental when it sets incremental_column. Google's revoke answers 400 invalid_token " +
			"for a token that had already ended: reported as already revoked.",
	}
}

// A project ID is 6-30 lowercase letters, digits and hyphens, starting with a
// letter; old projects may carry a domain prefix (example.com:my-project).
var projectID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`) })

func validateProjectID(v string) error {
	if projectID().MatchString(v) {
		return nil
	}
	return fmt.Errorf("project_id %q is not a project ID: use the ID shown in the Google Cloud console project picker, e.g. acme-analytics (not the project name or number)", v)
}

var location = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,40}$`) })

func validateLocation(v string) error {
	if location().MatchString(v) {
		return nil
	}
	return fmt.Errorf("location %q is not a BigQuery location: use a multi-region such as US or EU, or a region such as europe-west2", v)
}

var keyType = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_]{1,32}$`) })

// compactJSON drops the insignificant whitespace of a JSON document.
func compactJSON(v string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(v)); err != nil {
		return v
	}
	return b.String()
}

// validateKey checks that a service_account_key value is a Google
// service-account key file. Its messages never quote the value.
func validateKey(v string) error {
	var key struct {
		Type        string          `json:"type"`
		ClientEmail string          `json:"client_email"`
		PrivateKey  string          `json:"private_key"`
		Installed   json.RawMessage `json:"installed"`
		Web         json.RawMessage `json:"web"`
	}
	if err := json.Unmarshal([]byte(v), &key); err != nil {
		return errors.New("service_account_key is not JSON: give the downloaded key file with --secret-file key.json")
	}
	switch {
	case key.Installed != nil || key.Web != nil:
		return errors.New("service_account_key is an OAuth client file, not a service-account key: use auth=oauth2 with its client_id and client_secret, or create a key under IAM & Admin > Service Accounts > Keys")
	case key.Type != "service_account":
		kind := "another type"
		if keyType().MatchString(key.Type) { // a known word such as authorized_user, never free text from the secret
			kind = "type " + key.Type
		}
		return fmt.Errorf("service_account_key has %s, not service_account: create a key under IAM & Admin > Service Accounts > Keys", kind)
	case key.ClientEmail == "" || key.PrivateKey == "":
		return errors.New("service_account_key lacks client_email or private_key: download a new JSON key under IAM & Admin > Service Accounts > Keys")
	}
	return nil
}
