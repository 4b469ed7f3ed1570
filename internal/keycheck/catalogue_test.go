package keycheck_test

import (
	"testing"
)

// TestCatalogueAgrees guards against drift between the key checks and the
// catalogue: every method with a check exists, is its connector's
// default (so an empty auth id selects it), and every field and secret it
// reads exists with the right secrecy.
func TestCatalogueAgrees(t *testing.T) {
	t.Parallel()
	reads := map[string]struct{ fields, secrets []string }{
		"freshdesk":           {[]string{"domain", "base_url"}, []string{"api_key"}},
		"zendesk":             {[]string{"subdomain", "email", "base_url"}, []string{"api_token"}},
		"jira":                {[]string{"site_url", "email", "base_url"}, []string{"api_token"}},
		"hubspot":             {[]string{"base_url"}, []string{"access_token"}},
		"surveymonkey":        {[]string{"base_url"}, []string{"access_token"}},
		"mixpanel":            {[]string{"project_id", "region", "service_account_username", "base_url"}, []string{"service_account_secret"}},
		"mixpanel/api_secret": {[]string{"project_id", "region", "base_url"}, []string{"api_secret"}},
		"gainsight-px":        {[]string{"region", "base_url"}, []string{"api_key"}},
		"gainsight-api":       {[]string{"domain", "base_url"}, []string{"access_key"}},
		"s3":                  {[]string{"bucket", "region", "endpoint", "path_style", "base_url", "access_key_id"}, []string{"secret_access_key", "session_token"}},
		"bigquery":            {[]string{"project_id", "base_url"}, []string{"service_account_key"}},
	}
	// methods lists every connector/auth pair with a key check, in
	// catalogue order: a connector's first one must be its default, so
	// that an empty auth id selects it.
	// A check whose own package runs the scenarios (testedAtHome) may be
	// left out: its own tests read its fields.
	type method struct{ connector, auth string }
	var methods []method
	known := 0
	for _, c := range catalogue.All() {
		for _, a := range c.Auths {
			if a.Check == nil {
				continue
			}
			_, listed := reads[c.ID+"/"+a.ID]
			if _, ok := reads[c.ID]; ok {
				listed = true
			}
			if !listed && testedAtHome(a.Check) {
				continue
			}
			methods = append(methods, method{c.ID, a.ID})
			if listed {
				known++
			}
		}
	}
	if len(methods) != known || known != len(reads) {
		t.Errorf("%d methods have a key check, this test knows %d: add the fields its check reads to this test", len(methods), len(reads))
	}
	cat := catalogue
	seen := map[string]bool{}
	for _, m := range methods {
		first := !seen[m.connector]
		seen[m.connector] = true
		c, ok := cat.Lookup(m.connector)
		if !ok || c.ID != m.connector {
			t.Errorf("connector %s is not in the catalogue", m.connector)
			continue
		}
		am, err := c.Auth(m.auth)
		if err != nil {
			t.Errorf("%s: %v", m.connector, err)
			continue
		}
		if first && c.DefaultAuth().ID != m.auth {
			t.Errorf("%s: %s is not the default auth method (%s is)", m.connector, m.auth, c.DefaultAuth().ID)
		}
		if am.Kind.Interactive() {
			t.Errorf("%s/%s is an OAuth method", m.connector, m.auth)
		}
		r, ok := reads[m.connector+"/"+m.auth]
		if !ok {
			r, ok = reads[m.connector]
		}
		if !ok {
			t.Errorf("%s: add the fields its check reads to this test", m.connector)
			continue
		}
		byName := map[string]bool{} // name -> secret
		for _, f := range c.FieldsFor(am) {
			byName[f.Name] = f.Secret
		}
		for _, name := range r.fields {
			if secret, ok := byName[name]; !ok || secret {
				t.Errorf("%s/%s has no non-secret field %s", m.connector, m.auth, name)
			}
		}
		for _, name := range r.secrets {
			if secret, ok := byName[name]; !ok || !secret {
				t.Errorf("%s/%s has no secret field %s", m.connector, m.auth, name)
			}
		}
	}
}
