// Package export implements `connctl team export`: the team store's
// connections and jobs (and, with --secrets, their secrets) back into a
// local config file.
package export

import (
	"context"
	"errors"
	"fmt"
	"github.com/connctl/connctl/internal/textsafe"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/commands/team/storearg"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/team"
)

// Options are the inputs of team export.
type Options struct {
	IO *iostreams.IOStreams
	// Local is this machine's config file (settings, and the default
	// destination).
	Local func() (*configstore.Store, error)
	// OpenFile opens another config file (--file).
	OpenFile func(path string) (*configstore.Store, error)
	// SecretBackend opens a secrets backend by name (the team's, and the
	// local one --secrets copies into).
	SecretBackend func(name string) (secretstore.Store, error)
	OpenStore     func(ctx context.Context, url string) (*pgstore.DB, error)
	// Checkpoints opens (creating it) this machine's activity log.
	Checkpoints func() (*activitylog.Store, error)

	Store   string // --store; "" is store.url
	Secrets bool
	File    string
}

// NewCmd returns `connctl team export`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{
		IO: d.IO, Local: d.LocalConfig, SecretBackend: d.SecretBackend, OpenStore: d.OpenTeamStore,
		OpenFile:    func(p string) (*configstore.Store, error) { return configstore.Open(p, d.Getenv) },
		Checkpoints: func() (*activitylog.Store, error) { return d.LocalActivities(true) },
	}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "export [--secrets] [--file FILE] [--store URL|-]",
		Short: "Bring the team store's connections and jobs back into a local config file",
		Long: `Bring the team store's connection and job definitions back into this machine's
config file, with the jobs' checkpoints, and switch this machine back to it
(store.url unset in the same write): the way out of a team store. The team
store itself is not changed.

Connections and jobs the file already holds under the same id are replaced by
the team's (newer) ones; one of the same name but another id is a clash:
refused, listed, nothing written.

Secrets are copied only with --secrets: from Vault (or wherever the team
keeps them) into this machine's keyring (or the encrypted file, when
secrets.backend is file), and secrets.backend is set to it. Without --secrets
the connections record that their secrets are still in Vault: they keep
working while secrets.backend is vault; otherwise they need their secrets
again (` + "`connctl reauthorize NAME`" + `, or export again with --secrets).

--file FILE writes into another config file instead, and switches nothing (a
copy, e.g. before leaving a team). The team store is store.url (or
CONNCTL_STORE_URL), or --store URL (- reads it from stdin).`,
		Example: `  connctl team export --secrets            # leave the team, secrets into the keyring
  connctl team export                      # definitions only; secrets stay in Vault
  connctl team export --file team-backup.yaml
  printf %s "$DATABASE_URL" | connctl team export --store - --file team.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Secrets, "secrets", false, "copy the secrets too, into this machine's keyring (or encrypted file)")
	cmd.Flags().StringVar(&opts.File, "file", "", "write into this config `file` instead of this machine's, switching nothing")
	cmd.Flags().StringVar(&opts.Store, "store", "", "the team store's PostgreSQL `URL`, or - to read it from stdin (default: store.url)")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	local, err := opts.Local()
	if err != nil {
		return err
	}
	url := local.String("store.url")
	if opts.Store != "" {
		if url, err = storearg.Resolve(opts.IO, opts.Store, "team export"); err != nil {
			return err
		}
	}
	if url == "" {
		return exitcode.WithHint(exitcode.UsageError("this machine uses no team store (store.url is not set)"),
			"give it with --store URL, or --store - to read it from stdin")
	}
	db, err := opts.OpenStore(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	defs, err := db.Definitions(ctx)
	if err != nil {
		return err
	}
	site := pgstore.Site(url)
	shared := team.Shared{Where: "the team store " + site, Defs: defs, Checkpoints: db.Log()}

	teamBackend := local.String("secrets.backend")
	eo := team.ExportOptions{Open: opts.SecretBackend, TeamBackend: teamBackend}
	var into *configstore.Store
	if opts.File != "" {
		p, err := filepath.Abs(opts.File)
		if err != nil {
			return err
		}
		if into, err = opts.OpenFile(p); err != nil {
			return err
		}
	} else {
		into = local
		log, err := opts.Checkpoints()
		if err != nil {
			return err
		}
		defer func() { _ = log.Close() }()
		eo.Checkpoints = log
	}
	eo.Into, eo.Where = into, into.Path()
	target := ""
	if opts.Secrets {
		target = "keyring"
		if teamBackend == "file" {
			target = "file"
		}
		st, err := opts.SecretBackend(target)
		if err != nil {
			return connection.SecretStoreError(err)
		}
		eo.Secrets = st
	}
	if opts.File == "" {
		eo.Settings = func(d *configstore.Document) error {
			if err := configstore.UnsetIn(d, "store.url"); err != nil {
				return err
			}
			if target != "" {
				return configstore.SetIn(d, "secrets.backend", target)
			}
			return nil
		}
	}

	res, err := team.Export(ctx, shared, eo)
	if err != nil {
		var ce *team.ClashError
		var me *team.MissingSecretsError
		switch {
		case errors.As(err, &ce):
			return exitcode.WithHint(exitcode.New(exitcode.Failure, "%s", err.Error()),
				"rename or delete them in "+into.Path()+" (or export into another file with --file), then run `connctl team export` again")
		case errors.As(err, &me):
			return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "%s", err.Error()),
				"re-authorize them in the team first (`connctl reauthorize NAME`), or export without --secrets")
		case errors.Is(err, secretstore.ErrUnavailable) || errors.Is(err, secretstore.ErrDenied) || errors.Is(err, secretstore.ErrTimeout):
			return connection.SecretStoreError(err)
		}
		return err
	}

	ios := opts.IO
	ios.Statusf("%sExported from the team store %s into %s: %s and %s%s", ios.Success(), site, into.Path(),
		count(res.Connections.Copied+res.Connections.Present, "connection"), count(res.Jobs.Copied+res.Jobs.Present, "job"),
		unchanged(res.Connections.Present+res.Jobs.Present))
	if res.Checkpoints > 0 {
		ios.Statusf("%sCopied %s into this machine's activity log", ios.Success(), count(res.Checkpoints, "checkpoint"))
	}
	if opts.Secrets {
		ios.Statusf("%sCopied %s into %s", ios.Success(), count(res.Secrets, "secret"), connection.BackendLabel(target))
	} else if len(res.WithoutSecrets) > 0 {
		ios.Warnf("secrets not exported (no --secrets): %s keep theirs where the team keeps them (%s); they work while secrets.backend stays there, else they need their secrets again: export with --secrets, or `connctl reauthorize NAME`",
			textsafe.List(quoted(res.WithoutSecrets), ", "), backends(defs.Document(), teamBackend))
	}
	if opts.File == "" {
		ios.Statusf("%sThis machine now uses %s again (store.url unset); the team store is unchanged", ios.Success(), into.Path())
		if v, _ := local.Get("store.url"); v.Source == configstore.SourceEnv {
			ios.Warnf("%s is set in the environment and still points at the team store: unset it to use the local file", v.EnvVar)
		}
	}
	return nil
}

// backends names where the team's connections keep their secrets.
func backends(d *configstore.Document, current string) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range d.Connections {
		if len(c.Secrets) == 0 {
			continue
		}
		b := c.SecretBackend
		if b == "" {
			b = current
		}
		if !seen[b] {
			seen[b] = true
			out = append(out, connection.BackendLabel(b))
		}
	}
	return strings.Join(out, ", ")
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func unchanged(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d of them already there, unchanged)", n)
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}
