// Package vaultstore keeps connection secrets in a HashiCorp Vault (or
// OpenBao) KV version 2 mount, through github.com/hashicorp/vault/api. It is
// the secret store a team uses (`secrets.backend: vault`): each item is its
// own KV secret at <mount>/data/<path>/<connID>/<kind> holding {"value": ...},
// so that Vault policies can grant reading per connection or per kind.
//
// Address, namespace and token follow Vault's own conventions: VAULT_ADDR,
// VAULT_NAMESPACE, VAULT_TOKEN, else the CLI's token file ~/.vault-token,
// else an AppRole login with VAULT_ROLE_ID and VAULT_SECRET_ID. No value
// ever appears in an error.
package vaultstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/connctl/connctl/internal/secretstore"
)

// Defaults of the vault.mount and vault.path settings.
const (
	DefaultMount = "secret"
	DefaultPath  = "connctl"
)

// DefaultTimeout bounds one call to Vault when Config.Timeout is 0.
const DefaultTimeout = 15 * time.Second

// Config says where the secrets live and how to reach Vault.
type Config struct {
	// Addr is the server when VAULT_ADDR is not set (the vault.addr
	// setting); VAULT_ADDR wins, as with the vault CLI.
	Addr string
	// AddrFrom names where Addr came from, for messages ("vault.addr"
	// when empty); an address from VAULT_ADDR is named so.
	AddrFrom string
	Mount    string // KV v2 mount; "" is DefaultMount
	Path     string // path prefix inside the mount; "" is DefaultPath
	Timeout  time.Duration
	// Getenv reads VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_ROLE_ID,
	// VAULT_SECRET_ID and HOME; nil is os.Getenv.
	Getenv func(string) string
}

// Store is a secretstore.Store on Vault KV v2. It is safe for concurrent use.
type Store struct {
	kv     *api.KVv2
	client *api.Client
	addr   string
	from   string // where addr came from: VAULT_ADDR, vault.addr, ...
	mount  string
	prefix string
	getenv func(string) string

	loginOnce sync.Once
	loginErr  error
}

var _ secretstore.Store = (*Store)(nil)

// New returns a Store for cfg. It does not reach Vault: the first call does
// (and logs in with AppRole then, if that is how the token comes).
func New(cfg Config) (*Store, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	addr, from := strings.TrimSpace(getenv("VAULT_ADDR")), "VAULT_ADDR"
	if addr == "" {
		addr, from = strings.TrimSpace(cfg.Addr), cfg.AddrFrom
		if from == "" {
			from = "vault.addr"
		}
	}
	if addr == "" {
		return nil, &vaultError{
			msg:  "secrets.backend is vault but VAULT_ADDR is not set (nor vault.addr)",
			hint: "set VAULT_ADDR to your Vault server (e.g. https://vault.example.com:8200) or `connctl config set vault.addr URL`, or choose another backend with `connctl config set secrets.backend keyring`",
			errs: []error{secretstore.ErrUnavailable},
		}
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &vaultError{
			msg:  fmt.Sprintf("%s %q is not an http(s) URL", from, addr),
			hint: "set VAULT_ADDR to your Vault server, e.g. https://vault.example.com:8200",
			errs: []error{secretstore.ErrUnavailable},
		}
	}
	mount := strings.Trim(cfg.Mount, "/")
	if mount == "" {
		mount = DefaultMount
	}
	prefix := strings.Trim(cfg.Path, "/")
	if prefix == "" {
		prefix = DefaultPath
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ac := api.DefaultConfig() // TLS settings from VAULT_CACERT, VAULT_SKIP_VERIFY, ...
	if ac.Error != nil {
		return nil, &vaultError{msg: "Vault client settings: " + ac.Error.Error(), hint: "check the VAULT_* TLS variables (VAULT_CACERT, VAULT_CLIENT_CERT)", errs: []error{secretstore.ErrUnavailable}}
	}
	ac.Address = addr
	ac.Timeout = timeout
	// No retries: a sealed or down server is said at once, and a
	// check-and-set write is never sent twice.
	ac.MaxRetries = 0
	// No redirects: vault/api follows one 301/302/307 to any host, sending
	// the token (and a write's secret, or the AppRole credentials) along.
	ac.DisableRedirects = true
	client, err := api.NewClient(ac)
	if err != nil {
		return nil, &vaultError{msg: "Vault client: " + err.Error(), hint: "check VAULT_ADDR", errs: []error{secretstore.ErrUnavailable}}
	}
	// With redirects disabled vault/api hands a 3xx back as a success with
	// an empty body, which reads as "no secret": refuse it in the transport.
	ac.HttpClient.Transport = refuseRedirects{base: ac.HttpClient.Transport}
	// NewClient reads the process environment; Getenv decides.
	client.ClearToken()
	client.ClearNamespace()
	if ns := getenv("VAULT_NAMESPACE"); ns != "" {
		client.SetNamespace(ns)
	}
	s := &Store{client: client, kv: client.KVv2(mount), addr: addr, from: from, mount: mount, prefix: prefix, getenv: getenv}
	if tok := s.staticToken(); tok != "" {
		client.SetToken(tok)
		s.loginOnce.Do(func() {})
	}
	return s, nil
}

// staticToken is VAULT_TOKEN, else the token the vault CLI's default token
// helper keeps in ~/.vault-token.
func (s *Store) staticToken() string {
	if t := strings.TrimSpace(s.getenv("VAULT_TOKEN")); t != "" {
		return t
	}
	home := s.getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(home, ".vault-token"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// login gets a token by AppRole when there was no static one.
func (s *Store) login(ctx context.Context) error {
	s.loginOnce.Do(func() {
		role, secret := s.getenv("VAULT_ROLE_ID"), s.getenv("VAULT_SECRET_ID")
		if role == "" || secret == "" {
			s.loginErr = &vaultError{
				msg:  fmt.Sprintf("no Vault token for %s", s.addr),
				hint: "set VAULT_TOKEN, run `vault login`, or set VAULT_ROLE_ID and VAULT_SECRET_ID for an AppRole login",
				errs: []error{ErrDenied},
			}
			return
		}
		sec, err := s.client.Logical().WriteWithContext(ctx, "auth/approle/login", map[string]any{"role_id": role, "secret_id": secret})
		if err != nil {
			s.loginErr = s.mapErr(err, "AppRole login (auth/approle/login)", "")
			return
		}
		if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
			s.loginErr = &vaultError{msg: fmt.Sprintf("AppRole login at %s returned no token", s.addr), hint: "check VAULT_ROLE_ID and VAULT_SECRET_ID", errs: []error{ErrDenied}}
			return
		}
		s.client.SetToken(sec.Auth.ClientToken)
	})
	return s.loginErr
}

// Name returns "vault".
func (s *Store) Name() string { return "vault" }

// Address is the Vault server in use (VAULT_ADDR), for show and version.
func (s *Store) Address() string { return s.addr }

// itemPath is <path>/<connID>/<kind> inside the mount.
func (s *Store) itemPath(connID, kind string) (string, error) {
	if _, err := secretstore.ItemKey(connID, kind); err != nil {
		return "", err
	}
	return s.prefix + "/" + url.PathEscape(connID) + "/" + url.PathEscape(kind), nil
}

// Get returns the secret stored for connID and kind.
func (s *Store) Get(ctx context.Context, connID, kind string) (string, error) {
	v, _, err := s.read(ctx, connID, kind)
	return v, err
}

// read returns the value and its KV version (0 when there is none: then
// the error wraps ErrNotFound).
func (s *Store) read(ctx context.Context, connID, kind string) (string, int, error) {
	p, err := s.itemPath(connID, kind)
	if err != nil {
		return "", 0, err
	}
	if err := s.login(ctx); err != nil {
		return "", 0, err
	}
	sec, err := s.kv.Get(ctx, p)
	if errors.Is(err, api.ErrSecretNotFound) {
		return "", 0, s.notFound(p)
	}
	if err != nil {
		return "", 0, s.mapErr(err, "read", p)
	}
	if sec == nil || sec.Data == nil { // the latest version was deleted
		return "", 0, s.notFound(p)
	}
	v, ok := sec.Data["value"].(string)
	if !ok {
		return "", 0, &vaultError{msg: fmt.Sprintf("Vault secret %s/data/%s has no string field \"value\": it was not written by connctl", s.mount, p), errs: []error{secretstore.ErrNotFound}}
	}
	version := 0
	if sec.VersionMetadata != nil {
		version = sec.VersionMetadata.Version
	}
	return v, version, nil
}

// Set stores value for connID and kind, replacing any earlier value. Use
// CompareAndSwap where a newer value must never be overwritten.
func (s *Store) Set(ctx context.Context, connID, kind, value string) error {
	return s.put(ctx, connID, kind, value, -1)
}

// CompareAndSwap stores value only if the item still holds old ("" for an
// item that must not exist yet). Otherwise, and when another writer wrote in
// between (Vault's check-and-set), it returns an error wrapping ErrConflict
// and the item keeps the other writer's value.
func (s *Store) CompareAndSwap(ctx context.Context, connID, kind, old, value string) error {
	cur, version, err := s.read(ctx, connID, kind)
	switch {
	case errors.Is(err, secretstore.ErrNotFound):
		cur, version = "", 0
	case err != nil:
		return err
	}
	if cur != old {
		return &vaultError{msg: fmt.Sprintf("secret %s/%s was changed by another writer: not overwritten", connID, kind), errs: []error{ErrConflict}}
	}
	return s.put(ctx, connID, kind, value, version)
}

// put writes value; cas >= 0 makes it a check-and-set write against that
// version (0: only if the item does not exist).
func (s *Store) put(ctx context.Context, connID, kind, value string, cas int) error {
	p, err := s.itemPath(connID, kind)
	if err != nil {
		return err
	}
	key := connID + "/" + kind
	if err := secretstore.CheckSize(key, value); err != nil {
		return err
	}
	if err := s.login(ctx); err != nil {
		return err
	}
	var opts []api.KVOption
	if cas >= 0 {
		opts = append(opts, api.WithCheckAndSet(cas))
	}
	_, err = s.kv.Put(ctx, p, map[string]any{"value": value}, opts...)
	if err != nil {
		if cas >= 0 && isCASMismatch(err) {
			return &vaultError{msg: fmt.Sprintf("secret %s was changed by another writer: not overwritten", key), errs: []error{ErrConflict}}
		}
		return s.mapErr(err, "write", p)
	}
	return nil
}

// Delete removes every version of the secret for connID and kind (the
// metadata too, so an old refresh token cannot be read back). A missing item
// is an error wrapping ErrNotFound.
func (s *Store) Delete(ctx context.Context, connID, kind string) error {
	p, err := s.itemPath(connID, kind)
	if err != nil {
		return err
	}
	if err := s.login(ctx); err != nil {
		return err
	}
	md, err := s.kv.GetMetadata(ctx, p)
	if errors.Is(err, api.ErrSecretNotFound) {
		return s.notFound(p)
	}
	if err != nil {
		return s.mapErr(err, "read the metadata of", p)
	}
	if cur, ok := md.Versions[fmt.Sprint(md.CurrentVersion)]; !ok || !cur.DeletionTime.IsZero() || cur.Destroyed {
		// Only older or deleted versions are left: gone as far as connctl
		// is concerned, but remove them all the same.
		if err := s.kv.DeleteMetadata(ctx, p); err != nil {
			return s.mapErr(err, "delete", p)
		}
		return s.notFound(p)
	}
	if err := s.kv.DeleteMetadata(ctx, p); err != nil {
		return s.mapErr(err, "delete", p)
	}
	return nil
}

func (s *Store) notFound(p string) error {
	return &vaultError{msg: fmt.Sprintf("no secret at %s/data/%s in Vault", s.mount, p), errs: []error{secretstore.ErrNotFound}}
}

func isCASMismatch(err error) bool {
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 400 {
		return false
	}
	for _, e := range re.Errors {
		if strings.Contains(e, "check-and-set") {
			return true
		}
	}
	return false
}

// mapErr turns a Vault client error into one line naming the server and the
// fix, wrapping the sentinel that says what kind of failure it is. It never
// quotes a request body, so no value can leak through it.
func (s *Store) mapErr(err error, op, p string) error {
	where := p
	if p != "" {
		where = s.mount + "/data/" + p
	}
	var re *api.ResponseError
	var rd *redirectError
	switch {
	case errors.As(err, &rd):
		return &vaultError{
			msg:  fmt.Sprintf("Vault at %s (%s) answered the request to %s %s with a redirect (HTTP %d to %s), which connctl does not follow: the token would go along", s.addr, s.from, op, where, rd.status, rd.to),
			hint: fmt.Sprintf("set %s to the Vault server itself (a standby node redirects to the active one: use the active node's address, or the cluster's load balancer)", s.from),
			errs: []error{secretstore.ErrUnavailable},
		}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &vaultError{
			msg:  fmt.Sprintf("Vault at %s (%s) did not answer in time to %s %s", s.addr, s.from, op, where),
			hint: "check that Vault is up and reachable from this machine (`vault status`)",
			errs: []error{secretstore.ErrTimeout},
		}
	case errors.Is(err, context.Canceled):
		return &vaultError{msg: "Vault call abandoned: " + err.Error(), errs: []error{err}}
	case errors.As(err, &re):
		switch {
		case re.StatusCode == 503 && mentions(re, "sealed"):
			return &vaultError{
				msg:  fmt.Sprintf("Vault at %s (%s) is sealed: cannot %s %s", s.addr, s.from, op, where),
				hint: "ask a Vault operator to unseal it (`vault operator unseal`), or point VAULT_ADDR at an unsealed server",
				errs: []error{secretstore.ErrUnavailable},
			}
		case re.StatusCode == 403:
			return &vaultError{
				msg:  fmt.Sprintf("Vault at %s denied the token permission to %s %s", s.addr, op, where),
				hint: fmt.Sprintf("the token (VAULT_TOKEN, ~/.vault-token or AppRole) is missing, expired or its policy lacks %s on %s: ask a Vault admin", capability(op), policyPath(op, s.mount, p)),
				errs: []error{ErrDenied},
			}
		case re.StatusCode == 404 && mentions(re, "no handler for route"):
			return &vaultError{
				msg:  fmt.Sprintf("Vault at %s has no KV v2 mount at %s/", s.addr, s.mount),
				hint: fmt.Sprintf("set vault.mount to your KV v2 mount, or enable one: `vault secrets enable -path=%s kv-v2`", s.mount),
				errs: []error{secretstore.ErrUnavailable},
			}
		case re.StatusCode >= 500:
			return &vaultError{
				msg:  fmt.Sprintf("Vault at %s (%s) failed to %s %s: HTTP %d", s.addr, s.from, op, where, re.StatusCode),
				hint: "check the Vault server's health (`vault status`)",
				errs: []error{secretstore.ErrUnavailable},
			}
		}
		return &vaultError{msg: fmt.Sprintf("Vault at %s refused to %s %s: HTTP %d: %s", s.addr, op, where, re.StatusCode, strings.Join(strings.Fields(strings.Join(re.Errors, "; ")), " "))}
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return &vaultError{
			msg:  fmt.Sprintf("Vault at %s (%s) is unreachable: %s", s.addr, s.from, rootCause(err)),
			hint: fmt.Sprintf("check %s and that the Vault server is running", s.from),
			errs: []error{secretstore.ErrUnavailable},
		}
	}
	return &vaultError{msg: fmt.Sprintf("Vault at %s: cannot %s %s: %s", s.addr, op, where, rootCause(err))}
}

// refuseRedirects turns every redirect Vault answers with into an error
// before vault/api sees it, so no request is ever sent again elsewhere.
type refuseRedirects struct{ base http.RoundTripper }

func (t refuseRedirects) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 || resp.StatusCode == http.StatusNotModified {
		return resp, err
	}
	resp.Body.Close() //nolint:errcheck // refused unread
	to := "an unnamed location"
	if loc, err := resp.Location(); err == nil && loc.Host != "" {
		to = loc.Scheme + "://" + loc.Host
	}
	return nil, &redirectError{status: resp.StatusCode, to: to}
}

type redirectError struct {
	status int
	to     string // scheme://host of the Location
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("redirect (HTTP %d to %s) not followed", e.status, e.to)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func mentions(re *api.ResponseError, s string) bool {
	for _, e := range re.Errors {
		if strings.Contains(strings.ToLower(e), s) {
			return true
		}
	}
	return false
}

// rootCause is the innermost error's text (e.g. "connect: connection
// refused"), without the request URL the client puts around it.
func rootCause(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err.Error()
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

func capability(op string) string {
	switch op {
	case "write":
		return `"create" and "update"`
	case "delete":
		return `"delete"`
	default:
		return `"read"`
	}
}

func policyPath(op, mount, p string) string {
	if p == "" {
		return "auth/approle/login"
	}
	if op == "delete" || strings.Contains(op, "metadata") {
		return mount + "/metadata/" + p
	}
	return mount + "/data/" + p
}

// Errors of this backend beyond secretstore's.
var (
	// ErrDenied: Vault refused the token (missing, expired, or its policy
	// does not allow the call).
	ErrDenied = secretstore.ErrDenied
	// ErrConflict: a CompareAndSwap found another writer's value.
	ErrConflict = secretstore.ErrConflict
)

// vaultError is one line, a hint with the fix, and the sentinels it wraps.
type vaultError struct {
	msg  string
	hint string
	errs []error
}

func (e *vaultError) Error() string   { return e.msg }
func (e *vaultError) Unwrap() []error { return e.errs }

// Hint is the fix, shown on its own line by the command line.
func (e *vaultError) Hint() string { return e.hint }
