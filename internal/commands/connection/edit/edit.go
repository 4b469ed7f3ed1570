// Package edit implements `connctl edit`.
package edit

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connection/credcheck"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/commands/secretflags"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/keycheck"
)

// Options are the inputs of edit.
type Options struct {
	IO          *iostreams.IOStreams
	Getenv      func(string) string // for --secret-env
	Connections func() (*connection.Manager, error)
	Catalog     func() *connector.Catalogue
	// Creds checks a new key-based secret with the provider before it is
	// saved, and records the outcome.
	Creds *credcheck.Checker

	Name   string
	Set    []string
	Unset  []string
	Rename string
	Secret *secretflags.Flags
	Export jsonexport.Exporter

	NoVerify bool
}

// NewCmd returns `connctl edit`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Getenv: d.Getenv, Connections: d.Connections, Catalog: d.Catalog, Creds: credcheck.New(d)}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "edit <name> [--set field=value]... [--unset field]... [--rename NEW] [--secret-stdin]",
		Short: "Change a connection's fields, name or secret",
		Long: `Change a connection. Its secrets are kept by its id, so --rename keeps them.
A new secret given with --secret-stdin, --secret-file or --secret-env replaces
the stored one (use --secret-field to pick which secret). Changing the auth
method (--set auth=...) removes the old method's secrets once the change is saved.

A new key-based secret is checked with the provider first (as ` + "`connctl test`" + `
does): when the provider rejects it (exit 4) nothing changes and the old
secret stays. --no-verify saves it unchecked; the connection then shows as
unverified until ` + "`connctl test`" + ` passes.`,
		Example: `  connctl edit support --set domain=acme-eu
  connctl edit support --rename support-eu
  connctl edit archive --unset endpoint
  printf %s "$TOKEN" | connctl edit archive --secret-field session_token --secret-stdin`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Set, "set", "s", nil, "set a field: `field=value` (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Unset, "unset", nil, "remove an optional `field` (its default applies again)")
	cmd.Flags().StringVar(&opts.Rename, "rename", "", "new `name` for the connection")
	cmd.Flags().BoolVar(&opts.NoVerify, "no-verify", false, "save a new key-based secret without checking it with the provider (shown as unverified)")
	opts.Secret = secretflags.Add(cmd)
	jsonexport.AddFlags(cmd, &opts.Export, connview.Fields)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	ios := opts.IO
	exp := opts.Export
	if len(opts.Set) == 0 && len(opts.Unset) == 0 && opts.Rename == "" && !opts.Secret.Given() {
		return exitcode.UsageError("nothing to change: give --set, --unset, --rename or a new secret")
	}
	var sets []connection.Assignment
	for _, s := range opts.Set {
		a, err := connection.ParseAssignment(s)
		if err != nil {
			return err
		}
		sets = append(sets, a)
	}
	mgr, err := opts.Connections()
	if err != nil {
		return err
	}
	cur, ok := mgr.Config.Find(opts.Name)
	if !ok {
		return connection.NotFound(opts.Name)
	}
	ctr, _, err := mgr.Lookup(cur)
	if err != nil {
		return err
	}
	m, err := connection.ResolveAuth(ctr, cur.Auth, sets)
	if err != nil {
		return err
	}
	secrets, err := opts.Secret.Collect(ios, opts.Getenv, connection.SecretFields(ctr, m), false)
	if err != nil {
		return err
	}
	var id *keycheck.Identity
	verify := len(secrets) > 0 && !m.Kind.Interactive()
	if verify && !opts.NoVerify {
		fields, err := connection.ApplyFields(ctr, m, cur.Fields, sets, opts.Unset)
		if err != nil {
			return err
		}
		if id, err = opts.Creds.Verify(ctx, mgr, credcheck.Verification{Connector: ctr, Auth: m, Fields: fields, Secrets: secrets, Current: cur, Saved: "nothing was changed; the old secret stays"}); err != nil {
			return err
		}
	}
	updated, changes, err := mgr.Edit(ctx, opts.Name, connection.EditRequest{Set: sets, Unset: opts.Unset, Rename: opts.Rename, Secrets: secrets})
	if err != nil {
		return err
	}
	if verify {
		updated = opts.Creds.AfterSave(ctx, mgr, updated, m, opts.NoVerify, id)
	}
	if len(changes) == 0 {
		ios.Statusf("Connection %s unchanged", updated.Name)
	} else {
		names := make([]string, len(changes))
		for i, ch := range changes {
			names[i] = ch.Field
		}
		ios.Statusf("%sUpdated connection %s (%s)", ios.Success(), updated.Name, strings.Join(names, ", "))
	}
	if exp != nil {
		return exp.Write(ios.Out, connview.From(opts.Catalog(), updated))
	}
	return nil
}
