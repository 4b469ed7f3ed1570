// Package show implements `connctl connectors show`.
package show

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connectors/connectorview"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Options are the inputs of connectors show.
type Options struct {
	IO      *iostreams.IOStreams
	Catalog func() *connector.Catalogue

	ID     string // an id or an alias
	Export jsonexport.Exporter
}

// NewCmd returns `connctl connectors show`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Catalog: d.Catalog}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:               "show <id>",
		Short:             "Show a connector's fields, auth methods, secrets and sources",
		Example:           "  connctl connectors show freshdesk\n  connctl connectors show px -o json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectorIDs(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, connectorview.ShowFields)
	return cmd
}

func run(_ context.Context, opts *Options) error {
	cat := opts.Catalog()
	ctr, ok := cat.Lookup(opts.ID)
	if !ok {
		return exitcode.WithHint(exitcode.UsageError("unknown connector %q", opts.ID), cat.UnknownHint(opts.ID))
	}
	det := connectorview.Describe(ctr)
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, det)
	}
	return printDetail(opts.IO, ctr, det)
}

func printDetail(ios *iostreams.IOStreams, c *connector.Connector, det connectorview.Detail) error {
	w := ios.Out
	multi := "one connection"
	if c.Multiple {
		multi = "several connections allowed"
	}
	fmt.Fprintf(w, "%s (%s)\n", det.Name, det.ID)
	if len(det.Aliases) > 0 {
		fmt.Fprintf(w, "aliases: %s\n", strings.Join(det.Aliases, ", "))
	}
	fmt.Fprintf(w, "category: %s; %s\n", det.Category, multi)
	if det.DocsURL != "" {
		fmt.Fprintf(w, "docs: %s\n", det.DocsURL)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Fields (connctl create --set field=value):")
	if err := printFields(ios, det.Fields); err != nil {
		return err
	}
	for _, a := range det.AuthMethods {
		fmt.Fprintln(w)
		title := "Auth method " + a.ID
		if a.Label != "" {
			title += ": " + a.Label
		}
		if len(det.AuthMethods) > 1 {
			if a.ID == det.AuthMethods[0].ID {
				title += " (default)"
			} else {
				title += fmt.Sprintf(" — choose with --auth %s", a.ID)
			}
		}
		fmt.Fprintln(w, title)
		if len(a.Fields) > 0 {
			if err := printFields(ios, a.Fields); err != nil {
				return err
			}
		}
		if len(a.Scopes) > 0 {
			fmt.Fprintf(w, "  scopes: %s\n", strings.Join(a.Scopes, " "))
		}
		if a.RedirectURI != "" {
			fmt.Fprintf(w, "  redirect URI to register: %s\n", a.RedirectURI)
		}
		if a.Kind == string(connector.AuthOAuth2) {
			if a.Revocation {
				fmt.Fprintln(w, "  revocation: at the provider")
			} else {
				fmt.Fprintln(w, "  revocation: the provider has no revocation endpoint (tokens are removed locally)")
			}
		}
		if a.HowTo != "" {
			fmt.Fprintln(w, "  How to get the credentials:")
			for _, line := range strings.Split(strings.TrimSpace(a.HowTo), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	if len(det.Sources) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Sources (connctl jobs create <job> --connection <name> --source <source>; * required):")
		t := tableprint.New(w, true, ios.TerminalWidth(), "SOURCE", "PARAMETERS", "PRIMARY KEY", "INCREMENTAL", "DESCRIPTION")
		for _, s := range det.Sources {
			var params []string
			for _, p := range s.Params {
				n := p.Name
				if p.Required {
					n += "*"
				}
				params = append(params, n)
			}
			inc := s.IncrementalField
			if inc == "" && s.IncrementalParam != "" {
				inc = "<" + s.IncrementalParam + ">"
			}
			t.Row("  "+s.Name, strings.Join(params, ", "), s.PrimaryKey, inc, s.Help)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return nil
}

func printFields(ios *iostreams.IOStreams, fs []connectorview.FieldView) error {
	t := tableprint.New(ios.Out, true, ios.TerminalWidth(), "  FIELD", "REQUIRED", "DEFAULT", "DESCRIPTION")
	for _, f := range fs {
		req := "optional"
		if f.Required {
			req = "required"
		}
		if f.Secret {
			req += ", secret"
		}
		help := f.Help
		if len(f.Enum) > 0 {
			help += " (one of: " + strings.Join(f.Enum, ", ") + ")"
		}
		t.Row("  "+f.Name, req, f.Default, help)
	}
	return t.Render()
}
