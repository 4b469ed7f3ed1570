package all_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector/all"
)

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// Every connector's ExecEnv names plain environment variables outside
// connctl's own CONNCTL_ namespace, whatever the auth method.
func TestExecEnvNames(t *testing.T) {
	t.Parallel()
	n := 0
	for _, c := range all.Catalogue().All() {
		if c.ExecEnv == nil {
			continue
		}
		n++
		for i := range c.Auths {
			m := &c.Auths[i]
			fields, secrets := map[string]string{"api_base": "https://api.example"}, map[string]string{}
			for _, f := range c.FieldsFor(m) {
				v := f.Example
				if v == "" {
					v = f.Default
				}
				if f.Secret {
					secrets[f.Name] = "secret-" + f.Name
				} else if v != "" {
					fields[f.Name] = v
				}
			}
			token := ""
			if m.OAuth != nil {
				token, secrets = "access-token", map[string]string{}
			}
			for k := range c.ExecEnv(fields, secrets, token) {
				if !envName.MatchString(k) || strings.HasPrefix(k, "CONNCTL_") {
					t.Errorf("%s (%s): ExecEnv names %q: use an upper-case name outside CONNCTL_", c.ID, m.ID, k)
				}
			}
		}
	}
	if n < 3 {
		t.Errorf("only %d connectors give native variables: s3, bigquery and salesforce should", n)
	}
}
