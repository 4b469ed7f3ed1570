package connection

import (
	"context"
	"errors"
	"fmt"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/secretstore"
)

// errBackendMoved is wrapped (with secretstore.ErrNotFound) when a
// connection's secrets were stored in another backend than the one in force.
var errBackendMoved = errors.New("stored in another secrets backend")

// BackendLabel names a secrets backend in a sentence ("the keyring").
func BackendLabel(name string) string {
	switch name {
	case "keyring":
		return "the keyring"
	case "file":
		return "the encrypted secrets file"
	case "vault":
		return "Vault"
	case "":
		return "the secret store"
	}
	return "the " + name + " secret store"
}

// Stranded reports whether c has secrets recorded in a backend other than
// current (the secrets.backend in force): they cannot be read until the
// setting is switched back or the secrets are moved. It reads only the
// config, so list can use it.
func Stranded(c *configstore.Connection, current string) bool {
	return len(c.Secrets) > 0 && c.SecretBackend != "" && current != "" && c.SecretBackend != current
}

// SecretMissing records that the secret kind of c was not found in the
// secret store (status needs_reauthorization, reason secret_missing) and
// returns the exit-4 error that says so: a missing secret is never reported
// as the provider's rejection. readErr is the error Secret returned.
func (mg *Manager) SecretMissing(ctx context.Context, c *configstore.Connection, kind string, readErr error) error {
	_, _ = mg.setStatus(ctx, c, configstore.StatusNeedsReauthorization, func(n *configstore.Connection) {
		n.StatusReason = configstore.ReasonSecretMissing
	})
	return mg.MissingSecret(c, kind, readErr)
}

// MissingSecret is SecretMissing's error without the status change, for
// callers such as authorize that are about to store new credentials.
func (mg *Manager) MissingSecret(c *configstore.Connection, kind string, readErr error) error {
	current := mg.Config.String("secrets.backend")
	if st, err := mg.Secrets(); err == nil {
		current = st.Name()
	}
	return MissingSecretError(c, kind, current, errors.Is(readErr, errBackendMoved))
}

// MissingSecretError is the exit-4 error for a secret of c not found in the
// backend current. moved says the config records it in another backend.
func MissingSecretError(c *configstore.Connection, kind, current string, moved bool) error {
	q := quoteArg(c.Name)
	what := fmt.Sprintf("secret for %q (%s)", c.Name, kind)
	if kind == "" {
		what = fmt.Sprintf("secret for %q", c.Name)
	}
	if moved {
		return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "%s not found in %s: it was stored in %s before secrets.backend was changed",
			what, BackendLabel(current), BackendLabel(c.SecretBackend)),
			fmt.Sprintf("move every connection's secrets with `connctl config set secrets.backend %s --migrate`, or switch back with `connctl config set secrets.backend %s`", current, c.SecretBackend))
	}
	return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "%s not found in %s; was secrets.backend changed?", what, BackendLabel(current)),
		"if it was, switch it back (`connctl config get secrets.backend` shows it); otherwise store the secret again with `connctl reauthorize "+q+"`")
}

// secretFound clears a secret_missing mark once the secret is readable
// again (the backend was switched back): nothing was ever rejected.
func (mg *Manager) secretFound(ctx context.Context, c *configstore.Connection) {
	if c.Status != configstore.StatusNeedsReauthorization || c.StatusReason != configstore.ReasonSecretMissing {
		return
	}
	if n, err := mg.setStatus(ctx, c, configstore.StatusAuthorized, nil); err == nil {
		*c = *n
	}
}

// checkBackend refuses to read c's secrets from st when the config records
// them in another backend: a stale copy there must not be used.
func checkBackend(c *configstore.Connection, st secretstore.Store) error {
	if c.SecretBackend != "" && c.SecretBackend != st.Name() {
		return fmt.Errorf("%w: %w", secretstore.ErrNotFound, errBackendMoved)
	}
	return nil
}
