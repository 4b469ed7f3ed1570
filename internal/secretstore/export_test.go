package secretstore

import "time"

// Test-only access for the external tests in package secretstore_test.

// KeyringBackend is keyringBackend, for fakes in tests.
type KeyringBackend = keyringBackend

// NewKeyringWith is newKeyringWith.
func NewKeyringWith(backend KeyringBackend, timeout time.Duration) *Keyring {
	return newKeyringWith(backend, timeout)
}

// KeyringTimeout returns k's timeout.
func KeyringTimeout(k *Keyring) time.Duration { return k.timeout }

// SetWorkFactor makes f encrypt with a cheaper scrypt work factor, so tests
// under -race do not spend seconds per write.
func SetWorkFactor(f *File, logN int) { f.workFactor = logN }

// Decrypts returns how many times f has run scrypt to decrypt its file.
func Decrypts(f *File) int64 { return f.decrypts.Load() }
