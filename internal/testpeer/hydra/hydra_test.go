package hydra_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer/hydra"
)

func TestBinaryHonoursEnvAndSaysHowToBuild(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONNCTL_TEST_TOOLS", dir)
	t.Setenv(hydra.BinaryEnv, "")
	_, err := hydra.Binary()
	if !errors.Is(err, hydra.ErrNotBuilt) || !strings.Contains(err.Error(), "scripts/build-test-tools.sh") {
		t.Fatalf("Binary() with an empty cache: %v", err)
	}

	bin := filepath.Join(dir, "hydra-"+hydra.Version, "hydra")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := hydra.Binary(); err != nil || got != bin {
		t.Fatalf("Binary() = %q, %v; want %q", got, err, bin)
	}

	t.Setenv(hydra.BinaryEnv, filepath.Join(dir, "nope"))
	if _, err := hydra.Binary(); !errors.Is(err, hydra.ErrNotBuilt) || !strings.Contains(err.Error(), hydra.BinaryEnv) {
		t.Fatalf("Binary() with a bad %s: %v", hydra.BinaryEnv, err)
	}
}

func TestStartServesDiscoveryAndIntrospection(t *testing.T) {
	t0 := time.Now()
	srv := hydra.Start(t, hydra.Options{AccessTokenTTL: "3s"})
	t.Logf("hydra ready in %v: public %s admin %s app %s", time.Since(t0).Round(time.Millisecond), srv.PublicURL, srv.AdminURL, srv.AppURL)
	ctx := t.Context()

	resp, err := http.Get(srv.PublicURL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var disc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&disc); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"issuer":                 srv.Issuer,
		"authorization_endpoint": srv.AuthURL(),
		"token_endpoint":         srv.TokenURL(),
		"revocation_endpoint":    srv.RevocationURL(),
		"userinfo_endpoint":      srv.UserinfoURL(),
	} {
		if disc[key] != want {
			t.Errorf("discovery %s = %v, want %s", key, disc[key], want)
		}
	}
	if !strings.HasPrefix(srv.Issuer, srv.PublicURL) {
		t.Errorf("Issuer %q is not on %q", srv.Issuer, srv.PublicURL)
	}
	t.Logf("discovery: authorization_response_iss_parameter_supported=%v code_challenge_methods_supported=%v",
		disc["authorization_response_iss_parameter_supported"], disc["code_challenge_methods_supported"])

	id, secret, err := srv.CreateClient(ctx, hydra.ClientOptions{Public: true})
	if err != nil || id == "" || secret != "" {
		t.Fatalf("public client: %q %q %v", id, secret, err)
	}
	id2, secret2, err := srv.CreateClient(ctx, hydra.ClientOptions{Secret: "a-secret-of-enough-length"})
	if err != nil || id2 == "" || id2 == id || secret2 != "a-secret-of-enough-length" {
		t.Fatalf("confidential client: %q %q %v", id2, secret2, err)
	}

	if active, err := srv.Introspect(ctx, "not-a-token"); err != nil || active {
		t.Fatalf("Introspect(garbage) = %v, %v", active, err)
	}
}

func TestLoginAppPages(t *testing.T) {
	srv := hydra.Start(t, hydra.Options{})
	// Without a challenge Hydra has nothing to say: the app answers with an error, not a page.
	resp, err := http.Get(srv.AppURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("login without a challenge: %s", resp.Status)
	}

	srv.SetSubject("bob@example.com")
	if srv.Subject() != "bob@example.com" {
		t.Errorf("Subject() after SetSubject = %q", srv.Subject())
	}
	id, _, err := srv.CreateClient(t.Context(), hydra.ClientOptions{Public: true, Name: "Some <App>"})
	if err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	q := url.Values{
		"client_id": {id}, "response_type": {"code"}, "scope": {"openid email"},
		"redirect_uri": {"http://127.0.0.1:1/callback"}, "state": {"state-state"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
	}
	resp, err = c.Get(srv.AuthURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), srv.AppURL+"/login?login_challenge=") {
		t.Fatalf("authorize led to %s (%s)", resp.Request.URL.Redacted(), resp.Status)
	}
	for _, want := range []string{`class="login"`, `id="allow"`, `id="deny"`, "bob@example.com", "Some &lt;App&gt;", "<li>email</li>"} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %s:\n%s", want, page)
		}
	}
}

func TestStartProcess(t *testing.T) {
	if _, err := hydra.Binary(); err != nil {
		hydra.Start(t, hydra.Options{}) // skips or fails, as every Hydra test does
	}
	srv, stop, err := hydra.StartProcess(hydra.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Dir(srv.LogPath)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, _, err := srv.CreateClient(ctx, hydra.ClientOptions{Public: true}); err != nil {
		t.Fatal(err)
	}
	if tail := srv.LogTail(5); tail == "" {
		t.Error("empty log")
	}
	stop()
	if _, err := http.Get(srv.AdminURL + "/health/ready"); err == nil {
		t.Error("hydra still answers after stop")
	}
	if resp, err := http.Get(srv.AppURL + "/login"); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Error("login app still answers after stop")
	}
	if _, err := os.Stat(logDir); !os.IsNotExist(err) {
		t.Errorf("log folder %s left behind: %v", logDir, err)
	}
}
