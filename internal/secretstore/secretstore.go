// Package secretstore keeps connection secrets (API keys, client secrets,
// OAuth tokens) in the OS keyring or, when chosen explicitly, in an
// age-encrypted file. It never falls back to plaintext, and no value it holds
// ever appears in an error.
package secretstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Service is the keyring service name under which every item is stored.
const Service = "connctl"

// Store holds one item per (connection id, kind). Kinds are secret field
// names such as "api_key" or "oauth_refresh_token".
type Store interface {
	Get(ctx context.Context, connID, kind string) (string, error)
	Set(ctx context.Context, connID, kind, value string) error
	Delete(ctx context.Context, connID, kind string) error // ErrNotFound-tolerant callers check errors.Is
	// Name says which backend this is ("keyring", "file", "memory"), for show and errors.
	Name() string
}

// Errors every Store returns (wrapped with context, never with a value).
var (
	ErrNotFound    = errors.New("secret not found")
	ErrUnavailable = errors.New("secret store unavailable")
	ErrTimeout     = errors.New("secret store timed out")
	ErrTooBig      = errors.New("secret too large")
	// ErrPassphrase is also wrapped when the encrypted file does not open
	// with the passphrase given.
	ErrPassphrase = errors.New("wrong passphrase")
	// ErrNoPassphrase is also wrapped when the encrypted file backend (in
	// use already) got no passphrase.
	ErrNoPassphrase = errors.New("no passphrase")
	// ErrDenied: the store refused the caller (a Vault token that is
	// missing, expired, or whose policy does not allow the call).
	ErrDenied = errors.New("secret store denied access")
	// ErrConflict: a Swapper's CompareAndSwap found another writer's value.
	ErrConflict = errors.New("secret changed by another writer")
)

// Swapper is a Store that can write an item only if it still holds the
// value the caller read (Vault's check-and-set), so that two writers of a
// rotated refresh token never overwrite the newer one. old is "" for an
// item that must not exist yet. On a mismatch it returns an error wrapping
// ErrConflict and leaves the item as it was.
type Swapper interface {
	Store
	CompareAndSwap(ctx context.Context, connID, kind, old, value string) error
}

// MaxItemBytes is the largest item connctl stores, so that a connection made
// on Linux works on Windows (Credential Manager caps an item at 2,560 bytes).
const MaxItemBytes = 2560

// ItemKey returns "<connID>/<kind>", the name under which every backend files
// an item (the keyring's user, the file store's map key). connID and kind
// must be non-empty and free of control characters, and kind must not contain
// "/", so that a key splits back into one pair only.
func ItemKey(connID, kind string) (string, error) {
	if err := checkKeyPart("connection id", connID); err != nil {
		return "", err
	}
	if err := checkKeyPart("secret kind", kind); err != nil {
		return "", err
	}
	if strings.Contains(kind, "/") {
		return "", fmt.Errorf("invalid secret kind %q: must not contain \"/\"", kind)
	}
	return connID + "/" + kind, nil
}

func checkKeyPart(what, s string) error {
	if s == "" {
		return fmt.Errorf("invalid %s: empty", what)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid %s %q: not valid UTF-8", what, s)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("invalid %s %q: contains a control character", what, s)
	}
	return nil
}

// CheckSize returns an error wrapping ErrTooBig when value is larger than
// MaxItemBytes. The error names the item and both sizes, never the value.
func CheckSize(key, value string) error {
	if len(value) > MaxItemBytes {
		return fmt.Errorf("secret %s is %d bytes, the limit is %d: %w", key, len(value), MaxItemBytes, ErrTooBig)
	}
	return nil
}

// storeError carries its own one-line message and wraps a sentinel (and
// sometimes the underlying cause), so that errors.Is works without the
// sentinel's text being glued onto the message.
type storeError struct {
	msg  string
	hint string
	errs []error
}

func newError(msg string, errs ...error) error { return &storeError{msg: msg, errs: errs} }

// newHintError is newError with the fix, which callers print as a hint.
func newHintError(msg, hint string, errs ...error) error {
	return &storeError{msg: msg, hint: hint, errs: errs}
}

func (e *storeError) Error() string   { return e.msg }
func (e *storeError) Hint() string    { return e.hint }
func (e *storeError) Unwrap() []error { return e.errs }
