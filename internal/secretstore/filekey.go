package secretstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/connctl/connctl/internal/atomicfile"
)

// A secrets file is encrypted either to a passphrase (an age scrypt
// recipient: every command that opens it derives the key with scrypt, about
// 0.1-0.2 s and 32 MiB) or to an age key, a random private key kept in a
// file of its own (secrets.key_file). A random key needs no stretching, so a
// command opens the file in well under a millisecond: that is the mode for
// cron and servers, where the passphrase would sit in the environment anyway.
//
// The key file is what age-keygen writes: comment lines and one
// AGE-SECRET-KEY-1… (X25519) or AGE-SECRET-KEY-PQ-1… (ML-KEM-768 + X25519,
// post-quantum) line. connctl creates the post-quantum kind.

// Encryption names of FileEncryption.
const (
	EncryptedNone       = ""           // no secrets file yet
	EncryptedPassphrase = "passphrase" // an age scrypt recipient
	EncryptedKey        = "key"        // an age X25519 or hybrid recipient
)

// maxKeyFileBytes bounds what connctl reads as a key file: one key is about
// 2.5 KiB (post-quantum) with age-keygen's comments.
const maxKeyFileBytes = 64 << 10

// NewKeyFile returns a Store backed by the encrypted file at path, encrypted
// to the age key in the file keyPath instead of a passphrase. The key is read
// the first time the file must be opened, and refused if other users could
// read it.
func NewKeyFile(path, keyPath string) *File {
	return &File{path: path, keyPath: keyPath, workFactor: FileWorkFactor}
}

// KeyPath returns the key file a File opened with NewKeyFile uses ("" for a
// passphrase File).
func (f *File) KeyPath() string { return f.keyPath }

// fileKey is a parsed key file.
type fileKey struct {
	id     age.Identity
	rcpt   age.Recipient
	public string // the recipient, age1…, for messages
}

// getKey reads and parses the key file on first use.
func (f *File) getKey() (*fileKey, error) {
	f.passMu.Lock()
	defer f.passMu.Unlock()
	if f.key != nil {
		return f.key, nil
	}
	k, err := readKeyFile(f.keyPath)
	if err != nil {
		return nil, err
	}
	f.key = k
	return k, nil
}

// KeyFilePublic returns the public key (age1…) of the age key at path, with
// the same checks as opening the secrets file with it.
func KeyFilePublic(path string) (string, error) {
	k, err := readKeyFile(path)
	if err != nil {
		return "", err
	}
	return k.public, nil
}

// readKeyFile reads the age key at path. It refuses a key that other users
// could read (as ssh refuses such a private key) and never quotes the file's
// content in an error.
func readKeyFile(path string) (*fileKey, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, newHintError(fmt.Sprintf("key file %s does not exist", path),
			"create it (and re-encrypt the secrets file to it) with `connctl config set secrets.key_file "+path+" --migrate`, or point secrets.key_file at the key the file was encrypted to",
			ErrUnavailable)
	}
	if err != nil {
		return nil, newError(fmt.Sprintf("read key file: %v", err), ErrUnavailable, err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, newError(fmt.Sprintf("read key file: %v", err), ErrUnavailable, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, newError(fmt.Sprintf("key file %s is not a regular file", path), ErrUnavailable)
	}
	if m := fi.Mode().Perm(); runtime.GOOS != "windows" && m&0o077 != 0 {
		return nil, newHintError(fmt.Sprintf("key file %s is accessible by other users (mode %04o)", path, m),
			"run `chmod 600 "+path+"`: anyone who can read the key can read every secret", ErrUnavailable)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyFileBytes+1))
	if err != nil {
		return nil, newError(fmt.Sprintf("read key file: %v", err), ErrUnavailable, err)
	}
	bad := func(why string) error {
		return newHintError(fmt.Sprintf("key file %s is not an age key (%s)", path, why),
			"it must hold one AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1… line, as connctl and age-keygen write it", ErrUnavailable)
	}
	if len(data) > maxKeyFileBytes {
		return nil, bad("larger than 64 KiB")
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// age's errors may quote a byte of a malformed key ("s[1]=111"):
		// only the line number is kept.
		var line int
		if _, serr := fmt.Sscanf(err.Error(), "error at line %d:", &line); serr == nil {
			return nil, bad(fmt.Sprintf("line %d is not a valid key", line))
		}
		if strings.Contains(err.Error(), "no identities") {
			return nil, bad("it holds no key")
		}
		return nil, bad("it cannot be parsed")
	}
	if len(ids) != 1 {
		return nil, bad(fmt.Sprintf("it holds %d keys, connctl wants one", len(ids)))
	}
	k := &fileKey{id: ids[0]}
	switch id := ids[0].(type) {
	case *age.HybridIdentity:
		r := id.Recipient()
		k.rcpt, k.public = r, r.String()
	case *age.X25519Identity:
		r := id.Recipient()
		k.rcpt, k.public = r, r.String()
	default:
		return nil, bad("an unsupported kind of key")
	}
	return k, nil
}

// GenerateKeyFile creates a new post-quantum age key at path (mode 0600, in
// a folder created with mode 0700) and returns its public key. It never
// replaces an existing file: the key appears whole or not at all.
func GenerateKeyFile(path string) (public string, err error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return "", err
	}
	public = id.Recipient().String()
	content := fmt.Sprintf("# connctl secrets key, created %s\n# public key: %s\n# Keep a copy somewhere safe: without it the secrets file cannot be read.\n%s\n",
		time.Now().UTC().Format(time.RFC3339), public, id)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create key file: %w", err)
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(nonce[:]))
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp) //nolint:errcheck // gone after the link, or a leftover of a failure
	if _, err := fh.WriteString(content); err != nil {
		fh.Close() //nolint:errcheck // already failing
		return "", fmt.Errorf("write key file: %w", err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close() //nolint:errcheck // already failing
		return "", fmt.Errorf("write key file: %w", err)
	}
	if err := fh.Close(); err != nil {
		return "", fmt.Errorf("write key file: %w", err)
	}
	// A hard link fails when path exists: an exclusive, atomic create.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("key file %s already exists: connctl never replaces a key", path)
		}
		return "", fmt.Errorf("create key file: %w", err)
	}
	_ = atomicfile.SyncDir(dir) // best effort: the key is in place either way
	return public, nil
}

// FileEncryption tells how the secrets file at path is encrypted, from its
// age header, without decrypting it: EncryptedNone when there is no file,
// EncryptedPassphrase or EncryptedKey.
func FileEncryption(path string) (string, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return EncryptedNone, nil
	}
	if err != nil {
		return "", err
	}
	defer fh.Close()
	sc := bufio.NewScanner(io.LimitReader(fh, 64<<10))
	if !sc.Scan() || sc.Text() != "age-encryption.org/v1" {
		return "", fmt.Errorf("%s is not an age-encrypted file", path)
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "---") {
			break
		}
		if typ, ok := strings.CutPrefix(line, "-> "); ok {
			if strings.HasPrefix(typ, "scrypt ") {
				return EncryptedPassphrase, nil
			}
			return EncryptedKey, nil
		}
	}
	return "", fmt.Errorf("%s has no recipient in its age header", path)
}

// Rekey re-encrypts the secrets file from's credentials open to the
// credentials of to (both at the same path): from a passphrase to a key, a
// key to another key, or back. It works under the file's lock, checks that
// the new content opens with to's credentials and holds the same secrets,
// and only then replaces the file; any failure leaves the file as it was. A
// missing file is nothing to do.
func Rekey(ctx context.Context, from, to *File) error {
	if from.path != to.path {
		return fmt.Errorf("rekey: %s and %s are different files", from.path, to.path)
	}
	to.writeMu.Lock()
	defer to.writeMu.Unlock()
	var items map[string]string
	err := atomicfile.Update(ctx, to.path, func(old []byte, exists bool) ([]byte, error) {
		if !exists {
			return nil, nil
		}
		var err error
		if items, err = from.decrypt(old); err != nil {
			return nil, err
		}
		data, err := to.encrypt(items)
		if err != nil {
			return nil, err
		}
		back, err := to.decryptNew(data)
		if err != nil || !maps.Equal(back, items) {
			return nil, fmt.Errorf("rekey %s: the re-encrypted file did not read back the same; the file was left untouched", to.path)
		}
		return data, nil
	})
	if err != nil {
		var se *storeError
		if errors.As(err, &se) || ctx.Err() != nil {
			return err
		}
		return newError(fmt.Sprintf("rekey %s: %v", to.path, err), ErrUnavailable, err)
	}
	return nil
}

// Verify opens the file with f's credentials: nil when it decrypts (or
// does not exist), else the error a Get would return.
func (f *File) Verify(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return newError(fmt.Sprintf("read secrets file: %v", err), ErrUnavailable, err)
	}
	_, err = f.decrypt(data)
	return err
}
