package set

import (
	"context"
	"fmt"
	"github.com/connctl/connctl/internal/textsafe"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/config/keyarg"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// BackendKey is the setting that chooses the secret store.
const BackendKey = "secrets.backend"

// setArgs checks `config set`'s arguments: a known key, a value (which may
// start with "-"), and after them only flags. Flag parsing stopped at the
// key (so that a value such as -1 is not read as a flag); the flags after
// the value are parsed here, which cobra does before the persistent
// pre-run that applies --config and --quiet.
func setArgs(c *cobra.Command, args []string) error {
	pos, _, help := splitSetArgs(args)
	if help {
		return nil
	}
	if len(args) > 2 {
		if err := c.Flags().Parse(args[2:]); err != nil {
			return &exitcode.FlagError{Err: err}
		}
		if rest := c.Flags().Args(); len(rest) > 0 {
			return &exitcode.FlagError{Err: fmt.Errorf("unexpected %q after the value: `config set` takes one key and one value", rest[0])}
		}
	}
	switch len(pos) {
	case 0:
		return &exitcode.FlagError{Err: fmt.Errorf("missing <key> and <value>: usage: %s <key> <value>", c.CommandPath())}
	case 1:
		if err := keyarg.Known(pos[0]); err != nil {
			return err
		}
		return &exitcode.FlagError{Err: fmt.Errorf("missing <value> for %s: usage: %s %s <value>", pos[0], c.CommandPath(), pos[0])}
	}
	return keyarg.Known(pos[0])
}

// splitSetArgs separates the key and value from a trailing --migrate (or a
// --help) that flag parsing left in the arguments because it stops at the
// key. The first two arguments are always the key and the value.
func splitSetArgs(args []string) (pos []string, migrate, help bool) {
	for i, a := range args {
		if i < 2 {
			pos = append(pos, a)
			continue
		}
		switch a {
		case "--migrate", "--migrate=true":
			migrate = true
		case "-h", "--help":
			help = true
		}
	}
	return pos, migrate, help
}

// RefuseStranding refuses a switch of secrets.backend to target while
// connections keep secrets elsewhere, naming the command that moves them.
func RefuseStranding(cfg configstore.Config, target string) error {
	held := connection.Held(cfg.Document(), cfg.String(BackendKey), target)
	if len(held) == 0 {
		return nil
	}
	return exitcode.WithHint(
		exitcode.UsageError("%d connection(s) keep their secrets elsewhere (%s): switching %s to %s would leave them unreadable",
			len(held), connection.Names(held), BackendKey, target),
		fmt.Sprintf("move them with `connctl config set %s %s --migrate` (copies, verifies, switches, then removes the old copies)", BackendKey, target))
}

// setBackend switches secrets.backend, moving the secrets when asked.
func setBackend(ctx context.Context, opts *Options, cfg configstore.Config, target string) error {
	if !opts.Migrate {
		if err := RefuseStranding(cfg, target); err != nil {
			return err
		}
		if err := cfg.Set(ctx, BackendKey, target); err != nil {
			return err
		}
		opts.IO.Statusf("%sSet %s to %s", opts.IO.Success(), BackendKey, target)
		warnEnv(opts.IO, cfg, BackendKey)
		return nil
	}
	mg, err := opts.Connections()
	if err != nil {
		return err
	}
	res, err := mg.MigrateSecrets(ctx, opts.SecretBackend, target)
	if err != nil {
		return exitcode.WithHint(err, fmt.Sprintf("%s is unchanged and no secret was removed", BackendKey))
	}
	if len(res.Moved) == 0 {
		opts.IO.Statusf("%sSet %s to %s (no secrets to move)", opts.IO.Success(), BackendKey, target)
	} else {
		opts.IO.Statusf("%sMoved %d secret(s) of %d connection(s) to %s; %s is now %s", opts.IO.Success(), res.Items, len(res.Moved),
			connection.BackendLabel(target), BackendKey, target)
	}
	if len(res.LeftBehind) > 0 {
		opts.IO.Warnf("could not remove the old copies of %s (connctl no longer uses them; remove them by hand)", textsafe.List(res.LeftBehind, ", "))
	}
	warnEnv(opts.IO, cfg, BackendKey)
	return nil
}

// warnEnv warns that the environment overrides the setting key just
// written to the file.
func warnEnv(ios *iostreams.IOStreams, cfg configstore.Config, key string) {
	st, _ := configstore.LookupSetting(key)
	if v, _ := cfg.Get(key); v.Source == configstore.SourceEnv {
		ios.Warnf("%s is set in the environment and overrides the file (now %s)", st.EnvName(), v.Value)
	}
}
