// Package hydra runs ORY Hydra v2.3.0, a certified OAuth 2.0 / OpenID Connect
// server, on the loopback for tests, together with the login and consent app
// that Hydra needs (a small in-process HTTP server whose pages a browser or
// browsersim clicks through).
//
// The Hydra binary is built once by scripts/build-test-tools.sh into a cache
// folder outside the repo; Binary finds it. Hydra keeps everything in memory
// (DSN=memory), so every Server starts empty. Hydra's own log goes to a file,
// whose tail is shown when a test fails; Hydra does not log token values.
package hydra

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer"
)

// Version is the Hydra release the tests are written against. Bump it
// together with scripts/build-test-tools.sh.
const Version = "v2.3.0"

// BinaryEnv names the environment variable that points at a Hydra binary to
// use instead of the one in the cache folder.
const BinaryEnv = "CONNCTL_HYDRA"

// DefaultSubject is the user that the login app signs in unless told otherwise.
const DefaultSubject = "alice@example.com"

// BuildFix says how to get the Hydra binary; it ends the error of Binary.
const BuildFix = "run scripts/build-test-tools.sh (builds Hydra " + Version + " once, 1-3 minutes)"

// ErrNotBuilt is what Binary's error wraps when the Hydra binary is missing,
// so that a TestMain can tell "not built" (skip, unless skips are disallowed)
// from a Hydra that does not start (fail).
var ErrNotBuilt = errors.New("hydra not built")

// Binary returns the path of the Hydra binary: $CONNCTL_HYDRA when set, else
// <cache>/hydra-v2.3.0/hydra, where <cache> is $CONNCTL_TEST_TOOLS or
// connctl-test-tools in the user's cache folder (as scripts/build-test-tools.sh
// has it). The error says how to build it.
func Binary() (string, error) {
	return testpeer.ToolBinary("hydra", Version, BinaryEnv, ErrNotBuilt, BuildFix)
}

// Options configures a Server. The zero value is Hydra's defaults with the
// subject alice@example.com.
type Options struct {
	// AccessTokenTTL and RefreshTokenTTL set TTL_ACCESS_TOKEN and
	// TTL_REFRESH_TOKEN, as Go durations ("3s", "1h"); empty keeps Hydra's
	// defaults (1h and 720h).
	AccessTokenTTL  string
	RefreshTokenTTL string
	// Subject is who the login app signs in; default DefaultSubject.
	// Server.SetSubject changes it later.
	Subject string
	// Env adds Hydra configuration as KEY=value environment entries, for
	// example "OAUTH2_GRANT_REFRESH_TOKEN_ROTATION_GRACE_PERIOD=5s". They are
	// applied after (and so override) the ones this package sets.
	Env []string
	// LogDir is where hydra.log is written. Start defaults it to a t.TempDir;
	// StartProcess to a temporary folder that stop removes.
	LogDir string
	// ReadyTimeout bounds the wait for /health/ready; default 90s (a loaded 2-core machine can take a while).
	ReadyTimeout time.Duration
}

// Server is a running Hydra and its login and consent app.
type Server struct {
	// PublicURL is Hydra's public API (authorize, token, revoke, userinfo,
	// discovery), e.g. http://127.0.0.1:41234, without a trailing slash.
	PublicURL string
	// AdminURL is Hydra's admin API (clients, login and consent, introspection).
	AdminURL string
	// Issuer is the issuer exactly as Hydra's discovery document and tokens
	// spell it.
	Issuer string
	// AppURL is the login and consent app (…/login, …/consent).
	AppURL string
	// LogPath is the file Hydra logs to.
	LogPath string

	proc *testpeer.Process
	app  *app
	http *http.Client
}

// Start starts a Hydra for the test and stops it in tb.Cleanup. When the
// binary is missing the test is skipped, or fails when
// CONNCTL_TEST_DISALLOW_SKIP=1. When the test fails, the tail of Hydra's log
// is logged.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		testpeer.Missing(tb, err, BuildFix)
	}
	if opts.LogDir == "" {
		opts.LogDir = tb.TempDir()
	}
	s, stop, err := start(bin, opts)
	if err != nil {
		tb.Fatalf("starting hydra: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("hydra log (%s), last lines:\n%s", s.LogPath, s.LogTail(40))
		}
		stop()
	})
	return s
}

// StartProcess starts a Hydra outside of a test, for a TestMain that shares
// one server between many tests or scripts. stop ends Hydra and the login
// app and removes the log folder it made; call it before os.Exit. A missing
// binary is Binary's error, which wraps ErrNotBuilt.
func StartProcess(opts Options) (s *Server, stop func(), err error) {
	bin, err := Binary()
	if err != nil {
		return nil, nil, err
	}
	stop, err = testpeer.WithLogDir(opts.LogDir, "connctl-hydra-", func(logDir string) (func(), error) {
		opts.LogDir = logDir
		var stopServer func()
		var err error
		s, stopServer, err = start(bin, opts)
		return stopServer, err
	})
	if err != nil {
		return nil, nil, err
	}
	return s, stop, nil
}

// start picks ports, starts the login app and Hydra, and waits until Hydra is
// ready. A port that another process took between picking and binding makes
// Hydra exit at once; then it tries again with new ports.
func start(bin string, opts Options) (*Server, func(), error) {
	if opts.Subject == "" {
		opts.Subject = DefaultSubject
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 90 * time.Second
	}
	if err := os.MkdirAll(opts.LogDir, 0o700); err != nil {
		return nil, nil, err
	}
	a, err := startApp(opts.Subject)
	if err != nil {
		return nil, nil, fmt.Errorf("login app: %w", err)
	}
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		s, err := startHydra(bin, opts, a, attempt)
		if err == nil {
			return s, func() { s.stop(); a.close() }, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	a.close()
	return nil, nil, lastErr
}

var errPortTaken = errors.New("port taken")

func startHydra(bin string, opts Options, a *app, attempt int) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	public := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	admin := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}

	logPath := filepath.Join(opts.LogDir, "hydra.log")
	if attempt > 1 {
		logPath = filepath.Join(opts.LogDir, fmt.Sprintf("hydra.%d.log", attempt))
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	logOut := &redactWriter{w: logFile}

	// A clean environment: Hydra reads its whole configuration from the
	// environment, so a stray DSN or SERVE_* in the developer's shell must not
	// leak in.
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"DSN=memory",
		"SECRETS_SYSTEM=" + hex.EncodeToString(secret),
		"URLS_SELF_ISSUER=" + public,
		"URLS_LOGIN=" + a.url + "/login",
		"URLS_CONSENT=" + a.url + "/consent",
		"SERVE_PUBLIC_HOST=127.0.0.1",
		"SERVE_PUBLIC_PORT=" + strconv.Itoa(ports[0]),
		"SERVE_ADMIN_HOST=127.0.0.1",
		"SERVE_ADMIN_PORT=" + strconv.Itoa(ports[1]),
		"LOG_LEVEL=info",
		"LOG_FORMAT=text",
	}
	if opts.AccessTokenTTL != "" {
		env = append(env, "TTL_ACCESS_TOKEN="+opts.AccessTokenTTL)
	}
	if opts.RefreshTokenTTL != "" {
		env = append(env, "TTL_REFRESH_TOKEN="+opts.RefreshTokenTTL)
	}
	env = append(env, opts.Env...)

	cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out")
	cmd.Env = env
	cmd.Dir = opts.LogDir
	// One writer for both, so exec copies them through one pipe in order.
	cmd.Stdout = logOut
	cmd.Stderr = logOut
	proc, err := testpeer.Spawn(cmd, func() { // after Wait: the log is copied
		_ = logOut.Flush()
		logFile.Close()
	})
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &Server{
		PublicURL: public,
		AdminURL:  admin,
		AppURL:    a.url,
		LogPath:   logPath,
		proc:      proc,
		app:       a,
		http:      &http.Client{Timeout: 60 * time.Second},
	}
	a.setAdmin(admin)

	if err := s.waitReady(opts.ReadyTimeout); err != nil {
		s.stop()
		select {
		case <-proc.Exited():
			tail := s.LogTail(20)
			if strings.Contains(tail, "address already in use") {
				return nil, fmt.Errorf("%w: %v", errPortTaken, proc.Err())
			}
			return nil, fmt.Errorf("hydra exited (%v) before it was ready; log %s:\n%s", proc.Err(), logPath, tail)
		default:
		}
		return nil, fmt.Errorf("%w; log %s:\n%s", err, logPath, s.LogTail(20))
	}
	// The issuer as Hydra spells it in discovery and tokens.
	var disc struct {
		Issuer string `json:"issuer"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := adminJSON(ctx, s.http, public, http.MethodGet, "/.well-known/openid-configuration", nil, &disc); err != nil {
		s.stop()
		return nil, fmt.Errorf("hydra discovery: %w", err)
	}
	s.Issuer = disc.Issuer
	return s, nil
}

func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.proc.Exited():
			return errors.New("hydra exited")
		default:
		}
		resp, err := c.Get(s.AdminURL + "/health/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hydra not ready after %v (last: %v)", timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// stop ends Hydra (its process group, SIGTERM then SIGKILL).
func (s *Server) stop() { s.proc.Stop() }

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// LogTail returns about the last n lines of Hydra's log.
func (s *Server) LogTail(n int) string { return testpeer.LogTail(s.LogPath, n) }

// AuthURL is the authorization endpoint.
func (s *Server) AuthURL() string { return s.PublicURL + "/oauth2/auth" }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.PublicURL + "/oauth2/token" }

// RevocationURL is the RFC 7009 revocation endpoint.
func (s *Server) RevocationURL() string { return s.PublicURL + "/oauth2/revoke" }

// UserinfoURL is the OpenID Connect userinfo endpoint.
func (s *Server) UserinfoURL() string { return s.PublicURL + "/userinfo" }

// SetSubject changes who the login app signs in from now on, e.g. to let
// "another admin" reauthorize. Safe for concurrent use.
func (s *Server) SetSubject(subject string) { s.app.setSubject(subject) }

// Subject returns who the login app signs in.
func (s *Server) Subject() string { return s.app.getSubject() }

// SetDeny makes the login and consent app reject every request from now on,
// as if the user clicked Deny: Hydra then redirects to the client with
// error=access_denied. Safe for concurrent use.
func (s *Server) SetDeny(deny bool) { s.app.setDeny(deny) }

// ClientOptions describes an OAuth client to create.
type ClientOptions struct {
	// Name is the client_name; default "connctl-test".
	Name string
	// Public makes a public client (token_endpoint_auth_method none), as a
	// native app using PKCE is. Otherwise the client is confidential.
	Public bool
	// Secret is the client secret of a confidential client; empty lets Hydra
	// generate one.
	Secret string
	// TokenEndpointAuthMethod overrides the method: client_secret_basic (the
	// default for confidential clients), client_secret_post or none.
	TokenEndpointAuthMethod string
	// RedirectURIs default to http://127.0.0.1/callback; Hydra accepts a
	// loopback redirect on any port (RFC 8252 §7.3).
	RedirectURIs []string
	// Scopes default to openid offline_access offline email profile.
	Scopes []string
	// GrantTypes default to authorization_code and refresh_token.
	GrantTypes []string
	// Audience lists the audiences the client may request.
	Audience []string
}

// CreateClient creates an OAuth client through the admin API and returns its
// id and secret (empty for a public client).
func (s *Server) CreateClient(ctx context.Context, o ClientOptions) (clientID, clientSecret string, err error) {
	if o.Name == "" {
		o.Name = "connctl-test"
	}
	if len(o.RedirectURIs) == 0 {
		o.RedirectURIs = []string{"http://127.0.0.1/callback"}
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"openid", "offline_access", "offline", "email", "profile"}
	}
	if len(o.GrantTypes) == 0 {
		o.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	method := o.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic"
		if o.Public {
			method = "none"
		}
	}
	req := map[string]any{
		"client_name":                o.Name,
		"grant_types":                o.GrantTypes,
		"response_types":             []string{"code"},
		"scope":                      strings.Join(o.Scopes, " "),
		"redirect_uris":              o.RedirectURIs,
		"token_endpoint_auth_method": method,
	}
	if o.Secret != "" && method != "none" {
		req["client_secret"] = o.Secret
	}
	if len(o.Audience) > 0 {
		req["audience"] = o.Audience
	}
	var resp struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := s.adminJSON(ctx, http.MethodPost, "/admin/clients", req, &resp); err != nil {
		return "", "", fmt.Errorf("creating client: %w", err)
	}
	return resp.ClientID, resp.ClientSecret, nil
}

// Introspection is the part of Hydra's introspection answer tests look at.
type Introspection struct {
	Active   bool   `json:"active"`
	Subject  string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	// TokenUse is "access_token" or "refresh_token".
	TokenUse  string `json:"token_use"`
	ExpiresAt int64  `json:"exp"`
}

// Introspect reports whether Hydra considers token (access or refresh) active.
func (s *Server) Introspect(ctx context.Context, token string) (active bool, err error) {
	in, err := s.Inspect(ctx, token)
	if err != nil {
		return false, err
	}
	return in.Active, nil
}

// Inspect introspects token through the admin API (POST
// /admin/oauth2/introspect). Errors never contain the token.
func (s *Server) Inspect(ctx context.Context, token string) (*Introspection, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.AdminURL+"/admin/oauth2/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("introspect: building request failed")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var in Introspection
	if err := s.do(req, &in); err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	return &in, nil
}

// adminJSON sends body as JSON to the admin API and decodes the answer into out.
func (s *Server) adminJSON(ctx context.Context, method, path string, body, out any) error {
	return adminJSON(ctx, s.http, s.AdminURL, method, path, body, out)
}

func (s *Server) do(req *http.Request, out any) error { return do(s.http, req, out) }

func adminJSON(ctx context.Context, c *http.Client, base, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return do(c, req, out)
}

// do sends req and decodes a 2xx JSON answer into out. The error names the
// method, path and status and quotes Hydra's error body, but not the request.
func do(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // *url.Error quotes the URL, which may carry a challenge
		}
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}
