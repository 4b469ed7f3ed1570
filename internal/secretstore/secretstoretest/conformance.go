package secretstoretest

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/secretstore"
)

// RunConformance checks that s behaves as every secretstore.Store must: round
// trips (including multi-line and non-ASCII values), ErrNotFound for missing
// items, ErrTooBig above secretstore.MaxItemBytes, rejected keys, and no
// value in any error. It uses fresh connection ids and deletes what it
// creates, so it is safe to run against a real keyring.
func RunConformance(t *testing.T, s secretstore.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	conn := "conformance-" + rand.Text()[:10]
	other := conn + "-other"
	t.Cleanup(func() {
		for _, c := range []string{conn, other} {
			for _, k := range []string{"api_key", "token", "big"} {
				_ = s.Delete(context.Background(), c, k)
			}
		}
	})

	if s.Name() == "" {
		t.Error("Name() is empty")
	}

	t.Run("missing", func(t *testing.T) {
		if v, err := s.Get(ctx, conn, "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Fatalf("Get of a missing item = %q, %v; want ErrNotFound", v, err)
		}
		if err := s.Delete(ctx, conn, "api_key"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Fatalf("Delete of a missing item = %v; want ErrNotFound", err)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		values := map[string]string{
			"plain":      "s3cr3t-value",
			"multi-line": "line one\nline two\r\nline three\n",
			"unicode":    "Grüße, 東京 🔑 — ñ",
			"json":       `{"access_token":"a.b.c","refresh_token":"r","expiry":"2026-01-02T03:04:05Z"}`,
		}
		for name, want := range values {
			if err := s.Set(ctx, conn, "api_key", want); err != nil {
				t.Fatalf("%s: Set: %v", name, err)
			}
			got, err := s.Get(ctx, conn, "api_key")
			if err != nil {
				t.Fatalf("%s: Get: %v", name, err)
			}
			if got != want {
				t.Fatalf("%s: Get = %q, want %q", name, got, want)
			}
		}
	})

	t.Run("items are separate", func(t *testing.T) {
		set := map[[2]string]string{
			{conn, "api_key"}:  "v-conn-api",
			{conn, "token"}:    "v-conn-token",
			{other, "api_key"}: "v-other-api",
		}
		for k, v := range set {
			if err := s.Set(ctx, k[0], k[1], v); err != nil {
				t.Fatalf("Set %v: %v", k, err)
			}
		}
		for k, want := range set {
			if got, err := s.Get(ctx, k[0], k[1]); err != nil || got != want {
				t.Fatalf("Get %v = %q, %v; want %q", k, got, err, want)
			}
		}
		if err := s.Delete(ctx, conn, "token"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Get(ctx, conn, "token"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Fatalf("Get after Delete: %v; want ErrNotFound", err)
		}
		if err := s.Delete(ctx, conn, "token"); !errors.Is(err, secretstore.ErrNotFound) {
			t.Fatalf("second Delete: %v; want ErrNotFound", err)
		}
		if got, err := s.Get(ctx, conn, "api_key"); err != nil || got != "v-conn-api" {
			t.Fatalf("Delete removed too much: Get = %q, %v", got, err)
		}
	})

	t.Run("size limit", func(t *testing.T) {
		atLimit := strings.Repeat("a", secretstore.MaxItemBytes)
		if err := s.Set(ctx, conn, "big", atLimit); err != nil {
			t.Fatalf("Set of %d bytes: %v", len(atLimit), err)
		}
		if got, err := s.Get(ctx, conn, "big"); err != nil || got != atLimit {
			t.Fatalf("Get of the %d-byte item: len %d, %v", len(atLimit), len(got), err)
		}
		tooBig := "TOOBIG" + strings.Repeat("x", secretstore.MaxItemBytes)
		err := s.Set(ctx, conn, "big", tooBig)
		if !errors.Is(err, secretstore.ErrTooBig) {
			t.Fatalf("Set of %d bytes = %v; want ErrTooBig", len(tooBig), err)
		}
		if strings.Contains(err.Error(), "TOOBIG") {
			t.Fatalf("error quotes the value: %v", err)
		}
		if got, err := s.Get(ctx, conn, "big"); err != nil || got != atLimit {
			t.Fatalf("refused Set changed the item: len %d, %v", len(got), err)
		}
	})

	t.Run("bad keys", func(t *testing.T) {
		for _, k := range [][2]string{{"", "api_key"}, {conn, ""}, {conn, "a/b"}, {conn + "\n", "api_key"}, {conn, "api\x00key"}} {
			if err := s.Set(ctx, k[0], k[1], "v"); err == nil {
				t.Errorf("Set(%q, %q) succeeded; want an error", k[0], k[1])
			}
			if _, err := s.Get(ctx, k[0], k[1]); err == nil || errors.Is(err, secretstore.ErrNotFound) {
				t.Errorf("Get(%q, %q) = %v; want a key error", k[0], k[1], err)
			}
		}
	})
}
