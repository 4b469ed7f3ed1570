package mixpanel

import (
	"encoding/base64"
	"testing"

	"github.com/connctl/connctl/internal/jobrunner"
)

// The export is authorized with the service account (the default) or, for
// auth=api_secret, with Basic {api_secret}: and an empty password
// (https://docs.mixpanel.com/reference/project-secret).
func TestBasicAuth(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name    string
		fields  map[string]string
		secrets map[string]string
		want    string
	}{
		{"service account", map[string]string{"service_account_username": "sa"}, map[string]string{"service_account_secret": "s1"}, enc("sa:s1")},
		{"project secret", map[string]string{"auth": "api_secret"}, map[string]string{"api_secret": "ps"}, enc("ps:")},
		{"project secret, no auth field", nil, map[string]string{"api_secret": "ps"}, enc("ps:")},
		{"project secret missing", map[string]string{"auth": "api_secret"}, nil, ""},
	} {
		got, err := basicAuth(jobrunner.Request{Fields: tc.fields, Secrets: tc.secrets})
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := basicAuth(jobrunner.Request{Fields: map[string]string{"auth": "api_secret"}, Secrets: map[string]string{}}); err == nil {
		t.Error("empty api_secret accepted")
	}
	for _, name := range []string{"api_secret"} {
		if f, ok := Connector().Field(name); !ok || !f.Secret {
			t.Errorf("%s is not a secret field", name)
		}
	}
	if m, err := Connector().Auth(""); err != nil || m.ID != "service_account" {
		t.Errorf("default auth %v, %v; want service_account", m, err)
	}
}
