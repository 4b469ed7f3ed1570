package all_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
)

var (
	snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	kebabCase = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	// placeholder matches {field} in templated OAuth URLs and scopes.
	placeholder = regexp.MustCompile(`\{([^{}]*)\}`)
)

// tokenValues are placeholders filled from the token response rather than
// from a field: Salesforce instance_url, Zoho api_domain, SurveyMonkey
// access_url.
var tokenValues = []string{"instance_url", "api_domain", "access_url"}

var categories = connector.Categories()

// The catalogue itself (ids, names, categories, several connections or
// one, aliases, auth methods with the default first) is pinned by the
// generated docs/connectors.md, which commands/connectors' TestConnectorsDoc
// keeps equal to it: a change to an entry shows in that file's diff, and a
// new connector adds no line to a test here.

func TestRegisterFillsAGivenCatalogue(t *testing.T) {
	t.Parallel()
	cat := connector.NewCatalogue()
	all.Register(cat)
	if got, want := cat.IDs(), all.Catalogue().IDs(); !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("Register added %v, want %v", got, want)
	}
}

func TestEveryConnectorIsComplete(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		if !kebabCase.MatchString(c.ID) {
			t.Errorf("id %q is not kebab-case", c.ID)
		}
		if c.Name == "" || c.DocsURL == "" {
			t.Errorf("%s: Name and DocsURL are required", c.ID)
		}
		if !slices.Contains(categories, c.Category) {
			t.Errorf("%s: unknown category %q", c.ID, c.Category)
		}
		if len(c.Auths) == 0 {
			t.Fatalf("%s: no auth method", c.ID)
		}
		seen := map[string]bool{}
		for _, m := range c.Auths {
			if !snakeCase.MatchString(m.ID) || seen[m.ID] {
				t.Errorf("%s: auth method id %q is not snake_case or is repeated", c.ID, m.ID)
			}
			seen[m.ID] = true
			if m.Label == "" || strings.TrimSpace(m.HowTo) == "" {
				t.Errorf("%s/%s: Label and HowTo are required", c.ID, m.ID)
			}
		}
	}
}

func TestAliasesResolve(t *testing.T) {
	t.Parallel()
	cat := all.Catalogue()
	for _, c := range cat.All() {
		for _, name := range append([]string{c.ID, strings.ToUpper(c.ID)}, c.Aliases...) {
			got, ok := cat.Lookup(name)
			if !ok || got.ID != c.ID {
				t.Errorf("Lookup(%q) = %v, %v; want connector %s", name, got, ok, c.ID)
			}
		}
	}
}

func TestFieldNamesAreSnakeCaseAndUniquePerMethod(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		for i := range c.Auths {
			m := &c.Auths[i]
			seen := map[string]bool{}
			for _, f := range c.FieldsFor(m) {
				if !snakeCase.MatchString(f.Name) {
					t.Errorf("%s/%s: field %q is not snake_case", c.ID, m.ID, f.Name)
				}
				if seen[f.Name] {
					t.Errorf("%s/%s: field %q appears twice", c.ID, m.ID, f.Name)
				}
				seen[f.Name] = true
				if f.Label == "" || f.Help == "" {
					t.Errorf("%s: field %q needs a Label and Help", c.ID, f.Name)
				}
			}
		}
	}
}

func TestNamedFieldsExist(t *testing.T) {
	t.Parallel()
	cat := all.Catalogue()
	for id, names := range map[string][]string{
		"freshdesk": {"domain"},
		"zendesk":   {"subdomain", "email"},
		"mixpanel":  {"project_id"},
		"s3":        {"bucket", "region", "endpoint", "access_key_id"},
		"oauth2":    {"issuer", "client_id", "scopes"},
	} {
		c, _ := cat.Lookup(id)
		for _, name := range names {
			if _, ok := c.Field(name); !ok {
				t.Errorf("%s: no field %q", id, name)
			}
		}
	}
}

func TestEveryConnectorHasAnOptionalValidatedBaseURL(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		i := slices.IndexFunc(c.Fields, func(f connector.Field) bool { return f.Name == "base_url" })
		if i < 0 {
			t.Errorf("%s: no common base_url field", c.ID)
			continue
		}
		f := c.Fields[i]
		if f.Required || f.Secret || f.Validate == nil {
			t.Errorf("%s: base_url must be optional, not secret, and validated", c.ID)
			continue
		}
		if err := f.Validate("https://proxy.example.com/api"); err != nil {
			t.Errorf("%s: base_url rejects a good URL: %v", c.ID, err)
		}
		if err := f.Validate("proxy example"); err == nil {
			t.Errorf("%s: base_url accepts %q", c.ID, "proxy example")
		}
	}
}

// TestAuthFieldListsTheMethods: connectors with several methods let a
// connection choose with `auth`; the default is the first method.
func TestAuthFieldListsTheMethods(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		f, ok := c.Field("auth")
		if len(c.Auths) == 1 {
			if ok {
				t.Errorf("%s: has an auth field but one method", c.ID)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: %d auth methods but no auth field", c.ID, len(c.Auths))
			continue
		}
		var ids []string
		for _, m := range c.Auths {
			ids = append(ids, m.ID)
		}
		if !slices.Equal(f.Enum, ids) || f.Default != ids[0] || f.Required || f.Secret {
			t.Errorf("%s: auth field Enum %v Default %q, want Enum %v Default %q, optional", c.ID, f.Enum, f.Default, ids, ids[0])
		}
		if !slices.ContainsFunc(c.Fields, func(x connector.Field) bool { return x.Name == "auth" }) {
			t.Errorf("%s: auth must be a common field", c.ID)
		}
	}
}

func TestOAuthMethodsAreFullySpecified(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		for i := range c.Auths {
			m := &c.Auths[i]
			if m.Kind != connector.AuthOAuth2 {
				if m.OAuth != nil {
					t.Errorf("%s/%s: a %s method has an OAuthSpec", c.ID, m.ID, m.Kind)
				}
				continue
			}
			o := m.OAuth
			if o == nil {
				t.Errorf("%s/%s: oauth2 method without OAuthSpec", c.ID, m.ID)
				continue
			}
			if o.AuthURL == "" || o.TokenURL == "" {
				t.Errorf("%s/%s: AuthURL and TokenURL are required", c.ID, m.ID)
			}
			if o.AuthStyle != "params" && o.AuthStyle != "header" {
				t.Errorf("%s/%s: AuthStyle %q, want params or header", c.ID, m.ID, o.AuthStyle)
			}
			if (o.RevokeURL == "") != (o.RevokeStyle == "") {
				t.Errorf("%s/%s: RevokeURL %q and RevokeStyle %q must be both set or both empty", c.ID, m.ID, o.RevokeURL, o.RevokeStyle)
			}
			if !slices.Contains([]string{"", "rfc7009", "query", "delete", "client_in_form"}, o.RevokeStyle) {
				t.Errorf("%s/%s: unknown RevokeStyle %q", c.ID, m.ID, o.RevokeStyle)
			}
			if !slices.Contains([]string{"required", "optional", "none"}, o.ClientSecret) {
				t.Errorf("%s/%s: ClientSecret %q, want required, optional or none", c.ID, m.ID, o.ClientSecret)
			}
			if _, ok := c.Field("client_id"); !ok {
				t.Errorf("%s/%s: no client_id field", c.ID, m.ID)
			}
			secret, ok := methodField(m, "client_secret")
			switch {
			case o.ClientSecret == "none" && ok:
				t.Errorf("%s/%s: ClientSecret none but a client_secret field", c.ID, m.ID)
			case o.ClientSecret != "none" && (!ok || !secret.Secret || secret.Required != (o.ClientSecret == "required")):
				t.Errorf("%s/%s: client_secret field does not match ClientSecret %q", c.ID, m.ID, o.ClientSecret)
			}
			if o.RedirectURI != "" && !strings.Contains(m.HowTo, o.RedirectURI) {
				t.Errorf("%s/%s: HowTo does not name the redirect URI %s to register", c.ID, m.ID, o.RedirectURI)
			}
			if len(o.Quirks) == 0 {
				t.Errorf("%s/%s: no Quirks", c.ID, m.ID)
			}
		}
	}
}

// TestOAuthPlaceholdersNameFields: every {x} in a templated URL or scope is a
// field of that method (or a token-response value), so it can be filled.
func TestOAuthPlaceholdersNameFields(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		for i := range c.Auths {
			m := &c.Auths[i]
			if m.OAuth == nil {
				continue
			}
			names := map[string]bool{}
			for _, f := range c.FieldsFor(m) {
				names[f.Name] = !f.Secret
			}
			for _, v := range tokenValues {
				names[v] = true
			}
			if c.TemplateVars != nil {
				for k := range c.TemplateVars(map[string]string{}) {
					names[k] = true
				}
			}
			o := m.OAuth
			for _, s := range append([]string{o.AuthURL, o.TokenURL, o.RevokeURL, o.UserinfoURL}, o.Scopes...) {
				for _, p := range placeholder.FindAllStringSubmatch(s, -1) {
					if !names[p[1]] {
						t.Errorf("%s/%s: %q uses {%s}, which is not a non-secret field", c.ID, m.ID, s, p[1])
					}
				}
			}
		}
	}
}

// TestKeyMethodsHaveARequiredPrimarySecret: methods without a browser flow
// need a secret, and the first secret field is the primary, required one.
func TestKeyMethodsHaveARequiredPrimarySecret(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		for _, m := range c.Auths {
			var secrets []connector.Field
			for _, f := range m.Fields {
				if f.Secret {
					secrets = append(secrets, f)
				}
			}
			if m.Kind.Interactive() {
				continue
			}
			if len(secrets) == 0 || !secrets[0].Required {
				t.Errorf("%s/%s: a %s method needs a required primary secret field, first among its secrets", c.ID, m.ID, m.Kind)
			}
		}
	}
}

func TestSecretFieldsLiveInMethodsWithoutDefaults(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		for _, f := range c.Fields {
			if f.Secret {
				t.Errorf("%s: common field %q is secret; secrets belong to an auth method", c.ID, f.Name)
			}
		}
		for _, m := range c.Auths {
			for _, f := range m.Fields {
				if f.Secret && (f.Default != "" || f.Example != "" || f.MaxBytes < 0) {
					t.Errorf("%s/%s: secret field %q has a Default or Example, or a negative MaxBytes", c.ID, m.ID, f.Name)
				}
			}
		}
	}
}

// TestDefaultsAndEnumsPassValidation: a field's default and every enum value
// pass its validator, and the validator rejects a value outside the enum.
func TestDefaultsAndEnumsPassValidation(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		for i := range c.Auths {
			for _, f := range c.FieldsFor(&c.Auths[i]) {
				if f.Validate != nil && f.Default != "" {
					if err := f.Validate(f.Default); err != nil {
						t.Errorf("%s: default of %s fails validation: %v", c.ID, f.Name, err)
					}
				}
				if f.Validate != nil && f.Example != "" && !f.Secret {
					if err := f.Validate(f.Example); err != nil {
						t.Errorf("%s: example of %s fails validation: %v", c.ID, f.Name, err)
					}
				}
				if len(f.Enum) == 0 {
					continue
				}
				if f.Default != "" && !slices.Contains(f.Enum, f.Default) {
					t.Errorf("%s: default %q of %s is not in %v", c.ID, f.Default, f.Name, f.Enum)
				}
				if f.Validate == nil {
					t.Errorf("%s: enum field %s has no validator", c.ID, f.Name)
					continue
				}
				for _, v := range f.Enum {
					if err := f.Validate(v); err != nil {
						t.Errorf("%s: %s rejects its own enum value %q: %v", c.ID, f.Name, v, err)
					}
				}
				if err := f.Validate("bogus"); err == nil {
					t.Errorf("%s: %s accepts bogus", c.ID, f.Name)
				}
			}
		}
	}
}

func TestSourcesAreDescribed(t *testing.T) {
	t.Parallel()
	for _, c := range all.Catalogue().All() {
		if len(c.Sources) == 0 {
			t.Errorf("%s: no out-of-the-box source", c.ID)
		}
		seen := map[string]bool{}
		for _, s := range c.Sources {
			if !snakeCase.MatchString(s.Name) || seen[s.Name] {
				t.Errorf("%s: source %q is not snake_case or is repeated", c.ID, s.Name)
			}
			seen[s.Name] = true
			if s.Help == "" {
				t.Errorf("%s/%s: no Help", c.ID, s.Name)
			}
			for _, p := range s.Params {
				if !snakeCase.MatchString(p.Name) || p.Help == "" || p.Secret {
					t.Errorf("%s/%s: param %q must be snake_case, described and not secret", c.ID, s.Name, p.Name)
				}
			}
		}
	}
}

func methodField(m *connector.AuthMethod, name string) (connector.Field, bool) {
	for _, f := range m.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return connector.Field{}, false
}
