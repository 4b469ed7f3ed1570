package set

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
)

// KeyFileKey is the setting that names the age key the secrets file is
// encrypted to (empty: a passphrase).
const KeyFileKey = "secrets.key_file"

// absKeyPath makes a key file path absolute (a leading ~/ is the home
// folder), so that cron, which starts elsewhere, finds the same file.
func absKeyPath(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if rest, ok := strings.CutPrefix(v, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", exitcode.UsageError("%s: cannot expand ~: %v; give an absolute path", KeyFileKey, err)
		}
		v = filepath.Join(home, rest)
	}
	return filepath.Abs(v)
}

// setKeyFile switches the secrets file between a passphrase and age keys.
// A key that does not exist yet is created. The secrets file, when there is
// one, must open with the new setting: --migrate re-encrypts it (under its
// lock, read back before it replaces the old file); without --migrate a
// switch that would leave it unreadable is refused.
func setKeyFile(ctx context.Context, opts *Options, cfg configstore.Config, value string) error {
	if opts.SecretsFile == nil {
		return fmt.Errorf("%s: no secrets file available", KeyFileKey)
	}
	target, err := absKeyPath(value)
	if err != nil {
		return err
	}
	current := cfg.String(KeyFileKey)
	if target != "" {
		if _, err := os.Stat(target); os.IsNotExist(err) {
			if _, err := secretstore.GenerateKeyFile(target); err != nil {
				return err
			}
			opts.IO.Statusf("%sCreated the age key %s", opts.IO.Success(), target)
			opts.IO.Warnf("keep a copy of %s somewhere safe: without it the secrets file cannot be read", target)
		} else if _, err := secretstore.KeyFilePublic(target); err != nil {
			return connection.SecretStoreError(err)
		}
	}
	to, err := opts.SecretsFile(target)
	if err != nil {
		return err
	}
	rekeyed := false
	switch {
	case opts.Migrate:
		enc, err := secretstore.FileEncryption(to.Path())
		if err != nil {
			return exitcode.UsageError("%v; the file was left untouched", err)
		}
		if enc == secretstore.EncryptedNone {
			break
		}
		// The file's own header says what opens it now, not the setting:
		// a switch cut short (a kill between the file's rename and the
		// config write) leaves them apart, and --migrate mends that too.
		fromKey := current
		if enc == secretstore.EncryptedPassphrase {
			fromKey = ""
		}
		if fromKey == target {
			if err := to.Verify(ctx); err == nil {
				break // it already opens with the new setting
			}
		}
		from, err := opts.SecretsFile(fromKey)
		if err != nil {
			return err
		}
		if err := secretstore.Rekey(ctx, from, to); err != nil {
			return exitcode.WithHint(connection.SecretStoreError(err), fmt.Sprintf("%s is unchanged and the secrets file was left as it was", KeyFileKey))
		}
		rekeyed = true
	case target == current:
		// Nothing changes how the file opens.
	default:
		if err := RefuseKeyFileStranding(ctx, opts.IO, cfg, to, current); err != nil {
			return err
		}
	}
	if err := cfg.Set(ctx, KeyFileKey, target); err != nil {
		if rekeyed {
			return exitcode.WithHint(fmt.Errorf("the secrets file is now encrypted with %s, but %s was not saved: %w", describeKey(target), KeyFileKey, err),
				fmt.Sprintf("save it with `connctl config set %s %s`", KeyFileKey, shellArg(target)))
		}
		return err
	}
	shown := target
	if shown == "" {
		shown = `"" (the passphrase)`
	}
	opts.IO.Statusf("%sSet %s to %s", opts.IO.Success(), KeyFileKey, shown)
	if rekeyed {
		opts.IO.Statusf("%sRe-encrypted %s with %s", opts.IO.Success(), to.Path(), describeKey(target))
	}
	warnEnv(opts.IO, cfg, KeyFileKey)
	return nil
}

// RefuseKeyFileStranding refuses a change of secrets.key_file (from current)
// after which the secrets file in use would no longer open: to is the file
// opened with the new setting. A file that exists but is not in use (another
// secrets.backend) gets a warning instead.
func RefuseKeyFileStranding(ctx context.Context, ios *iostreams.IOStreams, cfg configstore.Config, to *secretstore.File, current string) error {
	enc, err := secretstore.FileEncryption(to.Path())
	if err != nil {
		return exitcode.UsageError("%v; the file was left untouched", err)
	}
	target := to.KeyPath()
	var openErr error
	switch {
	case enc == secretstore.EncryptedNone:
		return nil
	case (enc == secretstore.EncryptedKey) != (target != ""):
		openErr = fmt.Errorf("encrypted the other way")
	default:
		openErr = to.Verify(ctx)
		if errors.Is(openErr, secretstore.ErrNoPassphrase) {
			return connection.SecretStoreError(openErr) // not known to be wrong: asked for nothing
		}
	}
	if openErr == nil {
		return nil
	}
	was := "a passphrase"
	if enc == secretstore.EncryptedKey {
		was = "another age key"
		if current != "" {
			was = "the key in " + current
		}
	}
	if cfg.String(BackendKey) != "file" {
		ios.Warnf("the secrets file %s (not in use: %s is %s) does not open with %s", to.Path(), BackendKey, cfg.String(BackendKey), describeKey(target))
		return nil
	}
	return exitcode.WithHint(
		exitcode.UsageError("the secrets file %s is encrypted with %s: setting %s to %s would leave it unreadable",
			to.Path(), was, KeyFileKey, describeKey(target)),
		fmt.Sprintf("re-encrypt it as you switch with `connctl config set %s %s --migrate`%s", KeyFileKey, shellArg(target), passNote(current, target)))
}

// describeKey names what a key_file value encrypts with.
func describeKey(keyFile string) string {
	if keyFile == "" {
		return "a passphrase"
	}
	return "the key in " + keyFile
}

// passNote reminds that opening or making a passphrase file needs it.
func passNote(from, to string) string {
	if from == "" || to == "" {
		return " (with CONNCTL_PASSPHRASE set, or at a terminal)"
	}
	return ""
}

// shellArg quotes a path for a command line shown to the user, "" for
// the empty value.
func shellArg(s string) string {
	if s == "" {
		return `""`
	}
	return connection.QuoteArg(s)
}
