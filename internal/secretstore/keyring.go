package secretstore

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// DefaultKeyringTimeout is how long a Keyring waits for the OS keyring when
// NewKeyring is given 0. It is longer than gh's 3 s because unlocking KWallet
// or answering a GNOME prompt takes a person a few seconds (cli/cli#11005).
const DefaultKeyringTimeout = 10 * time.Second

// Keyring is a Store backed by the OS keyring through zalando/go-keyring:
// Secret Service over D-Bus on Linux and the BSDs, the Keychain on macOS,
// Credential Manager on Windows. Items are stored under service "connctl"
// and user "<connID>/<kind>".
//
// go-keyring has no context API and can wait forever on an unlock prompt, so
// every call runs in its own goroutine and is abandoned when ctx ends or the
// timeout passes. An abandoned call keeps running until the keyring answers;
// a Set that timed out may therefore still land later.
//
// A Keyring is safe for concurrent use.
type Keyring struct {
	backend keyringBackend
	timeout time.Duration
}

// keyringBackend is the part of go-keyring a Keyring uses. It lets tests put
// a blocking or failing backend behind a Keyring without go-keyring's
// package-global MockInit.
type keyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// systemKeyring is the OS keyring as go-keyring reaches it.
type systemKeyring struct{}

func (systemKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (systemKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (systemKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// NewKeyring returns a Store backed by the OS keyring. Each call gives up
// after timeout, or after DefaultKeyringTimeout when timeout is 0.
func NewKeyring(timeout time.Duration) *Keyring {
	return newKeyringWith(systemKeyring{}, timeout)
}

func newKeyringWith(backend keyringBackend, timeout time.Duration) *Keyring {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &Keyring{backend: backend, timeout: timeout}
}

// Name returns "keyring".
func (k *Keyring) Name() string { return "keyring" }

// Get returns the secret stored for connID and kind, or an error wrapping
// ErrNotFound, ErrUnavailable or ErrTimeout.
func (k *Keyring) Get(ctx context.Context, connID, kind string) (string, error) {
	key, err := ItemKey(connID, kind)
	if err != nil {
		return "", err
	}
	return k.call(ctx, key, "", func() (string, error) { return k.backend.Get(Service, key) })
}

// Set stores value for connID and kind, replacing any earlier value. Values
// larger than MaxItemBytes are refused with ErrTooBig before the keyring is
// asked.
func (k *Keyring) Set(ctx context.Context, connID, kind, value string) error {
	key, err := ItemKey(connID, kind)
	if err != nil {
		return err
	}
	if err := CheckSize(key, value); err != nil {
		return err
	}
	_, err = k.call(ctx, key, value, func() (string, error) { return "", k.backend.Set(Service, key, value) })
	return err
}

// Delete removes the secret for connID and kind. Deleting a missing item
// returns an error wrapping ErrNotFound.
func (k *Keyring) Delete(ctx context.Context, connID, kind string) error {
	key, err := ItemKey(connID, kind)
	if err != nil {
		return err
	}
	_, err = k.call(ctx, key, "", func() (string, error) { return "", k.backend.Delete(Service, key) })
	return err
}

// call runs fn in a goroutine and waits for it, ctx or the timeout, whichever
// comes first, and maps its error. The result channel is buffered so an
// abandoned goroutine can finish and exit whenever the keyring answers.
// value is the secret being set, if any (see mapErr).
func (k *Keyring) call(ctx context.Context, key, value string, fn func() (string, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", ctxError(err)
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return "", mapErr(key, value, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		return "", ctxError(ctx.Err())
	case <-timer.C:
		return "", newError(fmt.Sprintf("keyring did not answer within %s", k.timeout), ErrTimeout)
	}
}

// ctxError says why the caller's context stopped a keyring call. A missed
// deadline also counts as ErrTimeout; a cancellation (Ctrl-C) does not.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return newError("keyring did not answer before the deadline", ErrTimeout, err)
	}
	return newError("keyring call abandoned: "+err.Error(), err)
}

// mapErr turns a go-keyring error into one wrapping this package's sentinels.
// value is the secret being set, if any: it is scrubbed from the cause, which
// comes from another process and is not under our control.
func mapErr(key, value string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return newError(fmt.Sprintf("secret %s not found in the keyring", key), ErrNotFound)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return newError(fmt.Sprintf("the %s refused secret %s as too large", keyringKind(), key), ErrTooBig)
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return newError(fmt.Sprintf("no OS keyring on %s", runtime.GOOS), ErrUnavailable)
	}
	errs := []error{ErrUnavailable}
	if value == "" || !strings.Contains(err.Error(), value) {
		// Keep the original error for errors.As and debug output unless it
		// holds the secret.
		errs = append(errs, err)
	}
	if why, ok := unreachable(err); ok {
		return newError(fmt.Sprintf("no OS keyring reachable (%s): %s", keyringKind(), shortCause(why, value)), errs...)
	}
	return newError(fmt.Sprintf("OS keyring (%s) failed: %s", keyringKind(), shortCause(err.Error(), value)), errs...)
}

// unreachable reports whether err means there is no usable keyring at all
// (no bus, no Secret Service, no unlockable collection), with a short reason.
func unreachable(err error) (string, bool) {
	var de dbus.Error
	var dep *dbus.Error
	name := ""
	switch {
	case errors.As(err, &de):
		name = de.Name
	case errors.As(err, &dep):
		name = dep.Name
	}
	msg := err.Error()
	switch {
	case name == "org.freedesktop.DBus.Error.ServiceUnknown",
		name == "org.freedesktop.DBus.Error.NameHasNoOwner",
		strings.Contains(msg, "org.freedesktop.secrets was not provided"):
		return "no Secret Service provider on the session bus (is gnome-keyring or KWallet running?)", true
	case strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn."):
		return "the Secret Service provider failed to start", true
	case name == "org.freedesktop.DBus.Error.NoReply":
		return "the Secret Service provider did not reply", true
	case strings.Contains(msg, "failed to unlock correct collection"):
		return "the login keyring is locked or missing (unlock refused or dismissed)", true
	case errors.Is(err, syscall.ENOENT),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EACCES),
		strings.Contains(msg, "no such file or directory"),
		strings.Contains(msg, "connection refused"):
		return "cannot connect to the D-Bus session bus: " + shortCause(lastPart(msg), ""), true
	case strings.Contains(msg, "couldn't determine address of session bus"),
		errors.Is(err, exec.ErrNotFound) && strings.Contains(msg, "dbus-launch"):
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)", true
	case strings.HasPrefix(msg, "dbus: "):
		return shortCause(msg, ""), true
	}
	return "", false
}

// keyringKind names the OS keyring go-keyring talks to on this platform.
func keyringKind() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS Keychain"
	case "windows":
		return "Windows Credential Manager"
	default:
		return "Secret Service over D-Bus"
	}
}

// lastPart returns the text after the last ": ", so that
// "dial unix /x: connect: no such file or directory" becomes
// "no such file or directory".
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// shortCause makes an error text fit on one line: first line only, at most
// 160 bytes, with value (a secret) scrubbed if it appears.
func shortCause(msg, value string) string {
	if value != "" {
		msg = strings.ReplaceAll(msg, value, "[redacted]")
	}
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[:i]
	}
	const max = 160
	if len(msg) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return strings.TrimSpace(msg)
}
