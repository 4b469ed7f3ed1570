package fieldkit_test

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// check runs one validator over a table: an empty want means the value is
// accepted; otherwise the error message must contain want.
func check(t *testing.T, validate func(string) error, cases map[string]string) {
	t.Helper()
	for value, want := range cases {
		err := validate(value)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: unexpected error %v", value, err)
		case want != "" && err == nil:
			t.Errorf("%q: accepted, want an error containing %q", value, want)
		case want != "" && !strings.Contains(err.Error(), want):
			t.Errorf("%q: error %q, want it to contain %q", value, err, want)
		}
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.URL("base_url", "https://api.example.com"), map[string]string{
		"https://api.example.com":              "",
		"https://api.example.com/v2/":          "",
		"https://api.example.com:8443/x?y=1":   "",
		"http://localhost:8080":                "",
		"http://127.0.0.1:9000/api":            "",
		"http://[::1]:9000":                    "",
		"HTTPS://API.EXAMPLE.COM":              "",
		"https://10.0.0.5":                     "",
		"api.example.com":                      `base_url "api.example.com" is not a URL: use https://api.example.com`,
		"api example":                          "contains spaces: use a URL such as https://api.example.com",
		" https://api.example.com":             "contains spaces",
		"/v2/api":                              "is not a URL: use a full URL such as https://api.example.com",
		"ftp://files.example.com":              "is not an http or https URL",
		"http://api.example.com/v2":            "uses plain http: use https://api.example.com/v2",
		"https://api.example.com/#frag":        "has a #fragment: remove it",
		"https://bad_host.example.com":         "has no valid host",
		"https://-bad.example.com":             "has no valid host",
		"https://user:hunter2@api.example.com": "contains credentials",
	})
}

func TestURLNeverQuotesAPassword(t *testing.T) {
	t.Parallel()
	validate := fieldkit.URL("base_url", "https://api.example.com")
	for _, v := range []string{
		"https://user:hunter2@api.example.com",
		"http://user:hunter2@api.example.com",
		"https://user:hunter2@bad host",
		"ftp://user:hunter2@files.example.com",
	} {
		if err := validate(v); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error %v repeats the password (or is nil)", v, err)
		}
	}
}

func TestURLOriginOnly(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.URL("login_url", "https://login.salesforce.com", fieldkit.OriginOnly), map[string]string{
		"https://login.salesforce.com":                         "",
		"https://acme.my.salesforce.com":                       "",
		"http://127.0.0.1:4444":                                "",
		"https://login.salesforce.com/":                        `has a path or query: use https://login.salesforce.com`,
		"https://acme.lightning.force.com/lightning/page/home": "has a path or query: use https://acme.lightning.force.com",
		"https://login.salesforce.com?x=1":                     "has a path or query: use https://login.salesforce.com",
	})
}

func TestURLAllowHTTP(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.URL("endpoint", "https://minio.example.com:9000", fieldkit.AllowHTTP), map[string]string{
		"http://minio.internal:9000": "",
		"https://minio.example.com":  "",
		"s3://bucket":                "is not an http or https URL",
	})
}

func TestHostname(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.Hostname("domain", "your tenant domain, e.g. acme.gainsightcloud.com"), map[string]string{
		"acme.gainsightcloud.com":              "",
		"companyapi.acme.com":                  "",
		"organizations":                        "",
		"72f988bf-86f1-41af-91ab-2d7cd011db47": "",
		"https://acme.gainsightcloud.com/":     `domain "https://acme.gainsightcloud.com/" is not a hostname: use acme.gainsightcloud.com`,
		"acme.gainsightcloud.com/v1/data":      "use acme.gainsightcloud.com",
		"acme gainsight":                       "is not a hostname: use your tenant domain, e.g. acme.gainsightcloud.com",
		"acme_corp.example.com":                "is not a hostname",
		"-acme.example.com":                    "is not a hostname",
	})
}

func TestSubdomain(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.Subdomain("subdomain", "zendesk.com"), map[string]string{
		"acme":                           "",
		"acme-support2":                  "",
		"acme.zendesk.com":               `subdomain "acme.zendesk.com" is not a subdomain name: use acme (for acme.zendesk.com)`,
		"https://acme.zendesk.com/agent": "use acme (for acme.zendesk.com)",
		"Acme":                           "use acme",
		"acme corp":                      "use the NAME of https://NAME.zendesk.com (lowercase letters, digits and hyphens)",
		"acme_corp":                      "is not a subdomain name",
		"-acme":                          "is not a subdomain name",
	})
}

func TestSubdomainOrHost(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.SubdomainOrHost("domain", "freshdesk.com"), map[string]string{
		"acme":                                 "",
		"acme.freshdesk.com":                   "",
		"acme freshdesk":                       `domain "acme freshdesk" is not a hostname: use a name like acme or acme.freshdesk.com`,
		"https://acme.freshdesk.com/a/tickets": "use acme or acme.freshdesk.com",
		"ACME.freshdesk.com":                   "use acme or acme.freshdesk.com",
		"support.acme.com":                     "is not a freshdesk.com domain",
		"a.b.freshdesk.com":                    "is not a freshdesk.com domain",
	})
}

func TestEmail(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.Email("email"), map[string]string{
		"jane@acme.com":           "",
		"jane.doe+ops@acme.co.uk": "",
		"jane":                    `email "jane" is not an email address: use the address you sign in with`,
		"Jane <jane@acme.com>":    "is not an email address",
		"jane@acme.com ":          "is not an email address",
	})
}

func TestDigitsNoSpacesOneOf(t *testing.T) {
	t.Parallel()
	check(t, fieldkit.Digits("project_id", "the Project ID"), map[string]string{
		"1234567": "",
		"12a":     `project_id "12a" is not a number: use the Project ID`,
		"-1":      "is not a number",
	})
	check(t, fieldkit.NoSpaces("client_id", "the app's settings"), map[string]string{
		"3MVG9abc.def": "",
		"3MVG9 abc":    "contains spaces: copy it again from the app's settings",
	})
	check(t, fieldkit.OneOf("region", "us", "eu"), map[string]string{
		"us": "",
		"eu": "",
		"EU": `region "EU" is not allowed: use one of us, eu`,
	})
}

func TestEnumAndAuthField(t *testing.T) {
	t.Parallel()
	f := fieldkit.Enum(connector.Field{Name: "region", Enum: []string{"us", "eu"}})
	if f.Validate("eu") != nil || f.Validate("de") == nil {
		t.Error("Enum: validator does not follow Enum")
	}
	auth := fieldkit.AuthField([]connector.AuthMethod{{ID: "api_token"}, {ID: "oauth2"}})
	if auth.Name != "auth" || auth.Default != "api_token" || len(auth.Enum) != 2 || auth.Required {
		t.Errorf("AuthField = %+v", auth)
	}
	if auth.Validate("oauth2") != nil || auth.Validate("password") == nil {
		t.Error("AuthField: validator does not follow the method IDs")
	}
	if !strings.Contains(auth.Help, "api_token (default) or oauth2") {
		t.Errorf("AuthField help %q", auth.Help)
	}
}

func TestFieldBuilders(t *testing.T) {
	t.Parallel()
	base := fieldkit.BaseURL("API base", "https://api.example.com")
	if base.Name != "base_url" || base.Required || base.Secret || base.Validate == nil {
		t.Errorf("BaseURL = %+v", base)
	}
	id := fieldkit.ClientID("help")
	if id.Name != "client_id" || !id.Required || id.Secret {
		t.Errorf("ClientID = %+v", id)
	}
	for need, required := range map[string]bool{"required": true, "optional": false} {
		s := fieldkit.ClientSecret(need, "help")
		if s.Name != "client_secret" || !s.Secret || s.Required != required {
			t.Errorf("ClientSecret(%q) = %+v", need, s)
		}
	}
	k := fieldkit.Secret("api_key", "API key", "help")
	if !k.Secret || !k.Required {
		t.Errorf("Secret = %+v", k)
	}
	if err := fieldkit.URL("x", "https://x")(fieldkit.LocalRedirectURI); err != nil {
		t.Errorf("LocalRedirectURI %s is not a loopback http URL: %v", fieldkit.LocalRedirectURI, err)
	}
}
