// Package set implements `connctl config set`, with the move of every
// secret when secrets.backend changes.
package set

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/config/keyarg"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
)

// Options are the inputs of config set.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (configstore.Config, error)
	// Settings is the local config file, where settings live (nil: Config);
	// setting one never needs the team store.
	Settings func() (configstore.Config, error)
	// Connections and SecretBackend move the secrets (--migrate).
	Connections   func() (*connection.Manager, error)
	SecretBackend func(name string) (secretstore.Store, error)
	// SecretsFile opens the encrypted secrets file with an age key file, or
	// the passphrase for "" (secrets.key_file).
	SecretsFile func(keyFile string) (*secretstore.File, error)

	Key     string
	Value   string
	Migrate bool
}

// NewCmd returns `connctl config set`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: d.Config, Settings: d.Settings, Connections: d.Connections, SecretBackend: d.SecretBackend, SecretsFile: d.SecretsFile}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "set <key> <value>",
		Short: "Change a setting in the config file",
		Long: `Change a setting in the config file.

Changing secrets.backend while connections keep secrets in the old backend
would strand them, so it is refused unless --migrate is given: --migrate
copies every secret into the new backend, reads each back, switches the
setting, and only then deletes the old copies. Any failure before the switch
leaves the old backend in force and nothing deleted.

A value that is a credential by itself (notify.webhook: a Slack webhook URL;
store.url when it holds a password) is never printed whole; give it as "-" to
read it from standard input (or a hidden prompt on a terminal) instead of the
command line, where shell history and other users' ps would see it. A
store.url with a password on the command line is refused.

secrets.key_file encrypts the secrets file (secrets.backend file) to an age
key in a file of its own instead of a passphrase: commands then need no
CONNCTL_PASSPHRASE and skip the passphrase's key derivation (about 0.2 s
each), which suits cron and servers. A key that does not exist is created
(post-quantum, mode 0600); keep a copy of it, as without it the secrets file
cannot be read. A switch that would leave the existing secrets file
unreadable is refused unless --migrate is given: --migrate re-encrypts the
file (under its lock, read back before it replaces the old one). Setting it
to "" goes back to the passphrase.`,
		Example: `  connctl config set limits.support 2
  printf %s "$SLACK_WEBHOOK_URL" | connctl config set notify.webhook -
  printf %s "$TEAM_DB_URL" | connctl config set store.url -
  connctl config set keyring.timeout 30s
  CONNCTL_PASSPHRASE=... connctl config set secrets.backend file --migrate
  CONNCTL_PASSPHRASE=... connctl config set secrets.key_file ~/.config/connctl/secrets.key --migrate
  CONNCTL_PASSPHRASE=... connctl config set secrets.key_file "" --migrate`,
		// The value is taken as is, even when it starts with "-" (a
		// negative number is a bad value, not a flag): flags go before the
		// key, and only --migrate is recognised after it.
		Args:              setArgs,
		ValidArgsFunction: keyarg.Complete,
		RunE: func(c *cobra.Command, args []string) error {
			args, migrateAfter, help := splitSetArgs(args)
			if help {
				return c.Help()
			}
			opts.Key, opts.Value = args[0], args[1]
			opts.Migrate = opts.Migrate || migrateAfter
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Migrate, "migrate", false, "with secrets.backend: move every connection's secrets to the new backend; with secrets.key_file: re-encrypt the secrets file")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	settings := opts.Settings
	if settings == nil || opts.Key == BackendKey {
		settings = opts.Config // switching backends looks at the connections
	}
	cfg, err := settings()
	if err != nil {
		return err
	}
	st, _ := configstore.LookupSetting(opts.Key)
	if opts.Value != "-" && st.ArgvProblem != nil {
		if why := st.ArgvProblem(opts.Value); why != "" {
			return exitcode.UsageError("%s: %s", opts.Key, why)
		}
	}
	if opts.Value == "-" && st.Credential {
		v, err := readValue(opts.IO, opts.Key)
		if err != nil {
			return err
		}
		opts.Value = v
	}
	if _, err := st.Validate(opts.Value); err != nil {
		return exitcode.UsageError("invalid value for %s: %s", opts.Key, err.Error())
	}
	if opts.Key == BackendKey {
		return setBackend(ctx, opts, cfg, opts.Value)
	}
	if opts.Key == KeyFileKey {
		return setKeyFile(ctx, opts, cfg, opts.Value)
	}
	if opts.Migrate {
		return &exitcode.FlagError{Err: fmt.Errorf("--migrate applies only to %s and %s", BackendKey, KeyFileKey)}
	}
	if err := cfg.Set(ctx, opts.Key, opts.Value); err != nil {
		return err
	}
	v, _ := cfg.Get(opts.Key)
	shown, now := opts.Value, v.Value
	if st.Credential {
		shown, now = configstore.Redact(shown), configstore.Redact(now)
	}
	opts.IO.Statusf("%sSet %s to %s", opts.IO.Success(), opts.Key, shown)
	if v.Source == configstore.SourceEnv {
		opts.IO.Warnf("%s is set in the environment and overrides the file (now %s)", v.EnvVar, now)
	}
	return nil
}

// readValue reads a credential setting's value from stdin: a hidden prompt
// on a terminal, else the first line of what is piped in.
func readValue(ios *iostreams.IOStreams, key string) (string, error) {
	var v string
	var err error
	if ios.IsStdinTTY() {
		v, err = ios.PromptSecret(key + ": ")
	} else {
		v, err = ios.Prompt("")
	}
	if err != nil && !errors.Is(err, iostreams.ErrPromptAborted) {
		return "", fmt.Errorf("read %s from stdin: %w", key, err)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", exitcode.UsageError("%s: nothing on stdin: pipe the value in, e.g. printf %%s \"$URL\" | connctl config set %s -", key, key)
	}
	return v, nil
}
