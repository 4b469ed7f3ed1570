package secretstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"filippo.io/age"

	"github.com/connctl/connctl/internal/atomicfile"
)

// FileWorkFactor is the scrypt work factor (log2 N) File encrypts with.
//
// age's default is 18, about one second per derivation. connctl derives the
// key on every command that touches a secret, and a Set derives it twice
// (decrypt the current file, encrypt the new one), so a cron job calling
// connctl every minute would spend seconds per run in scrypt. 2^15 costs
// about 50-100 ms per derivation on current hardware (32 MiB of memory), which
// keeps a command well under half a second while still making each offline
// guess at the passphrase cost tens of milliseconds. The passphrase, not the
// work factor, is what protects a stolen file: use a long random one.
const FileWorkFactor = 15

// fileMaxWorkFactor caps the work factor File accepts when decrypting, so a
// tampered file cannot make a command spend minutes in scrypt. age's own cap
// is 22 (about 15 s).
const fileMaxWorkFactor = 18

// File is a Store that keeps every secret of every connection in one
// age-encrypted file, for headless servers and cron jobs that have no OS
// keyring. The plaintext is a JSON object mapping "<connID>/<kind>" to the
// secret; it is encrypted to a scrypt recipient derived from a passphrase
// (NewFile) or to an age key kept in a file of its own (NewKeyFile).
//
// The file has mode 0600 and a missing parent directory is created with mode
// 0700. A missing file is an empty store. Writers lock "<path>.lock",
// re-read the file and replace it atomically, so concurrent connctl processes
// do not lose each other's changes. A file that cannot be decrypted or parsed
// is never overwritten.
//
// A File is safe for concurrent use.
type File struct {
	path       string
	passphrase func() (string, error)
	keyPath    string // NewKeyFile: the age key's file, instead of a passphrase
	workFactor int

	writeMu sync.Mutex // serialises this File's writers; the file lock covers other Files and processes

	passMu sync.Mutex
	pass   string   // cached after the first successful passphrase call
	key    *fileKey // cached after the key file is first read

	// The items of the file's last content seen (read or written), by the
	// SHA-256 of its ciphertext: the same bytes decrypt to the same items,
	// so a long-lived process (connctl worker) pays the scrypt once per
	// version of the file, not at every read.
	cacheMu    sync.Mutex
	cacheSum   [sha256.Size]byte
	cacheItems map[string]string
	decrypts   atomic.Int64 // for tests
}

// NewFile returns a Store backed by the encrypted file at path. passphrase is
// called the first time the file must be decrypted or created, and its result
// is cached for the life of the File; a wrong passphrase therefore needs a new
// File to retry.
func NewFile(path string, passphrase func() (string, error)) *File {
	return &File{path: path, passphrase: passphrase, workFactor: FileWorkFactor}
}

// Name returns "file".
func (f *File) Name() string { return "file" }

// Path returns the file's location, for messages such as `connctl show`.
func (f *File) Path() string { return f.path }

// Get returns the secret stored for connID and kind, or an error wrapping
// ErrNotFound or ErrUnavailable.
func (f *File) Get(ctx context.Context, connID, kind string) (string, error) {
	key, err := ItemKey(connID, kind)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// No lock: writers rename a complete file into place, so a reader sees
	// either the old content or the new one.
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", f.notFound(key)
	}
	if err != nil {
		return "", newError(fmt.Sprintf("read secrets file: %v", err), ErrUnavailable, err)
	}
	items, err := f.decrypt(data)
	if err != nil {
		return "", err
	}
	v, ok := items[key]
	if !ok {
		return "", f.notFound(key)
	}
	return v, nil
}

// Set stores value for connID and kind, replacing any earlier value. Values
// larger than MaxItemBytes are refused with ErrTooBig.
func (f *File) Set(ctx context.Context, connID, kind, value string) error {
	key, err := ItemKey(connID, kind)
	if err != nil {
		return err
	}
	if err := CheckSize(key, value); err != nil {
		return err
	}
	return f.update(ctx, func(items map[string]string) error {
		items[key] = value
		return nil
	})
}

// Delete removes the secret for connID and kind. Deleting a missing item
// returns an error wrapping ErrNotFound and leaves the file alone.
func (f *File) Delete(ctx context.Context, connID, kind string) error {
	key, err := ItemKey(connID, kind)
	if err != nil {
		return err
	}
	if _, err := os.Stat(f.path); errors.Is(err, fs.ErrNotExist) {
		return f.notFound(key) // nothing to lock, and no reason to create the directory
	}
	return f.update(ctx, func(items map[string]string) error {
		if _, ok := items[key]; !ok {
			return f.notFound(key)
		}
		delete(items, key)
		return nil
	})
}

func (f *File) notFound(key string) error {
	return newError(fmt.Sprintf("secret %s not found in %s", key, f.path), ErrNotFound)
}

// update applies change to the decrypted items under the file lock and writes
// the result. If the current file cannot be decrypted or parsed, change is not
// called and nothing is written.
func (f *File) update(ctx context.Context, change func(map[string]string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	err := atomicfile.Update(ctx, f.path, func(old []byte, exists bool) ([]byte, error) {
		items := map[string]string{}
		if exists {
			var err error
			if items, err = f.decrypt(old); err != nil {
				return nil, err
			}
		}
		if err := change(items); err != nil {
			return nil, err
		}
		data, err := f.encrypt(items)
		if err == nil {
			f.remember(sha256.Sum256(data), items)
		}
		return data, err
	})
	var se *storeError
	switch {
	case err == nil, errors.As(err, &se):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return newError(fmt.Sprintf("update %s: gave up waiting for the lock", f.path), ErrTimeout, err)
	case ctx.Err() != nil:
		return err
	default:
		// An I/O failure: locking, creating the directory, writing or renaming.
		return newError(fmt.Sprintf("update %s: %v", f.path, err), ErrUnavailable, err)
	}
}

// decrypt decrypts and parses the file content. Errors say what is wrong with
// the file without quoting any of its plaintext.
func (f *File) decrypt(data []byte) (map[string]string, error) {
	sum := sha256.Sum256(data)
	f.cacheMu.Lock()
	if f.cacheItems != nil && sum == f.cacheSum {
		items := maps.Clone(f.cacheItems)
		f.cacheMu.Unlock()
		return items, nil
	}
	f.cacheMu.Unlock()
	items, err := f.decryptNew(data)
	if err == nil {
		f.remember(sum, items)
	}
	return items, err
}

// remember caches items as the content whose ciphertext hashes to sum.
func (f *File) remember(sum [sha256.Size]byte, items map[string]string) {
	f.cacheMu.Lock()
	defer f.cacheMu.Unlock()
	f.cacheSum, f.cacheItems = sum, maps.Clone(items)
}

func (f *File) decryptNew(data []byte) (map[string]string, error) {
	f.decrypts.Add(1)
	var r io.Reader
	var err error
	if f.keyPath != "" {
		k, kerr := f.getKey()
		if kerr != nil {
			return nil, kerr
		}
		r, err = age.Decrypt(bytes.NewReader(data), k.id)
	} else {
		pass, perr := f.getPassphrase()
		if perr != nil {
			return nil, perr
		}
		id, ierr := age.NewScryptIdentity(pass)
		if ierr != nil {
			return nil, newError(fmt.Sprintf("cannot decrypt %s: %v", f.path, ierr), ErrUnavailable)
		}
		id.SetMaxWorkFactor(fileMaxWorkFactor)
		r, err = age.Decrypt(bytes.NewReader(data), id)
		afterScrypt()
	}
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch) && f.keyPath != "" && slices.Contains(noMatch.StanzaTypes, "scrypt"):
		return nil, newHintError(fmt.Sprintf("cannot decrypt %s: it is encrypted with a passphrase, not the key in %s", f.path, f.keyPath),
			"re-encrypt it to the key with `CONNCTL_PASSPHRASE=... connctl config set secrets.key_file "+f.keyPath+" --migrate`, or unset secrets.key_file to use the passphrase",
			ErrUnavailable)
	case errors.As(err, &noMatch) && f.keyPath != "":
		return nil, newHintError(fmt.Sprintf("cannot decrypt %s: it is not encrypted to the key in %s", f.path, f.keyPath),
			"point secrets.key_file (or CONNCTL_SECRETS_KEY_FILE) at the key the file was encrypted to",
			ErrUnavailable)
	case errors.As(err, &noMatch) && !slices.Contains(noMatch.StanzaTypes, "scrypt"):
		return nil, newHintError(fmt.Sprintf("cannot decrypt %s: it is encrypted to an age key, not a passphrase", f.path),
			"set secrets.key_file (or CONNCTL_SECRETS_KEY_FILE) to the key file it was encrypted to",
			ErrUnavailable)
	case errors.As(err, &noMatch):
		return nil, newError(fmt.Sprintf("cannot decrypt %s: wrong passphrase?", f.path), ErrUnavailable, ErrPassphrase)
	case len(data) == 0:
		return nil, f.corrupt("the file is empty")
	case err != nil && strings.HasPrefix(err.Error(), "failed to read header"):
		// age's parse errors quote the file's first bytes, which could be a
		// secret if someone pointed connctl at a plain-text file.
		return nil, f.corrupt("not an age-encrypted file")
	case err != nil:
		return nil, f.corrupt(err.Error()) // a malformed header stanza: no plaintext in it
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, f.corrupt("truncated or tampered with: the content does not authenticate")
	}
	items := map[string]string{}
	// The JSON decoder's errors can quote the plaintext, so they are dropped.
	if err := json.Unmarshal(plain, &items); err != nil {
		return nil, f.corrupt("decrypted content is not a JSON object of strings")
	}
	return items, nil
}

// afterScrypt gives back to the system the 32 MiB that scrypt (at
// FileWorkFactor) has just used and dropped. Left to the collector, that
// memory set the heap goal of the rest of the command: a long job run grew
// into it (a 1,000,000-record run peaked at 91 MiB, a 100,000-record one,
// collected less often, at 68 MiB). A collection of the small heap left
// takes about a millisecond, against scrypt's 200.
func afterScrypt() { debug.FreeOSMemory() }

func (f *File) corrupt(why string) error {
	return newError(fmt.Sprintf("cannot read %s: not a valid connctl secrets file (%s); the file was left untouched",
		f.path, shortCause(why, "")), ErrUnavailable)
}

// encrypt serialises and encrypts items.
func (f *File) encrypt(items map[string]string) ([]byte, error) {
	rcpt, err := f.recipient()
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(items)
	if err != nil {
		return nil, err // unreachable for a map of strings
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rcpt)
	if f.keyPath == "" {
		afterScrypt()
	}
	if err != nil {
		return nil, newError(fmt.Sprintf("cannot encrypt %s: %v", f.path, err), ErrUnavailable)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// recipient is what the file is encrypted to: the key's public half, or a
// scrypt recipient of the passphrase.
func (f *File) recipient() (age.Recipient, error) {
	if f.keyPath != "" {
		k, err := f.getKey()
		if err != nil {
			return nil, err
		}
		return k.rcpt, nil
	}
	pass, err := f.getPassphrase()
	if err != nil {
		return nil, err
	}
	rcpt, err := age.NewScryptRecipient(pass)
	if err != nil {
		return nil, newError(fmt.Sprintf("cannot encrypt %s: %v", f.path, err), ErrUnavailable)
	}
	rcpt.SetWorkFactor(f.workFactor)
	return rcpt, nil
}

// getPassphrase returns the passphrase, asking for it on first use only.
// Concurrent first uses wait for one call rather than prompting twice.
func (f *File) getPassphrase() (string, error) {
	f.passMu.Lock()
	defer f.passMu.Unlock()
	if f.pass != "" {
		return f.pass, nil
	}
	if f.passphrase == nil {
		return "", newError(fmt.Sprintf("no passphrase for %s", f.path), ErrUnavailable, ErrNoPassphrase)
	}
	p, err := f.passphrase()
	if err != nil {
		return "", newError(fmt.Sprintf("passphrase for %s: %v", f.path, err), ErrUnavailable, ErrNoPassphrase, err)
	}
	if p == "" {
		return "", newError(fmt.Sprintf("empty passphrase for %s", f.path), ErrUnavailable, ErrNoPassphrase)
	}
	f.pass = p
	return p, nil
}
