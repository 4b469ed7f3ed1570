// Package delete implements `connctl delete`.
package delete

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jobs"
)

// Options are the inputs of delete.
type Options struct {
	IO          *iostreams.IOStreams
	Connections func() (*connection.Manager, error)
	// Jobs deletes the jobs --cascade takes with the connection.
	Jobs func() (*jobs.Manager, error)
	// Authz revokes OAuth grants at the provider (unless --keep-remote).
	Authz func() (*authorization.Service, error)
	// ActivitiesIfAny opens the activity log if there is one (nil if not),
	// to drop the checkpoints of deleted jobs.
	ActivitiesIfAny func() (activitylog.Log, error)

	Names       []string
	Yes         bool
	Cascade     bool
	KeepSecrets bool
	KeepRemote  bool
}

// NewCmd returns `connctl delete`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(d)
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:     "delete <name>... [--cascade] [--yes]",
		Aliases: []string{"rm"},
		Short:   "Delete connections and their secrets",
		Long: `Delete one or more connections: an OAuth grant is revoked at the provider
first (unless --keep-remote), the definition is removed from the config, then
its secrets from the keyring. If the config cannot be written nothing is
deleted; if the keyring cannot be reached nothing is deleted either (no secret
is left orphaned) unless --keep-secrets is given.

A connection that jobs use is not deleted unless --cascade, which deletes
those jobs too (their activities stay). Every name and every job is checked
before anything is asked or deleted.

On a terminal, delete lists what it will delete and asks for confirmation;
answering no deletes nothing (exit 1). Otherwise it needs --yes (exit 2
without it). When one of several connections cannot be deleted, the others
still are and the exit code is 3.`,
		Example: `  connctl delete support
  connctl delete support archive --yes
  connctl delete jira-cloud --cascade      # and its jobs (e.g. from --default-jobs)`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Names = args
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&opts.Cascade, "cascade", false, "also delete the jobs that use the connections")
	cmd.Flags().BoolVar(&opts.KeepRemote, "keep-remote", false, "do not revoke an OAuth grant at the provider first")
	cmd.Flags().BoolVar(&opts.KeepSecrets, "keep-secrets", false, "remove only the definition, leaving its secrets in the store (when the keyring is unreachable)")
	return cmd
}

// newOptions returns delete's Options with d's services and no flags set.
func newOptions(d *deps.Deps) *Options {
	return &Options{IO: d.IO, Connections: d.Connections, Jobs: d.Jobs, Authz: d.Authz, ActivitiesIfAny: d.ActivitiesIfAny}
}

// target is one connection to delete and the jobs that use it.
type target struct {
	conn *configstore.Connection
	jobs []string
}

func run(ctx context.Context, opts *Options) error {
	ios := opts.IO
	mgr, err := opts.Connections()
	if err != nil {
		return err
	}
	// Every check before the question: unknown names, then jobs.
	doc := mgr.Config.Document()
	var targets []target
	seen := map[string]bool{}
	for _, name := range opts.Names {
		c, ok := mgr.Config.Find(name)
		if !ok {
			return connection.NotFound(name)
		}
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		targets = append(targets, target{conn: c, jobs: jobs.JobsOf(doc, c.ID)})
	}
	for _, t := range targets {
		if len(t.jobs) > 0 && !opts.Cascade {
			q := connection.QuoteArg(t.conn.Name)
			return exitcode.WithHint(exitcode.UsageError("connection %q is used by job(s) %s", t.conn.Name, strings.Join(t.jobs, ", ")),
				fmt.Sprintf("delete them with it: `connctl delete %s --cascade`, or first `connctl jobs delete %s`", q, strings.Join(t.jobs, " ")))
		}
	}
	if !opts.Yes {
		if !ios.CanPrompt() {
			return exitcode.UsageError("not running interactively; pass --yes to delete %s", describe(targets))
		}
		ok, err := ios.Confirm("Delete " + describe(targets) + "?")
		if err != nil {
			return err
		}
		if !ok {
			return exitcode.New(exitcode.Failure, "nothing deleted")
		}
	}
	var failed []string
	for _, t := range targets {
		if err := deleteOne(ctx, opts, mgr, t); err != nil {
			if len(targets) == 1 {
				return err
			}
			ios.Warnf("%s: %v", t.conn.Name, err)
			for _, h := range exitcode.Hints(err) {
				fmt.Fprintf(ios.ErrOut, "hint: %s\n", h)
			}
			failed = append(failed, t.conn.Name)
		}
	}
	if len(failed) > 0 {
		return exitcode.New(exitcode.Partial, "%d of %d connections not deleted: %s", len(failed), len(targets), strings.Join(failed, ", "))
	}
	return nil
}

// describe names what will be deleted, for the question: the connections
// with their connectors, and the jobs --cascade deletes with them.
func describe(targets []target) string {
	var conns, js []string
	for _, t := range targets {
		conns = append(conns, fmt.Sprintf("%s (%s)", t.conn.Name, t.conn.Connector))
		js = append(js, t.jobs...)
	}
	s := "connection " + conns[0]
	if len(conns) > 1 {
		s = fmt.Sprintf("%d connections %s", len(conns), strings.Join(conns, ", "))
	}
	s += " with their secrets"
	if len(js) > 0 {
		s += fmt.Sprintf(", and job(s) %s", strings.Join(js, ", "))
	}
	return s
}

func deleteOne(ctx context.Context, opts *Options, mgr *connection.Manager, t target) error {
	ios := opts.IO
	c := t.conn
	if len(t.jobs) > 0 {
		// The jobs go first, so make sure the connection can follow: a
		// secret store that is down refuses the whole delete, before
		// anything changes.
		if !opts.KeepSecrets {
			if err := mgr.ProbeSecrets(ctx, c); err != nil {
				return exitcode.WithHint(err, "nothing was deleted; to remove only the definitions and leave the secrets in the secret store, pass --keep-secrets")
			}
		}
		jm, err := opts.Jobs()
		if err != nil {
			return err
		}
		for _, name := range t.jobs {
			j, err := jm.Delete(ctx, name)
			if err != nil {
				return err
			}
			if store, err := opts.ActivitiesIfAny(); err == nil && store != nil {
				_ = store.DeleteCheckpoint(ctx, j.ID)
			}
			ios.Statusf("%sDeleted job %s", ios.Success(), j.Name)
		}
	}
	if !opts.KeepRemote && !opts.KeepSecrets {
		svc, err := opts.Authz()
		if err != nil {
			return err
		}
		if svc.IsOAuth(c) && len(c.Secrets) > 0 {
			rep, err := svc.Revoke(ctx, c.Name)
			if err != nil {
				return exitcode.WithHint(err, "the connection was not deleted; delete it anyway with --keep-remote")
			}
			ios.Statusf("%s: %s", rep.Name, rep.Remote)
		}
	}
	deleted, err := mgr.Delete(ctx, c.Name, opts.KeepSecrets)
	if err != nil {
		return err
	}
	ios.Statusf("%sDeleted connection %s", ios.Success(), deleted.Name)
	if opts.KeepSecrets && len(deleted.Secrets) > 0 {
		ios.Warnf("its secrets stay in the secret store under service %q, user %s/<kind>", "connctl", deleted.ID)
	}
	return nil
}
