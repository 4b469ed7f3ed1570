// Package vault runs a HashiCorp Vault dev server (`vault server -dev`) on
// the loopback for tests: in memory, unsealed, root token ROOT, with a KV v2
// mount at secret/. The binary is built once by scripts/build-test-tools.sh
// into the cache folder outside the repo; Binary finds it.
package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer"
)

// Version is the Vault release the tests run against. Bump it together
// with scripts/build-test-tools.sh.
const Version = "v1.17.6"

// BinaryEnv names the environment variable that points at a vault binary
// to use instead of the one in the cache folder.
const BinaryEnv = "CONNCTL_VAULT"

// RootToken is the dev server's root token.
const RootToken = "ROOT"

// BuildFix says how to get the binary; it ends the error of Binary.
const BuildFix = "run scripts/build-test-tools.sh (builds Vault " + Version + " once, several minutes)"

// ErrNotBuilt is what Binary's error wraps when the vault binary is missing.
var ErrNotBuilt = errors.New("vault not built")

// Binary returns the path of the vault binary: $CONNCTL_VAULT, else
// <cache>/vault-<Version>/vault.
func Binary() (string, error) {
	return testpeer.ToolBinary("vault", Version, BinaryEnv, ErrNotBuilt, BuildFix)
}

// Optional reports whether the Vault tests may skip for want of a binary
// even under CONNCTL_TEST_DISALLOW_SKIP=1: CONNCTL_BUILD_VAULT=0 leaves
// Vault out of scripts/build-test-tools.sh (its first build is long).
func Optional() bool { return os.Getenv("CONNCTL_BUILD_VAULT") == "0" }

// Server is a running Vault dev server.
type Server struct {
	// Addr is the API address, e.g. http://127.0.0.1:41234 (VAULT_ADDR).
	Addr    string
	LogPath string
	Bin     string

	proc *testpeer.Process
	http *http.Client
}

// Start starts a Vault dev server for the test and stops it in
// tb.Cleanup. A missing binary skips the test, or fails it when
// CONNCTL_TEST_DISALLOW_SKIP=1.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if Optional() {
			tb.Skipf("%v (CONNCTL_BUILD_VAULT=0: the Vault tests are left out)", err)
		}
		testpeer.Missing(tb, err, BuildFix)
	}
	var s *Server
	for attempt := 1; attempt <= 3; attempt++ {
		s, err = start(bin, tb.TempDir())
		if err == nil || !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		tb.Fatalf("starting vault: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("vault log (%s), last lines:\n%s", s.LogPath, testpeer.LogTail(s.LogPath, 40))
		}
		s.proc.Stop()
	})
	return s
}

var errPortTaken = errors.New("port taken")

func start(bin, dir string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logPath := filepath.Join(dir, "vault.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server", "-dev", "-dev-root-token-id="+RootToken,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port))
	// A clean environment; HOME is the test's folder, where the dev server
	// writes its ~/.vault-token.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + os.TempDir(), "VAULT_LOG_LEVEL=info"}
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	proc, err := testpeer.Spawn(cmd, func() { logFile.Close() })
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &Server{Addr: "http://127.0.0.1:" + strconv.Itoa(port), LogPath: logPath, Bin: bin, proc: proc, http: &http.Client{Timeout: 30 * time.Second}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-proc.Exited():
			log := testpeer.LogTail(logPath, 20)
			if strings.Contains(log, "address already in use") {
				return nil, fmt.Errorf("%w: %s", errPortTaken, log)
			}
			return nil, fmt.Errorf("vault exited: %v\n%s", proc.Err(), log)
		default:
		}
		if err := s.call(http.MethodGet, "sys/health", RootToken, nil, nil); err == nil {
			// The dev server mounts secret/ as KV v2 just after it
			// unseals; wait for that too.
			if err := s.call(http.MethodGet, "sys/mounts/secret", RootToken, nil, nil); err == nil {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			proc.Stop()
			return nil, fmt.Errorf("vault at %s not ready after 90s\n%s", s.Addr, testpeer.LogTail(logPath, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Env is VAULT_ADDR and VAULT_TOKEN for token, as KEY=value entries.
func (s *Server) Env(token string) []string {
	return []string{"VAULT_ADDR=" + s.Addr, "VAULT_TOKEN=" + token}
}

// PutPolicy writes an ACL policy (HCL) named name.
func (s *Server) PutPolicy(name, hcl string) error {
	return s.call(http.MethodPut, "sys/policies/acl/"+name, RootToken, map[string]any{"policy": hcl}, nil)
}

// Token creates a token with exactly the given policies (no default).
func (s *Server) Token(policies ...string) (string, error) {
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := s.call(http.MethodPost, "auth/token/create", RootToken, map[string]any{"policies": policies, "no_default_policy": true, "ttl": "1h"}, &out); err != nil {
		return "", err
	}
	return out.Auth.ClientToken, nil
}

// Seal seals the server: it keeps its data but answers 503 "Vault is
// sealed" until Unseal.
func (s *Server) Seal() error { return s.call(http.MethodPut, "sys/seal", RootToken, nil, nil) }

// Unseal unseals a sealed server with the dev server's one unseal key,
// which it prints at start ("Unseal Key: ..." in its log).
func (s *Server) Unseal() error {
	key, err := s.unsealKey()
	if err != nil {
		return err
	}
	var out struct {
		Sealed bool `json:"sealed"`
	}
	if err := s.call(http.MethodPut, "sys/unseal", "", map[string]any{"key": key}, &out); err != nil {
		return err
	}
	if out.Sealed {
		return errors.New("vault still sealed after its unseal key was given")
	}
	// "sealed": false does not yet mean active: the node sets up its
	// mounts after it unseals, and until then answers 503. Wait until
	// sys/health says active (200), as a client of a real server would
	// see it once an operator's unseal has finished.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.call(http.MethodGet, "sys/health", "", nil, nil)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vault not active 30s after unseal: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unsealKey reads the dev server's unseal key from its log.
func (s *Server) unsealKey() (string, error) {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, ok := strings.CutPrefix(strings.TrimSpace(line), "Unseal Key: "); ok && k != "" {
			return strings.TrimSpace(k), nil
		}
	}
	return "", fmt.Errorf("no \"Unseal Key:\" line in the dev server's log %s", s.LogPath)
}

// StartProcess starts a dev server outside of a test (a testscript
// command). stop ends it and removes its folder. A missing binary is
// Binary's error, which wraps ErrNotBuilt.
func StartProcess() (*Server, func(), error) {
	bin, err := Binary()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "connctl-vault-")
	if err != nil {
		return nil, nil, err
	}
	var s *Server
	for attempt := 1; attempt <= 3; attempt++ {
		s, err = start(bin, dir)
		if err == nil || !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() { s.proc.Stop(); _ = os.RemoveAll(dir) }, nil
}

// API makes one call to the HTTP API (path without /v1/) with the root
// token; out, when set, gets the JSON answer.
func (s *Server) API(method, path string, in, out any) error {
	return s.call(method, path, RootToken, in, out)
}

// Stop stops the server before the test ends (for "unreachable" tests).
func (s *Server) Stop() { s.proc.Stop() }

// call makes one API call with token; out, when set, gets the JSON answer.
func (s *Server) call(method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.Addr+"/v1/"+path, body)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
