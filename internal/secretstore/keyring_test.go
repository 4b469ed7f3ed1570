package secretstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// fakeBackend stands in for go-keyring: a map, an optional error for every
// call, and an optional gate that holds calls until it is closed.
type fakeBackend struct {
	mu    sync.Mutex
	items map[string]string
	err   error
	gate  chan struct{}
	calls int
}

func newFakeBackend() *fakeBackend { return &fakeBackend{items: map[string]string{}} }

func (b *fakeBackend) enter() error {
	b.mu.Lock()
	b.calls++
	gate, err := b.gate, b.err
	b.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return err
}

func (b *fakeBackend) Get(service, user string) (string, error) {
	if err := b.enter(); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.items[service+"|"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (b *fakeBackend) Set(service, user, password string) error {
	if err := b.enter(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items[service+"|"+user] = password
	return nil
}

func (b *fakeBackend) Delete(service, user string) error {
	if err := b.enter(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.items[service+"|"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(b.items, service+"|"+user)
	return nil
}

func (b *fakeBackend) callCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

func TestKeyringConformance(t *testing.T) {
	t.Parallel()
	secretstoretest.RunConformance(t, secretstore.NewKeyringWith(newFakeBackend(), time.Second))
}

func TestKeyringNaming(t *testing.T) {
	t.Parallel()
	b := newFakeBackend()
	k := secretstore.NewKeyringWith(b, time.Second)
	if got := k.Name(); got != "keyring" {
		t.Errorf("Name() = %q, want keyring", got)
	}
	if err := k.Set(context.Background(), "crm-prod", "oauth_refresh_token", "v"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.items["connctl|crm-prod/oauth_refresh_token"]; !ok {
		t.Errorf("stored under %v, want service connctl, user crm-prod/oauth_refresh_token", b.items)
	}
}

func TestKeyringDefaultTimeout(t *testing.T) {
	t.Parallel()
	if got := secretstore.KeyringTimeout(secretstore.NewKeyring(0)); got != 10*time.Second {
		t.Errorf("NewKeyring(0) timeout = %v, want 10s", got)
	}
	if got := secretstore.KeyringTimeout(secretstore.NewKeyring(3 * time.Second)); got != 3*time.Second {
		t.Errorf("NewKeyring(3s) timeout = %v, want 3s", got)
	}
}

// blockedKeyring returns a Keyring whose backend never answers until the test
// ends, like go-keyring waiting on an unanswered unlock prompt.
func blockedKeyring(t *testing.T, timeout time.Duration) *secretstore.Keyring {
	t.Helper()
	b := newFakeBackend()
	b.gate = make(chan struct{})
	t.Cleanup(func() { close(b.gate) }) // lets the abandoned goroutines exit
	return secretstore.NewKeyringWith(b, timeout)
}

func TestKeyringTimeout(t *testing.T) {
	t.Parallel()
	k := blockedKeyring(t, 50*time.Millisecond)
	calls := map[string]func() error{
		"get":    func() error { _, err := k.Get(context.Background(), "c", "api_key"); return err },
		"set":    func() error { return k.Set(context.Background(), "c", "api_key", "v") },
		"delete": func() error { return k.Delete(context.Background(), "c", "api_key") },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if !errors.Is(err, secretstore.ErrTimeout) {
			t.Fatalf("%s: err = %v, want ErrTimeout", name, err)
		}
		if got, want := err.Error(), "keyring did not answer within 50ms"; got != want {
			t.Errorf("%s: message = %q, want %q", name, got, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
}

func TestKeyringContext(t *testing.T) {
	t.Parallel()
	k := blockedKeyring(t, time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := k.Get(ctx, "c", "api_key")
	if !errors.Is(err, secretstore.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v, want ErrTimeout and DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	err = k.Set(ctx, "c", "api_key", "v")
	if !errors.Is(err, context.Canceled) || errors.Is(err, secretstore.ErrTimeout) {
		t.Errorf("cancel: err = %v, want Canceled and not ErrTimeout", err)
	}

	// An already-cancelled context does not reach the backend at all.
	b := newFakeBackend()
	k = secretstore.NewKeyringWith(b, time.Second)
	if err := k.Delete(ctx, "c", "api_key"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the call: err = %v", err)
	}
	if n := b.callCount(); n != 0 {
		t.Errorf("backend called %d times after cancellation", n)
	}
}

func TestKeyringTooBigNeverReachesBackend(t *testing.T) {
	t.Parallel()
	b := newFakeBackend()
	k := secretstore.NewKeyringWith(b, time.Second)
	value := strings.Repeat("S", secretstore.MaxItemBytes+1)
	err := k.Set(context.Background(), "crm", "api_key", value)
	if !errors.Is(err, secretstore.ErrTooBig) {
		t.Fatalf("err = %v, want ErrTooBig", err)
	}
	if want := "secret crm/api_key is 2561 bytes, the limit is 2560"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q", err, want)
	}
	if strings.Contains(err.Error(), "SSSS") {
		t.Errorf("message quotes the value: %q", err)
	}
	if n := b.callCount(); n != 0 {
		t.Errorf("backend called %d times", n)
	}
}

func TestKeyringErrorMapping(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-very-secret"
	dialErr := &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: "/nonexistent", Net: "unix"},
		Err: os.NewSyscallError("connect", syscall.ENOENT)}
	tests := []struct {
		name     string
		err      error
		sentinel error
		message  string // the whole message, or a prefix when it ends in "…"
	}{
		{"not found", keyring.ErrNotFound, secretstore.ErrNotFound,
			"secret crm/api_key not found in the keyring"},
		{"too big for the OS", keyring.ErrSetDataTooBig, secretstore.ErrTooBig,
			"the Secret Service over D-Bus refused secret crm/api_key as too large"},
		{"unsupported platform", keyring.ErrUnsupportedPlatform, secretstore.ErrUnavailable,
			"no OS keyring on linux"},
		{"no provider", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown",
			Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}},
			secretstore.ErrUnavailable,
			"no OS keyring reachable (Secret Service over D-Bus): no Secret Service provider on the session bus (is gnome-keyring or KWallet running?)"},
		{"no provider, pointer", &dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"},
			secretstore.ErrUnavailable,
			"no OS keyring reachable (Secret Service over D-Bus): no Secret Service provider on the session bus (is gnome-keyring or KWallet running?)"},
		{"no bus socket", dialErr, secretstore.ErrUnavailable,
			"no OS keyring reachable (Secret Service over D-Bus): cannot connect to the D-Bus session bus: no such file or directory"},
		{"bus refuses", errors.New("dial unix /run/user/1000/bus: connect: connection refused"), secretstore.ErrUnavailable,
			"no OS keyring reachable (Secret Service over D-Bus): cannot connect to the D-Bus session bus: connection refused"},
		{"locked collection", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
			secretstore.ErrUnavailable,
			"no OS keyring reachable (Secret Service over D-Bus): the login keyring is locked or missing (unlock refused or dismissed)"},
		{"no bus address", errors.New("dbus: couldn't determine address of session bus"), secretstore.ErrUnavailable,
			"no OS keyring reachable (Secret Service over D-Bus): no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"},
		{"other", errors.New("something odd\nwith a second line"), secretstore.ErrUnavailable,
			"OS keyring (Secret Service over D-Bus) failed: something odd"},
		{"echoes the secret", fmt.Errorf("bad item %q rejected", secret), secretstore.ErrUnavailable,
			`OS keyring (Secret Service over D-Bus) failed: bad item "[redacted]" rejected`},
		{"long", errors.New(strings.Repeat("é", 200)), secretstore.ErrUnavailable,
			"OS keyring (Secret Service over D-Bus) failed: " + strings.Repeat("é", 80) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.name == "unsupported platform" || strings.Contains(tt.message, "Secret Service") {
				skipUnlessLinux(t)
			}
			b := newFakeBackend()
			b.err = tt.err
			k := secretstore.NewKeyringWith(b, time.Second)
			err := k.Set(context.Background(), "crm", "api_key", secret)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			if err.Error() != tt.message {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tt.message)
			}
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), secret) {
					t.Errorf("error chain holds the secret: %q", e.Error())
				}
			}
			assertNoSecretInTree(t, err, secret)
		})
	}
}

// assertNoSecretInTree walks every branch of a (multi-)wrapped error.
func assertNoSecretInTree(t *testing.T, err error, secret string) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error tree holds the secret: %q", err.Error())
	}
	switch u := err.(type) { //nolint:errorlint // walking the tree by hand on purpose
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			assertNoSecretInTree(t, e, secret)
		}
	case interface{ Unwrap() error }:
		assertNoSecretInTree(t, u.Unwrap(), secret)
	}
}

func skipUnlessLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("messages name the Linux keyring")
	}
}
