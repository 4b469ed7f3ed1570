// Package fieldkit builds the connection fields and validators that many
// connectors share (base_url, auth, client_id, URLs, hostnames, e-mail
// addresses), so that each connector package states only what is particular to
// its system. Like package connector, it never touches the network, the
// keyring or the terminal.
//
// Validators follow connector.Field.Validate: they get a non-empty value and
// return an error whose message names the field, the problem and the fix. A
// message never repeats a password found inside a URL.
package fieldkit

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/connctl/connctl/internal/connector"
)

// LocalRedirectURI is the redirect URI connctl asks users to register with
// providers that match redirect URIs exactly and have no established CLI
// convention (Zoho, HubSpot, Zendesk, Jira, SurveyMonkey). It is one fixed
// loopback address for all of them, so that a user registers the same value
// everywhere and the docs state it once.
const LocalRedirectURI = "http://localhost:8976/callback"

// URLRule changes what URL accepts.
type URLRule int

// URL rules.
const (
	// OriginOnly accepts scheme://host[:port] with no path, query or trailing
	// slash: the value is the base of templated endpoints such as
	// {login_url}/services/oauth2/token, where a trailing slash would double.
	OriginOnly URLRule = iota + 1
	// AllowHTTP accepts http:// for any host (S3-compatible stores on a
	// private network). Without it, http is accepted only for loopback hosts
	// (local test servers); everything else must be https.
	AllowHTTP
)

// URL returns a validator for an absolute http(s) URL. example is a good
// value, shown in the fix.
func URL(field, example string, rules ...URLRule) func(string) error {
	var originOnly, anyHTTP bool
	for _, r := range rules {
		switch r {
		case OriginOnly:
			originOnly = true
		case AllowHTTP:
			anyHTTP = true
		}
	}
	return func(v string) error {
		shown := redact(v)
		if strings.ContainsAny(v, " \t\r\n") {
			return fmt.Errorf("%s %q contains spaces: use a URL such as %s", field, shown, example)
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || u.Host == "" {
			if isHostname(strings.TrimSuffix(v, "/")) {
				return fmt.Errorf("%s %q is not a URL: use https://%s", field, shown, strings.TrimSuffix(v, "/"))
			}
			return fmt.Errorf("%s %q is not a URL: use a full URL such as %s", field, shown, example)
		}
		if u.User != nil {
			return fmt.Errorf("%s %q contains credentials: remove them from the URL and give secrets with --secret-stdin", field, shown)
		}
		host := u.Hostname()
		switch strings.ToLower(u.Scheme) {
		case "https":
		case "http":
			if !anyHTTP && !isLoopback(host) {
				return fmt.Errorf("%s %q uses plain http: use https://%s (http is allowed only for localhost, 127.0.0.1 and [::1])",
					field, shown, strings.TrimPrefix(v, u.Scheme+"://"))
			}
		default:
			return fmt.Errorf("%s %q is not an http or https URL: use a URL such as %s", field, shown, example)
		}
		if u.Fragment != "" || strings.Contains(v, "#") {
			return fmt.Errorf("%s %q has a #fragment: remove it", field, shown)
		}
		if net.ParseIP(host) == nil && !isHostname(host) {
			return fmt.Errorf("%s %q has no valid host: use a URL such as %s", field, shown, example)
		}
		if originOnly && (u.Path != "" || u.RawQuery != "" || u.ForceQuery) {
			return fmt.Errorf("%s %q has a path or query: use %s://%s", field, shown, u.Scheme, u.Host)
		}
		return nil
	}
}

// Hostname returns a validator for a DNS host name such as
// acme.gainsightcloud.com (no scheme, port or path). fix says what to give
// instead when no better suggestion can be read from the value.
func Hostname(field, fix string) func(string) error {
	return func(v string) error {
		if isHostname(v) {
			return nil
		}
		if h := hostOf(v); h != "" && isHostname(h) {
			return fmt.Errorf("%s %q is not a hostname: use %s", field, redact(v), h)
		}
		return fmt.Errorf("%s %q is not a hostname: use %s", field, redact(v), fix)
	}
}

// Subdomain returns a validator for the account name NAME of
// https://NAME.{parent} (for example acme of acme.zendesk.com): lowercase
// letters, digits and hyphens.
func Subdomain(field, parent string) func(string) error {
	return func(v string) error {
		if isLabel(v) {
			return nil
		}
		if s := labelOf(v, parent); s != "" {
			return fmt.Errorf("%s %q is not a subdomain name: use %s (for %s.%s)", field, redact(v), s, s, parent)
		}
		return fmt.Errorf("%s %q is not a subdomain name: use the NAME of https://NAME.%s (lowercase letters, digits and hyphens)", field, redact(v), parent)
	}
}

// SubdomainOrHost is Subdomain that also accepts the whole host: acme or
// acme.{parent}.
func SubdomainOrHost(field, parent string) func(string) error {
	return func(v string) error {
		if isLabel(v) || (strings.HasSuffix(v, "."+parent) && isLabel(strings.TrimSuffix(v, "."+parent))) {
			return nil
		}
		if s := labelOf(v, parent); s != "" {
			return fmt.Errorf("%s %q is not a hostname: use %s or %s.%s", field, redact(v), s, s, parent)
		}
		if isHostname(v) {
			return fmt.Errorf("%s %q is not a %s domain: use the NAME of https://NAME.%s, e.g. acme or acme.%s", field, v, parent, parent, parent)
		}
		return fmt.Errorf("%s %q is not a hostname: use a name like acme or acme.%s", field, redact(v), parent)
	}
}

// Email returns a validator for a bare e-mail address (no display name).
func Email(field string) func(string) error {
	return func(v string) error {
		a, err := mail.ParseAddress(v)
		if err == nil && a.Name == "" && a.Address == v {
			return nil
		}
		return fmt.Errorf("%s %q is not an email address: use the address you sign in with, e.g. jane@acme.com", field, v)
	}
}

var digits = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{1,20}$`) })

// Digits returns a validator for a numeric ID. fix says where to find it.
func Digits(field, fix string) func(string) error {
	return func(v string) error {
		if digits().MatchString(v) {
			return nil
		}
		return fmt.Errorf("%s %q is not a number: use %s", field, v, fix)
	}
}

// NoSpaces returns a validator for an opaque identifier (client IDs, key IDs)
// that must not contain white space, which usually means a copy-and-paste
// slip. fix says where to copy it from.
func NoSpaces(field, fix string) func(string) error {
	return func(v string) error {
		if strings.ContainsAny(v, " \t\r\n") {
			return fmt.Errorf("%s %q contains spaces: copy it again from %s", field, v, fix)
		}
		return nil
	}
}

// OneOf returns a validator that accepts exactly one of values.
func OneOf(field string, values ...string) func(string) error {
	return func(v string) error {
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return fmt.Errorf("%s %q is not allowed: use one of %s", field, v, strings.Join(values, ", "))
	}
}

// Enum returns f with Validate checking f.Enum, so the allowed values are
// written once.
func Enum(f connector.Field) connector.Field {
	f.Validate = OneOf(f.Name, f.Enum...)
	return f
}

// BaseURL returns the optional base_url field every connector has: it
// overrides the API base for sandboxes, data centres, S3-compatible stores,
// proxies and local test servers. help says what the default is.
func BaseURL(help, example string) connector.Field {
	return connector.Field{
		Name:     "base_url",
		Label:    "Base URL",
		Help:     help,
		Example:  example,
		Validate: URL("base_url", example),
	}
}

// AuthField returns the `auth` field of a connector with several auth
// methods: its values are the method IDs, and its default is the first.
func AuthField(auths []connector.AuthMethod) connector.Field {
	ids := make([]string, len(auths))
	for i := range auths {
		ids[i] = auths[i].ID
	}
	return Enum(connector.Field{
		Name:    "auth",
		Label:   "Auth method",
		Help:    "how the connection signs in: " + ids[0] + " (default) or " + strings.Join(ids[1:], " or "),
		Default: ids[0],
		Enum:    ids,
	})
}

// ClientID returns the required client_id field of an OAuth method. help
// says where the user finds it.
func ClientID(help string) connector.Field {
	return connector.Field{
		Name:     "client_id",
		Label:    "Client ID",
		Help:     help,
		Required: true,
		Validate: NoSpaces("client_id", "the app's settings"),
	}
}

// ClientSecret returns the client_secret field of an OAuth method. need is
// the method's OAuthSpec.ClientSecret ("required" or "optional"); a method
// whose spec says "none" has no client_secret field.
func ClientSecret(need, help string) connector.Field {
	return connector.Field{
		Name:     "client_secret",
		Label:    "Client secret",
		Help:     help,
		Required: need == "required",
		Secret:   true,
	}
}

// Secret returns a required secret field (an API key or token).
func Secret(name, label, help string) connector.Field {
	return connector.Field{Name: name, Label: label, Help: help, Required: true, Secret: true}
}

var label = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`) })

// isLabel reports whether s is one lowercase DNS label.
func isLabel(s string) bool { return label().MatchString(s) }

var hostLabel = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`) })

// isHostname reports whether s is a DNS host name (RFC 1123 labels).
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !hostLabel().MatchString(l) {
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostOf reads a host out of something a user pasted instead of a host:
// https://acme.example.com/path gives acme.example.com. It returns "" when
// there is none.
func hostOf(v string) string {
	if strings.Contains(v, "://") {
		if u, err := url.Parse(v); err == nil {
			return u.Hostname()
		}
		return ""
	}
	if i := strings.IndexAny(v, "/?#"); i > 0 {
		return v[:i]
	}
	return ""
}

// labelOf suggests the account name in v for hosts under parent: it turns
// ACME, acme.zendesk.com or https://acme.zendesk.com/agent into acme. It
// returns "" when v holds no such name.
func labelOf(v, parent string) string {
	h := v
	if x := hostOf(v); x != "" {
		h = x
	}
	h = strings.ToLower(h)
	h = strings.TrimSuffix(h, "."+parent)
	if isLabel(h) {
		return h
	}
	return ""
}

// redact hides a password inside a URL-like value before it goes into a
// message.
func redact(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(v, "@"); at >= 0 {
		if s := strings.Index(v, "://"); s >= 0 && s+3 <= at {
			return v[:s+3] + "xxxxx" + v[at:]
		}
	}
	return v
}

// ClientSecretExpiresAt is the optional field recording when the OAuth
// client secret expires (a date), which `connctl status` forecasts.
func ClientSecretExpiresAt(help string) connector.Field {
	return connector.Field{
		Name:    connector.ClientSecretExpiresAtField,
		Label:   "Client secret expires",
		Help:    help,
		Example: "2027-03-01",
		Validate: func(v string) error {
			if _, err := connector.ParseDate(v); err != nil {
				return fmt.Errorf("%s %w", connector.ClientSecretExpiresAtField, err)
			}
			return nil
		},
	}
}
