// Package oidcprovider runs panva's oidc-provider 9.x, an OpenID Certified
// provider written by people other than connctl's authors, on the loopback
// for tests: the second real OAuth 2.0 server beside ORY Hydra (package
// hydra). It serves one native public client with PKCE, refresh-token
// rotation, revocation, introspection, short-lived access tokens and the
// provider's own development login and consent pages (devInteractions),
// which browsersim fills in as a user would.
//
// The npm package is installed once by scripts/build-test-tools.sh into a
// cache folder outside the repo; Dir finds it. The provider keeps everything
// in memory, so every Server starts empty. Its log (event names only, never
// a token) goes to a file whose tail is shown when a test fails.
package oidcprovider

import (
	"context"
	"crypto/rand"
	_ "embed" // server.mjs
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Version is the oidc-provider release the tests are written against. Bump
// it together with scripts/build-test-tools.sh.
const Version = "9.13.3"

// DirEnv names the environment variable that points at an install folder
// (one holding node_modules/oidc-provider) to use instead of the cache's.
const DirEnv = "CONNCTL_OIDC_PROVIDER"

// ClientID is the public native client connctl authorizes as.
const ClientID = "connctl-native"

// DefaultLogin is the user that browsersim signs in unless told otherwise.
const DefaultLogin = "alice@example.com"

// BuildFix says how to get oidc-provider; it ends Dir's error.
const BuildFix = "run scripts/build-test-tools.sh (installs oidc-provider " + Version + " with npm, once; needs nodejs and npm: scripts/install-deps.sh)"

// ErrNotBuilt is what Dir's error wraps when oidc-provider or node is
// missing, so that a TestMain can tell "not installed" (skip, unless skips
// are disallowed) from a provider that does not start (fail).
var ErrNotBuilt = errors.New("oidc-provider not installed")

//go:embed server.mjs
var serverScript []byte

// Dir returns the folder holding node_modules/oidc-provider: $CONNCTL_OIDC_PROVIDER
// when set, else <cache>/oidc-provider-<Version> as scripts/build-test-tools.sh
// leaves it. It also checks that node is on PATH.
func Dir() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("%w: node is not on PATH: %s", ErrNotBuilt, BuildFix)
	}
	dir := os.Getenv(DirEnv)
	marker := filepath.Join(dir, "node_modules", "oidc-provider", "package.json")
	if dir == "" {
		dir = filepath.Join(testpeer.ToolsCache(), "oidc-provider-"+Version)
		marker = filepath.Join(dir, ".installed")
	}
	if _, err := os.Stat(marker); err != nil {
		return "", fmt.Errorf("%w: %v: %s", ErrNotBuilt, err, BuildFix)
	}
	return dir, nil
}

// Options configures a Server.
type Options struct {
	// AccessTokenTTL is the access tokens' lifetime; default 65s, so that
	// connctl's refresh is exercised.
	AccessTokenTTL time.Duration
	// LogDir is where provider.log (and the script) go. Start defaults it to
	// a t.TempDir; StartProcess to a temporary folder that stop removes.
	LogDir string
	// ReadyTimeout bounds the wait for the provider to serve; default 30s.
	ReadyTimeout time.Duration
}

// Server is a running oidc-provider.
type Server struct {
	// Issuer is the issuer (and base URL), e.g. http://127.0.0.1:41234.
	Issuer string
	// ClientID is the native public client for connctl.
	ClientID string
	// LogPath is the file the provider logs to.
	LogPath string

	rsID, rsSecret string
	proc           *testpeer.Process
	http           *http.Client
}

// Start starts a provider for the test and stops it in tb.Cleanup. When it
// is not installed the test is skipped, or fails when
// CONNCTL_TEST_DISALLOW_SKIP=1.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	dir, err := Dir()
	if err != nil {
		testpeer.Missing(tb, err, BuildFix)
	}
	if opts.LogDir == "" {
		opts.LogDir = tb.TempDir()
	}
	s, err := start(dir, opts)
	if err != nil {
		tb.Fatalf("starting oidc-provider: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("oidc-provider log (%s), last lines:\n%s", s.LogPath, s.LogTail(40))
		}
		s.proc.Stop()
	})
	return s
}

// StartProcess starts a provider outside of a test, for a TestMain that
// shares one between many scripts. stop ends it and removes the log folder it
// made. A missing install is Dir's error, which wraps ErrNotBuilt.
func StartProcess(opts Options) (s *Server, stop func(), err error) {
	dir, err := Dir()
	if err != nil {
		return nil, nil, err
	}
	stop, err = testpeer.WithLogDir(opts.LogDir, "connctl-oidc-provider-", func(logDir string) (func(), error) {
		opts.LogDir = logDir
		var err error
		if s, err = start(dir, opts); err != nil {
			return nil, err
		}
		return s.proc.Stop, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return s, stop, nil
}

func start(dir string, opts Options) (*Server, error) {
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = 65 * time.Second
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	if err := os.MkdirAll(opts.LogDir, 0o700); err != nil {
		return nil, err
	}
	script := filepath.Join(opts.LogDir, "server.mjs")
	if err := os.WriteFile(script, serverScript, 0o600); err != nil {
		return nil, err
	}
	ready := filepath.Join(opts.LogDir, "ready.json")
	_ = os.Remove(ready)
	logPath := filepath.Join(opts.LogDir, "provider.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	s := &Server{ClientID: ClientID, LogPath: logPath, rsID: "connctl-test-rs", rsSecret: randomHex(24),
		http: &http.Client{Timeout: 10 * time.Second}}

	cmd := exec.Command("node", script)
	cmd.Dir = opts.LogDir
	// A clean environment: nothing of the developer's shell (NODE_OPTIONS,
	// DEBUG=oidc-provider:*, which would log tokens) leaks in.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"OIDC_PROVIDER_DIR=" + dir,
		"OIDC_READY_FILE=" + ready,
		"OIDC_CLIENT_ID=" + s.ClientID,
		"OIDC_RS_ID=" + s.rsID,
		"OIDC_RS_SECRET=" + s.rsSecret,
		"OIDC_ACCESS_TTL=" + strconv.Itoa(int(opts.AccessTokenTTL/time.Second)),
		"OIDC_COOKIE_KEY=" + randomHex(32),
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	proc, err := testpeer.Spawn(cmd, func() { logFile.Close() })
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting node: %w", err)
	}
	s.proc = proc
	if err := s.waitReady(ready, opts.ReadyTimeout); err != nil {
		proc.Stop()
		return nil, fmt.Errorf("%w; log %s:\n%s", err, logPath, s.LogTail(20))
	}
	return s, nil
}

// waitReady waits for the ready file the script writes once it serves, then
// for its discovery document.
func (s *Server) waitReady(ready string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.proc.Exited():
			return fmt.Errorf("oidc-provider exited (%v) before it was ready", s.proc.Err())
		default:
		}
		if b, err := os.ReadFile(ready); err == nil {
			var r struct {
				Issuer string `json:"issuer"`
			}
			if err := json.Unmarshal(b, &r); err != nil || r.Issuer == "" {
				return fmt.Errorf("oidc-provider wrote a bad ready file: %q", b)
			}
			s.Issuer = r.Issuer
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("oidc-provider not ready after %v", timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("oidc-provider discovery: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("oidc-provider discovery answered %s", resp.Status)
	}
	return nil
}

// LogTail returns about the last n lines of the provider's log.
func (s *Server) LogTail(n int) string { return testpeer.LogTail(s.LogPath, n) }

// Introspection is the part of the introspection answer tests look at.
type Introspection struct {
	Active    bool   `json:"active"`
	Subject   string `json:"sub"`
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
	TokenType string `json:"token_type"`
	ExpiresAt int64  `json:"exp"`
}

// Introspect reports whether the provider considers token (access or
// refresh) active.
func (s *Server) Introspect(ctx context.Context, token string) (bool, error) {
	in, err := s.Inspect(ctx, token)
	if err != nil {
		return false, err
	}
	return in.Active, nil
}

// Inspect introspects token (RFC 7662) as the confidential test client.
// Errors never contain the token.
func (s *Server) Inspect(ctx context.Context, token string) (*Introspection, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Issuer+"/token/introspection", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("introspect: building the request failed")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(s.rsID, s.rsSecret)
	resp, err := s.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspect: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var in Introspection
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("introspect: decoding the answer: %w", err)
	}
	return &in, nil
}

// Events counts the lines of the provider's log that record event (for
// example "grant.success" or "revocation.success").
func (s *Server) Events(event string) int {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), `{"event":"`+event+`"`)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
