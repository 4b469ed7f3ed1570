// Package connector defines what connctl knows about an external system (a
// connector): its fields, how it authenticates, and its OAuth endpoints. The
// Catalogue holds every connector; connector/all fills it explicitly. This
// package never talks to the network, the keyring or the terminal.
package connector

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/keycheck"
)

// Category groups connectors. CRM and Support are limited per the product
// (settings limits.crm and limits.support).
type Category string

// Categories.
const (
	CategoryCRM       Category = "crm"
	CategorySupport   Category = "support"
	CategoryProject   Category = "project"
	CategoryAnalytics Category = "analytics"
	CategoryStorage   Category = "storage"
	CategorySurvey    Category = "survey"
	CategoryGainsight Category = "gainsight"
	CategoryGeneric   Category = "generic"
	CategoryWarehouse Category = "warehouse"
)

// Categories returns every category, for checks that a connector names a
// known one.
func Categories() []Category {
	return []Category{CategoryCRM, CategorySupport, CategoryProject, CategoryAnalytics,
		CategoryStorage, CategorySurvey, CategoryGainsight, CategoryGeneric, CategoryWarehouse}
}

// AuthKind is how a connection proves who it is.
type AuthKind string

// Auth kinds.
const (
	AuthOAuth2         AuthKind = "oauth2"
	AuthAPIKey         AuthKind = "api_key"
	AuthBasic          AuthKind = "basic"
	AuthAWSKeys        AuthKind = "aws_keys"
	AuthServiceAccount AuthKind = "service_account"
)

// Interactive reports whether authorizing needs the browser flow (OAuth).
func (k AuthKind) Interactive() bool { return k == AuthOAuth2 }

// Field is one setting of a connection. Secret fields are kept only in the
// secret store, never in the config file, argv or output.
type Field struct {
	Name     string   // snake_case key used with --set
	Label    string   // human label for prompts
	Help     string   // one line: what it is and where to find it
	Required bool     // must have a value before the connection is saved
	Secret   bool     // lives in the secret store only
	Default  string   // value used when none is given
	Enum     []string // allowed values, when closed
	Example  string   // shown in connectors show
	// Validate checks a non-empty value; it returns a message naming the fix.
	Validate func(string) error `json:"-" yaml:"-"`
	// MaxBytes bounds secret values (Windows Credential Manager caps an item at 2,560 bytes).
	MaxBytes int
	// Normalize, when set, rewrites a valid value before it is stored
	// (e.g. compacting a JSON key file so it fits the secret store).
	Normalize func(string) string `json:"-" yaml:"-"`
}

// OAuthSpec holds what the OAuth flow needs for a connector. Templated URLs
// use {field} placeholders filled from the connection's fields
// (e.g. https://{subdomain}.zendesk.com/oauth/tokens).
type OAuthSpec struct {
	AuthURL      string
	TokenURL     string
	RevokeURL    string // empty: the provider has no revocation endpoint
	RevokeStyle  string // "rfc7009", "query" (Google, Zoho), "delete" (Zendesk), "client_in_form" (HubSpot), "" (none)
	UserinfoURL  string // who-am-I used by connctl test and to fill account
	Scopes       []string
	AuthStyle    string            // "params" or "header": token endpoint client auth, never autodetected
	PKCE         bool              // send S256 PKCE (always true unless the provider rejects it)
	RedirectURI  string            // fixed, registered redirect; empty means loopback any-port
	AuthParams   map[string]string // extra authorize parameters (access_type=offline, audience=...)
	ClientSecret string            // "required", "optional" or "none"
	Quirks       []string          // human notes from providers.md
	// Hooks, when set, hold the vendor's code for what the fields above
	// cannot declare (see OAuthHooks).
	Hooks *OAuthHooks `json:"-" yaml:"-"`
}

// AuthMethod is one way to authenticate to a connector (e.g. Jira has OAuth
// 3LO and email + API token). A connection picks one with the `auth` field.
type AuthMethod struct {
	ID   string // value of the connection's auth field: "oauth2", "api_token", ...
	Kind AuthKind
	// Aliases are old spellings still accepted for ID (hidden from help):
	// `connectors` once showed the kind (basic, api_key) where create wanted
	// the id, and scripts may carry those.
	Aliases []string
	Label   string
	Fields  []Field // fields only this method uses, secrets included
	OAuth   *OAuthSpec
	// HowTo tells a new user how to get the credentials, in a few lines.
	HowTo string
	// Check tests a key-based method's credentials with the provider's
	// cheapest who-am-I call; `connctl test` and the check before saving
	// run it through keycheck.Check. It lives in the connector's package
	// (check.go). nil: connctl cannot test the method with keys (OAuth
	// methods are tested by package authorization).
	Check keycheck.Func `json:"-" yaml:"-"`
}

// Source is a kind of records a job can fetch.
type Source struct {
	Name             string
	Help             string
	Params           []Field
	PrimaryKey       string
	IncrementalField string
	// IncrementalParam names the job parameter that gives the incremental
	// field, for sources whose records the job describes (the generic http
	// source): a job that sets it runs incrementally.
	IncrementalParam string
	// New returns the implementation that fetches the records; it lives in
	// the connector's package (source.go). Every declared source has one.
	New func() jobrunner.Source `json:"-" yaml:"-"`
}

// Incremental reports whether a job of this source with params runs
// incrementally (unless it asks for full refreshes).
func (s *Source) Incremental(params map[string]string) bool {
	return s.IncrementalField != "" || (s.IncrementalParam != "" && strings.TrimSpace(params[s.IncrementalParam]) != "")
}

// Connector describes one external system.
type Connector struct {
	ID       string
	Name     string
	Aliases  []string
	Category Category
	Multiple bool    // several connections allowed
	Fields   []Field // common fields, every auth method
	Auths    []AuthMethod
	Sources  []Source
	DocsURL  string
	// Assumptions is what connctl relies on of the vendor's API that no
	// vendor page confirmed (third-party material, community reports), so
	// that a user knows where to look first; docs/connectors.md lists it.
	Assumptions string
	// TemplateVars, when set, derives placeholders for the OAuth URL
	// templates from the connection's fields (SurveyMonkey's {api_host}
	// from region). Fields of the same name win.
	TemplateVars func(fields map[string]string) map[string]string `json:"-" yaml:"-"`
	// Expiry, when set, forecasts when the provider's published rules end
	// a connection's credentials (`connctl status`); now is the caller's clock.
	Expiry func(g GrantFacts, now time.Time) []Forecast `json:"-" yaml:"-"`
	// ExecEnv, when set, names the provider-native environment variables
	// (AWS_ACCESS_KEY_ID, ...) through which `connctl exec` hands a
	// connection's credentials to a child process, so that the vendor's own
	// tools and SDKs find them. fields are the connection's non-secret
	// fields with defaults applied (OAuth connections also get "api_base",
	// the API base the provider returned); secrets are a key-based
	// connection's secrets by field name (empty for OAuth); token is an
	// OAuth connection's fresh access token ("" for keys). A variable given
	// the value "" must be unset in the child: a parent's stale
	// AWS_SESSION_TOKEN would spoil the keys. It must not return names that
	// start with CONNCTL_ (connctl's own) and never talks to anyone.
	ExecEnv func(fields, secrets map[string]string, token string) map[string]string `json:"-" yaml:"-"`
}

// AuthKinds returns the distinct auth kinds, in method order.
func (c *Connector) AuthKinds() []AuthKind {
	var out []AuthKind
	seen := map[AuthKind]bool{}
	for _, a := range c.Auths {
		if !seen[a.Kind] {
			seen[a.Kind] = true
			out = append(out, a.Kind)
		}
	}
	return out
}

// AuthIDs returns the ids of the auth methods, in method order: the names
// `--auth` takes and `connctl connectors` shows.
func (c *Connector) AuthIDs() []string {
	out := make([]string, len(c.Auths))
	for i := range c.Auths {
		out[i] = c.Auths[i].ID
	}
	return out
}

// DefaultAuth is the first auth method.
func (c *Connector) DefaultAuth() *AuthMethod { return &c.Auths[0] }

// Auth returns the method with id, or the default when id is empty.
func (c *Connector) Auth(id string) (*AuthMethod, error) {
	if id == "" {
		return c.DefaultAuth(), nil
	}
	id = strings.ToLower(strings.TrimSpace(id))
	ids := make([]string, 0, len(c.Auths))
	for i := range c.Auths {
		if c.Auths[i].ID == id {
			return &c.Auths[i], nil
		}
		ids = append(ids, c.Auths[i].ID)
	}
	for i := range c.Auths {
		for _, a := range c.Auths[i].Aliases {
			if a == id {
				return &c.Auths[i], nil
			}
		}
	}
	return nil, fmt.Errorf("connector %s has no auth method %q (choose one of: %s)", c.ID, id, strings.Join(ids, ", "))
}

// FieldsFor returns the connector's common fields followed by those of the
// auth method, then, for OAuth methods, the fields every OAuth connection
// has (scopes, redirect_uri and endpoint overrides): everything a connection
// using that method may set.
func (c *Connector) FieldsFor(m *AuthMethod) []Field {
	out := make([]Field, 0, len(c.Fields)+len(m.Fields)+6)
	out = append(out, c.Fields...)
	out = append(out, m.Fields...)
	if m.OAuth != nil {
		have := map[string]bool{}
		for _, f := range out {
			have[f.Name] = true
		}
		for _, f := range OAuthFields(m.OAuth) {
			if !have[f.Name] {
				out = append(out, f)
			}
		}
	}
	return out
}

// OAuthFields are the fields every OAuth method takes: the scopes to ask for
// (space- or comma-separated), the redirect URI registered with the
// provider, and endpoint overrides for proxies, sovereign clouds and local
// test servers.
func OAuthFields(spec *OAuthSpec) []Field {
	endpoint := func(name, what, def string) Field {
		help := "override the " + what + " (proxies, sovereign clouds, test servers)"
		if def != "" {
			help += "; default " + def
		}
		return Field{Name: name, Label: what, Help: help, Validate: validHTTPURL}
	}
	return []Field{
		{Name: "scopes", Label: "Scopes", Help: "scopes to request, space- or comma-separated", Default: strings.Join(spec.Scopes, " ")},
		{Name: "redirect_uri", Label: "Redirect URI", Help: "the redirect URI registered with the provider (a loopback URL); empty: http://127.0.0.1:<any port>/callback", Default: spec.RedirectURI, Validate: validLoopbackURL},
		endpoint("auth_url", "authorization endpoint", spec.AuthURL),
		endpoint("token_url", "token endpoint", spec.TokenURL),
		endpoint("revoke_url", "revocation endpoint", spec.RevokeURL),
		endpoint("userinfo_url", "who-am-I endpoint", spec.UserinfoURL),
	}
}

func validHTTPURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	return nil
}

func validLoopbackURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("%q is not an http:// loopback URL such as http://127.0.0.1:8976/callback", v)
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return nil
	}
	return fmt.Errorf("%q is not a loopback URL: use 127.0.0.1, [::1] or localhost", v)
}

// Field finds a field by name among the common fields and every auth method's.
func (c *Connector) Field(name string) (*Field, bool) {
	for i := range c.Fields {
		if c.Fields[i].Name == name {
			return &c.Fields[i], true
		}
	}
	for j := range c.Auths {
		for i := range c.Auths[j].Fields {
			if c.Auths[j].Fields[i].Name == name {
				return &c.Auths[j].Fields[i], true
			}
		}
	}
	for j := range c.Auths {
		if c.Auths[j].OAuth == nil {
			continue
		}
		for _, f := range OAuthFields(c.Auths[j].OAuth) {
			if f.Name == name {
				return &f, true
			}
		}
	}
	return nil, false
}

// Catalogue is the registry of connectors, looked up by id or alias.
type Catalogue struct {
	byID  map[string]*Connector
	alias map[string]string
	order []string
}

// NewCatalogue returns an empty catalogue.
func NewCatalogue() *Catalogue {
	return &Catalogue{byID: map[string]*Connector{}, alias: map[string]string{}}
}

// Add registers c. It panics on a duplicate id or alias: the catalogue is
// built once, from code, and a clash is a programming error caught by tests.
func (cat *Catalogue) Add(c *Connector) {
	key := strings.ToLower(c.ID)
	if _, dup := cat.byID[key]; dup {
		panic("connector: duplicate id " + c.ID)
	}
	if _, dup := cat.alias[key]; dup {
		panic("connector: id clashes with an alias: " + c.ID)
	}
	cat.byID[key] = c
	cat.order = append(cat.order, key)
	for _, a := range c.Aliases {
		a = strings.ToLower(a)
		if _, dup := cat.byID[a]; dup {
			panic("connector: alias clashes with an id: " + a)
		}
		if _, dup := cat.alias[a]; dup {
			panic("connector: duplicate alias " + a)
		}
		cat.alias[a] = key
	}
}

// Lookup finds a connector by id or alias, case-insensitively.
func (cat *Catalogue) Lookup(idOrAlias string) (*Connector, bool) {
	key := strings.ToLower(strings.TrimSpace(idOrAlias))
	if c, ok := cat.byID[key]; ok {
		return c, true
	}
	if id, ok := cat.alias[key]; ok {
		return cat.byID[id], true
	}
	return nil, false
}

// All returns every connector sorted by id.
func (cat *Catalogue) All() []*Connector {
	ids := append([]string(nil), cat.order...)
	sort.Strings(ids)
	out := make([]*Connector, len(ids))
	for i, id := range ids {
		out[i] = cat.byID[id]
	}
	return out
}

// IDs returns every connector id, sorted.
func (cat *Catalogue) IDs() []string {
	ids := append([]string(nil), cat.order...)
	sort.Strings(ids)
	return ids
}

// Suggest returns the connector id closest to a mistyped one (a prefix, or
// at most two edits away), or "" when nothing is close.
func (cat *Catalogue) Suggest(typed string) string {
	typed = strings.ToLower(strings.TrimSpace(typed))
	if typed == "" {
		return ""
	}
	best, bestDist := "", 3
	names := append(cat.IDs(), keys(cat.alias)...)
	sort.Strings(names)
	for _, n := range names {
		id := n
		if a, ok := cat.alias[n]; ok {
			id = a
		}
		if strings.HasPrefix(n, typed) && len(typed) >= 3 {
			return id
		}
		if d := editDistance(typed, n); d < bestDist {
			best, bestDist = id, d
		}
	}
	return best
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// UnknownHint is the hint for an unknown connector id: the likely one, or the list.
func (cat *Catalogue) UnknownHint(typed string) string {
	if s := cat.Suggest(typed); s != "" {
		return fmt.Sprintf("did you mean %s? (all connectors: `connctl connectors`)", s)
	}
	return "choose one of: " + strings.Join(cat.IDs(), ", ") + " (details: `connctl connectors`)"
}
