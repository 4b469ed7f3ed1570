// Package keycheck tests key-based connections (API keys, API tokens, basic
// credentials, AWS access keys and service-account keys) by calling each
// provider's cheapest who-am-I endpoint, and reports who the connection is
// authorized as or a typed reason why not. OAuth connections are tested
// elsewhere (package authorization).
//
// keycheck never prints, never reads the keyring or the config file (the
// caller passes the connection's effective fields and its secrets), and
// never puts a secret, a token derived from one or an Authorization header in
// an error: every message is scrubbed of them before it is returned.
package keycheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/connctl/connctl/internal/safehttp"
	"github.com/connctl/connctl/internal/textsafe"
)

// Identity is who a key-based connection is authorized as.
type Identity struct {
	Account string // the user, e-mail or key the provider says the credentials belong to
	Subject string // the provider's stable id for Account, when it gives one
	Org     string // the account, site, project, bucket or region the credentials reach
}

// Error is a failed check, typed. Kind is one of unauthorized, forbidden,
// network, server, rate_limit and config; Status is the HTTP status of the
// answer that failed (0 when there was none); Message is one line that names
// the provider host, says what went wrong and how to fix it. It never holds
// a secret.
type Error struct {
	Kind    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Kinds of Error.
const (
	kindUnauthorized = "unauthorized"
	kindForbidden    = "forbidden"
	kindNetwork      = "network"
	kindServer       = "server"
	kindRateLimit    = "rate_limit"
	kindConfig       = "config"
)

// checkFunc tests one connector's auth method.
type checkFunc func(ctx context.Context, in *input) (*Identity, error)

// method is one key-based auth method keycheck knows.
type method struct {
	connector string
	auth      string
	check     checkFunc
}

// methods lists every connector/auth pair Check supports. The auth ids are
// the catalogue's (see `connctl connectors show <id>`); each is its
// connector's default method, so an empty auth id selects it.
func methods() []method {
	return []method{
		{"freshdesk", "api_key", checkFreshdesk},
		{"zendesk", "api_token", checkZendesk},
		{"jira", "api_token", checkJira},
		{"hubspot", "private_app", checkHubSpot},
		{"surveymonkey", "private_app", checkSurveyMonkey},
		{"mixpanel", "service_account", checkMixpanel},
		{"mixpanel", "api_secret", checkMixpanelSecret},
		{"gainsight-px", "api_key", checkGainsightPX},
		{"gainsight-api", "api_key", checkGainsightAPI},
		{"s3", "aws_keys", checkS3},
		{"bigquery", "service_account", checkBigQuery},
	}
}

func lookup(connectorID, authID string) (checkFunc, bool) {
	for _, m := range methods() {
		if m.connector == connectorID && (authID == "" || authID == m.auth) {
			return m.check, true
		}
	}
	return nil, false
}

// Supported reports whether Check knows connectorID/authID. An empty authID
// stands for the connector's default auth method.
func Supported(connectorID, authID string) bool {
	_, ok := lookup(connectorID, authID)
	return ok
}

// Check calls connectorID's who-am-I with the connection's effective fields
// (defaults filled, incl. base_url when set) and secrets (by secret field
// name). It never puts a secret in an error. authID is the connection's auth
// method; when empty, fields["auth"] or else the connector's default is used.
//
// Failures are *Error. hc may be nil (a client with safehttp.New defaults);
// Check never follows redirects, so a custom header such as a Gainsight
// access key is never sent to a host other than the configured one. The call
// stops when ctx is done.
func Check(ctx context.Context, hc *http.Client, connectorID, authID string, fields, secrets map[string]string) (*Identity, error) {
	if authID == "" {
		authID = fields["auth"]
	}
	check, ok := lookup(connectorID, authID)
	if !ok {
		return nil, &Error{Kind: kindConfig, Message: unsupported(connectorID, authID)}
	}
	in := &input{connector: connectorID, fields: fields, secrets: secrets, hc: noRedirects(hc)}
	id, err := check(ctx, in)
	if err != nil {
		return nil, in.scrub(err)
	}
	if id == nil {
		return &Identity{}, nil
	}
	// The provider chose these strings: they are stored and shown, so
	// they must not carry terminal controls.
	return &Identity{Account: textsafe.Sanitize(id.Account), Subject: textsafe.Sanitize(id.Subject), Org: textsafe.Sanitize(id.Org)}, nil
}

func unsupported(connectorID, authID string) string {
	var known []string
	for _, m := range methods() {
		if m.connector == connectorID {
			known = append(known, m.auth)
		}
	}
	if len(known) == 0 {
		return fmt.Sprintf("connctl cannot test %s connections with keys", connectorID)
	}
	return fmt.Sprintf("connctl cannot test %s connections that use %s with keys (it can test: %s)", connectorID, authID, strings.Join(known, ", "))
}

// noRedirects returns a copy of hc that never follows a redirect: a 3xx
// answer is reported as a configuration problem instead, and credentials in
// custom headers stay with the configured host.
func noRedirects(hc *http.Client) *http.Client {
	return safehttp.Unfollowed(hc)
}

// input is one check's view of the connection.
type input struct {
	connector string
	fields    map[string]string
	secrets   map[string]string
	hc        *http.Client
	// sensitive holds every secret value read and every credential derived
	// from one (Basic values, access tokens): scrub removes them from errors.
	sensitive []string
}

// field returns a required non-secret field, or a config error naming it.
func (in *input) field(name string) (string, error) {
	v := strings.TrimSpace(in.fields[name])
	if v == "" {
		return "", &Error{Kind: kindConfig, Message: fmt.Sprintf("the %s connection has no %s: set it with --set %s=...", in.connector, name, name)}
	}
	return v, nil
}

// optional returns a non-secret field, or def when it is empty.
func (in *input) optional(name, def string) string {
	if v := strings.TrimSpace(in.fields[name]); v != "" {
		return v
	}
	return def
}

// secret returns a required secret that goes into a header, with
// surrounding white space removed.
func (in *input) secret(name string) (string, error) {
	v, err := in.optionalSecret(name)
	if err == nil && v == "" {
		err = in.missingSecret(name, "--secret-stdin")
	}
	return v, err
}

// optionalSecret returns a secret that goes into a header, or "" when it is
// not set. A value with a control character inside is refused before it
// reaches a header, where net/http would reject it with a less helpful
// error.
func (in *input) optionalSecret(name string) (string, error) {
	v := in.fileSecret(name)
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", &Error{Kind: kindConfig, Message: fmt.Sprintf("the %s secret of the %s connection contains a line break or control character: give it again with --secret-stdin", name, in.connector)}
	}
	return v, nil
}

// fileSecret returns a secret that is a document (a JSON key file, where
// line breaks are fine), or "" when it is not set.
func (in *input) fileSecret(name string) string {
	raw := in.secrets[name]
	v := strings.TrimSpace(raw)
	in.sensitive = append(in.sensitive, raw, v)
	return v
}

func (in *input) missingSecret(name, how string) error {
	return &Error{Kind: kindConfig, Message: fmt.Sprintf("the %s connection has no %s secret: give it with %s", in.connector, name, how)}
}

// sensitiveValue records a credential derived from a secret.
func (in *input) sensitiveValue(v string) { in.sensitive = append(in.sensitive, v) }

// redacted replaces what scrub removes.
const redacted = "[redacted]"

// scrub removes every sensitive value from err's message, keeps the
// message on one line and shows any terminal control in it escaped. It is the last step of every check: messages are
// built without secrets, and this makes sure that stays true when a
// provider's own words are quoted.
func (in *input) scrub(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: kindServer, Message: err.Error()}
	}
	msg := textsafe.Sanitize(strings.Join(strings.Fields(in.redact(e.Message)), " "))
	return &Error{Kind: e.Kind, Status: e.Status, Message: msg}
}

// redact replaces every sensitive value in s.
func (in *input) redact(s string) string {
	vals := append([]string(nil), in.sensitive...)
	// Longest first, so that a value containing another is removed whole.
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}
