// Package keycheck tests key-based connections (API keys, API tokens, basic
// credentials, AWS access keys and service-account keys) by calling each
// provider's cheapest who-am-I endpoint, and reports who the connection is
// authorized as or a typed reason why not. OAuth connections are tested
// elsewhere (package authorization).
//
// keycheck is generic: each provider's check (a Func) lives in its
// connector's package (internal/connector/<vendor>/check.go) and is attached
// to the catalogue entry as connector.AuthMethod.Check. keycheck runs it
// (Check) and gives it the shared parts: the connection's fields and
// secrets (Call), requests that never follow a redirect, JSON decoding and
// the classification of failed answers (StatusError, Fixes). It imports no
// connector package and names no provider (internal/archtest).
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
	KindUnauthorized = "unauthorized"
	KindForbidden    = "forbidden"
	KindNetwork      = "network"
	KindServer       = "server"
	KindRateLimit    = "rate_limit"
	KindConfig       = "config"
)

// Func tests one key-based auth method. It lives in the connector's own
// package and is attached to the catalogue entry as
// connector.AuthMethod.Check; Check runs it. It reads the connection
// through in, calls the provider through in (never following redirects)
// and returns who the credentials belong to, or an *Error. It may build
// messages from in's fields; Check scrubs every secret in reads.
type Func func(ctx context.Context, in *Call) (*Identity, error)

// Check runs check, a connector's key check (connector.AuthMethod.Check),
// with the connection's effective fields (defaults filled, incl. base_url
// when set) and secrets (by secret field name). connectorID names the
// connection's connector in messages. It never puts a secret in an error. A
// nil check is a config *Error: the method cannot be tested with keys.
//
// Failures are *Error. hc may be nil (a client with safehttp.New defaults);
// Check never follows redirects, so a custom header such as a Gainsight
// access key is never sent to a host other than the configured one. The call
// stops when ctx is done.
func Check(ctx context.Context, hc *http.Client, connectorID string, check Func, fields, secrets map[string]string) (*Identity, error) {
	if check == nil {
		return nil, &Error{Kind: KindConfig, Message: fmt.Sprintf("connctl cannot test %s connections with keys", connectorID)}
	}
	in := &Call{connector: connectorID, fields: fields, secrets: secrets, hc: noRedirects(hc)}
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

// noRedirects returns a copy of hc that never follows a redirect: a 3xx
// answer is reported as a configuration problem instead, and credentials in
// custom headers stay with the configured host.
func noRedirects(hc *http.Client) *http.Client {
	return safehttp.Unfollowed(hc)
}

// Call is one check's view of the connection: its fields and secrets, and
// the client that reaches the provider. It remembers every secret read and
// every credential derived from one, so that Check can scrub them.
type Call struct {
	connector string
	fields    map[string]string
	secrets   map[string]string
	hc        *http.Client
	// sensitive holds every secret value read and every credential derived
	// from one (Basic values, access tokens): scrub removes them from errors.
	sensitive []string
}

// Field returns a required non-secret field, or a config error naming it.
func (in *Call) Field(name string) (string, error) {
	v := strings.TrimSpace(in.fields[name])
	if v == "" {
		return "", &Error{Kind: KindConfig, Message: fmt.Sprintf("the %s connection has no %s: set it with --set %s=...", in.connector, name, name)}
	}
	return v, nil
}

// Optional returns a non-secret field, or def when it is empty.
func (in *Call) Optional(name, def string) string {
	if v := strings.TrimSpace(in.fields[name]); v != "" {
		return v
	}
	return def
}

// Secret returns a required secret that goes into a header, with
// surrounding white space removed.
func (in *Call) Secret(name string) (string, error) {
	v, err := in.OptionalSecret(name)
	if err == nil && v == "" {
		err = in.MissingSecret(name, "--secret-stdin")
	}
	return v, err
}

// OptionalSecret returns a secret that goes into a header, or "" when it is
// not set. A value with a control character inside is refused before it
// reaches a header, where net/http would reject it with a less helpful
// error.
func (in *Call) OptionalSecret(name string) (string, error) {
	v := in.FileSecret(name)
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", &Error{Kind: KindConfig, Message: fmt.Sprintf("the %s secret of the %s connection contains a line break or control character: give it again with --secret-stdin", name, in.connector)}
	}
	return v, nil
}

// FileSecret returns a secret that is a document (a JSON key file, where
// line breaks are fine), or "" when it is not set.
func (in *Call) FileSecret(name string) string {
	raw := in.secrets[name]
	v := strings.TrimSpace(raw)
	in.sensitive = append(in.sensitive, raw, v)
	return v
}

// MissingSecret is the config error for a required secret that is not set;
// how says how to give it (--secret-stdin, --secret-file key.json).
func (in *Call) MissingSecret(name, how string) error {
	return &Error{Kind: KindConfig, Message: fmt.Sprintf("the %s connection has no %s secret: give it with %s", in.connector, name, how)}
}

// Sensitive records a credential derived from a secret.
func (in *Call) Sensitive(v string) { in.sensitive = append(in.sensitive, v) }

// Need returns the required non-secret fields named, in order, then the
// required secret that goes into a header: the prologue of most checks.
// The first one missing is a config error naming it (fields before the
// secret).
func (in *Call) Need(secret string, fields ...string) ([]string, string, error) {
	vals := make([]string, len(fields))
	for i, name := range fields {
		v, err := in.Field(name)
		if err != nil {
			return nil, "", err
		}
		vals[i] = v
	}
	v, err := in.Secret(secret)
	if err != nil {
		return nil, "", err
	}
	return vals, v, nil
}

// redacted replaces what scrub removes.
const redacted = "[redacted]"

// scrub removes every sensitive value from err's message, keeps the
// message on one line and shows any terminal control in it escaped. It is the last step of every check: messages are
// built without secrets, and this makes sure that stays true when a
// provider's own words are quoted.
func (in *Call) scrub(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: KindServer, Message: err.Error()}
	}
	msg := textsafe.Sanitize(strings.Join(strings.Fields(in.redact(e.Message)), " "))
	return &Error{Kind: e.Kind, Status: e.Status, Message: msg}
}

// redact replaces every sensitive value in s.
func (in *Call) redact(s string) string {
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
