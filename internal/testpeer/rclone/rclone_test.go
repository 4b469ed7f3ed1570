package rclone_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/awssig"
	"github.com/connctl/connctl/internal/testpeer"
	"github.com/connctl/connctl/internal/testpeer/rclone"
)

func TestBinaryHonoursEnvAndSaysHowToBuild(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONNCTL_TEST_TOOLS", dir)
	t.Setenv(rclone.BinaryEnv, "")
	_, err := rclone.Binary()
	if !errors.Is(err, rclone.ErrNotBuilt) || !strings.Contains(err.Error(), "scripts/build-test-tools.sh") {
		t.Fatalf("Binary() with an empty cache: %v", err)
	}

	bin := filepath.Join(dir, "rclone-"+rclone.Version, "rclone")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := rclone.Binary(); err != nil || got != bin {
		t.Fatalf("Binary() = %q, %v; want %q", got, err, bin)
	}

	t.Setenv(rclone.BinaryEnv, filepath.Join(dir, "nope"))
	if _, err := rclone.Binary(); !errors.Is(err, rclone.ErrNotBuilt) || !strings.Contains(err.Error(), rclone.BinaryEnv) {
		t.Fatalf("Binary() with a bad %s: %v", rclone.BinaryEnv, err)
	}
}

// The served folder's subfolders are buckets; a signed GET lists them and
// an unsigned or wrongly signed one is refused.
func TestStartServesFoldersAsBuckets(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "acme-exports", "nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme-exports", "nested", "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	srv := rclone.Start(t, dir)
	t.Logf("rclone serve s3 ready in %v at %s", time.Since(t0).Round(time.Millisecond), srv.Endpoint)

	get := func(path, secret string) (int, string) {
		t.Helper()
		r, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.Endpoint+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if secret != "" {
			awssig.Sign(r, awssig.Credentials{KeyID: srv.AccessKey, Secret: secret}, rclone.Region, "s3", time.Now())
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("/", srv.SecretKey); st != 200 || !strings.Contains(body, "<Name>acme-exports</Name>") {
		t.Errorf("ListBuckets: %d %s", st, body)
	}
	if st, body := get("/acme-exports/nested/a.txt", srv.SecretKey); st != 200 || body != "hello" {
		t.Errorf("GetObject: %d %q", st, body)
	}
	if st, body := get("/acme-exports?list-type=2", "wrong"); st != 403 {
		t.Errorf("wrong secret: %d %s", st, body)
	}
}

func TestStartProcessStopsAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv, stop, err := rclone.StartProcess(dir)
	if errors.Is(err, rclone.ErrNotBuilt) {
		testpeer.Missing(t, err, rclone.BuildFix)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.Endpoint + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	if _, err := os.Stat(filepath.Dir(srv.LogPath)); !os.IsNotExist(err) {
		t.Errorf("log folder left: %v", err)
	}
	if _, err := http.Get(srv.Endpoint + "/"); err == nil {
		t.Errorf("rclone still answers after stop")
	}
}
