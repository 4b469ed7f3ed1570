package secretstore_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// These tests talk to the real OS keyring. On Linux run them on a private bus:
//
//	dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	    CONNCTL_TEST_KEYRING=real go test ./internal/secretstore/...'
func requireRealKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("CONNCTL_TEST_KEYRING") != "real" {
		t.Skip("set CONNCTL_TEST_KEYRING=real to use the OS keyring")
	}
}

func TestRealKeyring(t *testing.T) {
	requireRealKeyring(t)
	secretstoretest.RunConformance(t, secretstore.NewKeyring(0))
}

func TestRealKeyringRoundTrip(t *testing.T) {
	requireRealKeyring(t)
	ctx := context.Background()
	k := secretstore.NewKeyring(0)
	conn := "connctl-test-" + strings.ReplaceAll(t.Name(), "/", "-")
	t.Cleanup(func() { _ = k.Delete(context.Background(), conn, "oauth_token") })

	for _, v := range []string{"first", "zwei\nZeilen mit Ümlauten\n", "東京🔑"} {
		if err := k.Set(ctx, conn, "oauth_token", v); err != nil {
			t.Fatalf("Set: %v", err)
		}
		got, err := k.Get(ctx, conn, "oauth_token")
		if err != nil || got != v {
			t.Fatalf("Get = %q, %v; want %q", got, err, v)
		}
	}
	if err := k.Delete(ctx, conn, "oauth_token"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, conn, "oauth_token"); !errors.Is(err, secretstore.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
}

// TestKeyringNoSessionBus checks that with no reachable D-Bus the real
// Keyring fails at once with ErrUnavailable. It runs in a child process
// because godbus caches the session-bus connection for the whole process: had
// another test connected first, changing DBUS_SESSION_BUS_ADDRESS here would
// change nothing. Dialling a missing socket is harmless, so this runs on
// every Linux machine.
func TestKeyringNoSessionBus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service backend is Linux-only")
	}
	if os.Getenv("CONNCTL_TEST_NO_BUS_CHILD") == "1" {
		keyringNoSessionBusChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeyringNoSessionBus$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"CONNCTL_TEST_NO_BUS_CHILD=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/connctl-test-bus",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestKeyringNoSessionBus") {
		t.Fatalf("child did not run the check:\n%s", out)
	}
}

func keyringNoSessionBusChild(t *testing.T) {
	k := secretstore.NewKeyring(5 * time.Second)
	ctx := context.Background()
	calls := map[string]func() error{
		"get":    func() error { _, err := k.Get(ctx, "crm", "api_key"); return err },
		"set":    func() error { return k.Set(ctx, "crm", "api_key", "never-stored") },
		"delete": func() error { return k.Delete(ctx, "crm", "api_key") },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v; want an immediate failure", name, d)
		}
		if !errors.Is(err, secretstore.ErrUnavailable) {
			t.Fatalf("%s: err = %v, want ErrUnavailable", name, err)
		}
		want := "no OS keyring reachable (Secret Service over D-Bus): cannot connect to the D-Bus session bus: no such file or directory"
		if err.Error() != want {
			t.Errorf("%s: message\n got %q\nwant %q", name, err, want)
		}
		if strings.Contains(err.Error(), "never-stored") {
			t.Errorf("%s: message holds the value", name)
		}
	}
}
