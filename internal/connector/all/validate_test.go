package all_test

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector/all"
)

// saKey is the shape of a Google service-account key file, with dummy values.
const saKey = `{"type":"service_account","project_id":"acme-analytics","private_key_id":"0123",` +
	`"private_key":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",` +
	`"client_email":"etl@acme-analytics.iam.gserviceaccount.com","client_id":"1",` +
	`"token_uri":"https://oauth2.googleapis.com/token"}`

// TestFieldValidators runs each connector's own validators, reached through
// the catalogue as a command would reach them. An empty want means the value
// is accepted; otherwise the message must contain want.
func TestFieldValidators(t *testing.T) {
	t.Parallel()
	cases := []struct {
		connector, field, value, want string
	}{
		{"salesforce", "login_url", "https://test.salesforce.com", ""},
		{"salesforce", "login_url", "https://acme--dev.sandbox.my.salesforce.com", ""},
		{"salesforce", "login_url", "login.salesforce.com", "use https://login.salesforce.com"},
		{"salesforce", "login_url", "https://login.salesforce.com/", "has a path or query: use https://login.salesforce.com"},

		{"dynamics", "org_url", "https://acme.crm4.dynamics.com", ""},
		{"dynamics", "org_url", "https://acme.crm.dynamics.com/main.aspx?appid=1", "has a path or query: use https://acme.crm.dynamics.com"},
		{"dynamics", "org_url", "http://acme.crm.dynamics.com", "uses plain http"},
		{"dynamics", "tenant", "organizations", ""},
		{"dynamics", "tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47", ""},
		{"dynamics", "tenant", "contoso.onmicrosoft.com", ""},
		{"dynamics", "tenant", "contoso tenant", "use organizations, a Directory (tenant) ID"},

		{"zoho", "accounts_server", "https://accounts.zohocloud.ca", ""},
		{"zoho", "accounts_server", "accounts.zoho.eu", "use https://accounts.zoho.eu"},

		{"zendesk", "subdomain", "acme", ""},
		{"zendesk", "subdomain", "acme.zendesk.com", "use acme (for acme.zendesk.com)"},
		{"zendesk", "subdomain", "acme support", "lowercase letters, digits and hyphens"},
		{"zendesk", "email", "agent@acme.com", ""},
		{"zendesk", "email", "agent", "is not an email address"},

		{"freshdesk", "domain", "acme", ""},
		{"freshdesk", "domain", "acme.freshdesk.com", ""},
		{"freshdesk", "domain", "acme freshdesk", `domain "acme freshdesk" is not a hostname: use a name like acme or acme.freshdesk.com`},
		{"freshdesk", "domain", "https://acme.freshdesk.com", "use acme or acme.freshdesk.com"},

		{"jira", "site_url", "https://acme.atlassian.net", ""},
		{"jira", "site_url", "acme.atlassian.net", "use https://acme.atlassian.net"},
		{"jira", "site_url", "https://acme.atlassian.net/jira/software/projects/SUP", "has a path or query: use https://acme.atlassian.net"},
		{"jira", "email", "jane@acme.com", ""},

		{"bigquery", "project_id", "acme-analytics", ""},
		{"bigquery", "project_id", "example.com:acme-analytics", ""},
		{"bigquery", "project_id", "123456789012", "not the project name or number"},
		{"bigquery", "project_id", "Acme Analytics", "is not a project ID"},
		{"bigquery", "project_id", "acme-", "is not a project ID"},
		{"bigquery", "location", "US", ""},
		{"bigquery", "location", "europe-west2", ""},
		{"bigquery", "location", "eu west", "is not a BigQuery location"},
		{"bigquery", "service_account_key", saKey, ""},
		{"bigquery", "service_account_key", "not json", "is not JSON: give the downloaded key file with --secret-file"},
		{"bigquery", "service_account_key", `{"installed":{"client_id":"x","client_secret":"y"}}`, "is an OAuth client file"},
		{"bigquery", "service_account_key", `{"type":"authorized_user","refresh_token":"r"}`, "has type authorized_user, not service_account"},
		{"bigquery", "service_account_key", `{"type":"service_account"}`, "lacks client_email or private_key"},

		{"s3", "bucket", "acme-exports", ""},
		{"s3", "bucket", "acme.exports.2026", ""},
		{"s3", "bucket", "s3://acme-exports/daily/", "use the name alone, e.g. acme-exports"},
		{"s3", "bucket", "arn:aws:s3:::acme-exports", "use the name alone, e.g. acme-exports"},
		{"s3", "bucket", "ab", "3 to 63 characters"},
		{"s3", "bucket", strings.Repeat("a", 64), "3 to 63 characters"},
		{"s3", "bucket", "Acme_Exports", "use lowercase letters, digits, dots and hyphens"},
		{"s3", "bucket", "acme-", "starting and ending with a letter or digit"},
		{"s3", "bucket", "acme..exports", "two dots in a row"},
		{"s3", "bucket", "192.168.5.4", "must not look like an IP address"},
		{"s3", "bucket", "xn--acme", "prefix xn-- is reserved"},
		{"s3", "bucket", "acme-s3alias", "suffix -s3alias is reserved"},
		{"s3", "region", "eu-west-1", ""},
		{"s3", "region", "auto", ""},
		{"s3", "region", "EU (Ireland)", "is not a region"},
		{"s3", "endpoint", "http://minio.internal:9000", ""},
		{"s3", "endpoint", "minio.internal:9000", "is not a URL"},
		{"s3", "path_style", "true", ""},
		{"s3", "path_style", "yes", "use one of true, false"},
		{"s3", "access_key_id", "AKIAIOSFODNN7EXAMPLE", ""},
		{"s3", "access_key_id", "0123456789abcdef0123456789abcdef", ""},
		{"s3", "access_key_id", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "looks like a secret access key"},
		{"s3", "access_key_id", "AKIA IOSFODNN7", "is not an access key ID"},

		{"mixpanel", "project_id", "1234567", ""},
		{"mixpanel", "project_id", "acme-prod", "is not a number: use the numeric Project ID"},
		{"mixpanel", "region", "eu", ""},
		{"mixpanel", "region", "de", "use one of us, eu, in"},
		{"mixpanel", "service_account_username", "export.a1b2c3.mp-service-account", ""},
		{"mixpanel", "service_account_username", "export:secret", "contains a colon"},

		{"gainsight-px", "region", "us2", ""},
		{"gainsight-px", "region", "apac", "use one of us, eu, us2"},

		{"gainsight-api", "domain", "acme.gainsightcloud.com", ""},
		{"gainsight-api", "domain", "companyapi.acme.com", ""},
		{"gainsight-api", "domain", "https://acme.gainsightcloud.com/", "use acme.gainsightcloud.com"},

		{"oauth2", "issuer", "https://accounts.example.com", ""},
		{"oauth2", "issuer", "http://127.0.0.1:4444/", ""},
		{"oauth2", "token_url", "http://auth.example.com/token", "uses plain http"},
		{"oauth2", "redirect_uri", "http://127.0.0.1:8976/callback", ""},
		{"oauth2", "redirect_uri", "http://localhost/cb", ""},
		{"oauth2", "redirect_uri", "https://app.example.com/callback", "is not a loopback URL"},
		{"oauth2", "token_auth_style", "header", ""},
		{"oauth2", "token_auth_style", "basic", "use one of params, header"},
	}
	cat := all.Catalogue()
	for _, tc := range cases {
		c, ok := cat.Lookup(tc.connector)
		if !ok {
			t.Fatalf("no connector %s", tc.connector)
		}
		f, ok := c.Field(tc.field)
		if !ok || f.Validate == nil {
			t.Errorf("%s: no validated field %s", tc.connector, tc.field)
			continue
		}
		err := f.Validate(tc.value)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s.%s %q: unexpected error %v", tc.connector, tc.field, tc.value, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s.%s %q: accepted, want an error containing %q", tc.connector, tc.field, tc.value, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s.%s %q: error %q, want it to contain %q", tc.connector, tc.field, tc.value, err, tc.want)
		}
	}
}

// TestSecretValidatorsNeverQuoteTheSecret: validators that see secret values,
// or values that may be a misplaced secret, never repeat them.
func TestSecretValidatorsNeverQuoteTheSecret(t *testing.T) {
	t.Parallel()
	const canary = "CANARY/secret+value/0123456789abcdefghij" // 40 characters
	cat := all.Catalogue()
	for _, tc := range []struct{ connector, field, value string }{
		{"bigquery", "service_account_key", canary},
		{"bigquery", "service_account_key", `{"type":"` + canary + `"}`},
		{"bigquery", "service_account_key", `{"installed":{"client_secret":"` + canary + `"}}`},
		{"s3", "access_key_id", canary},
		{"s3", "access_key_id", canary + " x"},
	} {
		c, _ := cat.Lookup(tc.connector)
		f, _ := c.Field(tc.field)
		err := f.Validate(tc.value)
		if err == nil {
			t.Errorf("%s.%s: accepted %q", tc.connector, tc.field, tc.value)
		} else if strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%s.%s: message repeats the value: %v", tc.connector, tc.field, err)
		}
	}
}
