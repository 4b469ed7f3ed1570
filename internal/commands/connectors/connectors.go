// Package connectors implements `connctl connectors` (list) and
// `connctl connectors show`.
package connectors

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// ListFields are the JSON fields of `connectors list`.
var ListFields = []string{"id", "name", "aliases", "category", "auth", "multiple"}

// ShowFields are the JSON fields of `connectors show`.
var ShowFields = []string{"id", "name", "aliases", "category", "multiple", "fields", "auth_methods", "sources", "docs_url"}

// Summary is one connector as listed.
type Summary struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Aliases  []string `json:"aliases"`
	Category string   `json:"category"`
	Auth     []string `json:"auth"`
	Multiple bool     `json:"multiple"`
}

// FieldView is a field as shown.
type FieldView struct {
	Name     string   `json:"name"`
	Required bool     `json:"required"`
	Secret   bool     `json:"secret"`
	Default  string   `json:"default"`
	Enum     []string `json:"enum"`
	Help     string   `json:"help"`
	Example  string   `json:"example"`
}

// AuthView is an auth method as shown.
type AuthView struct {
	ID          string      `json:"id"`
	Kind        string      `json:"kind"`
	Label       string      `json:"label"`
	Fields      []FieldView `json:"fields"`
	Scopes      []string    `json:"scopes"`
	RedirectURI string      `json:"redirect_uri"`
	Revocation  bool        `json:"revocation"`
	HowTo       string      `json:"how_to"`
}

// SourceView is a job source as shown.
type SourceView struct {
	Name             string      `json:"name"`
	Help             string      `json:"help"`
	Params           []FieldView `json:"params"`
	PrimaryKey       string      `json:"primary_key"`
	IncrementalField string      `json:"incremental_field"`
	IncrementalParam string      `json:"incremental_param,omitempty"`
}

// Detail is one connector as shown.
type Detail struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Aliases     []string     `json:"aliases"`
	Category    string       `json:"category"`
	Multiple    bool         `json:"multiple"`
	Fields      []FieldView  `json:"fields"`
	AuthMethods []AuthView   `json:"auth_methods"`
	Sources     []SourceView `json:"sources"`
	DocsURL     string       `json:"docs_url"`
}

// NewCmd returns `connctl connectors` with its subcommands.
func NewCmd(d *deps.Deps) *cobra.Command {
	list := newListCmd(d)
	cmd := &cobra.Command{
		Use:     "connectors",
		Aliases: []string{"connector"},
		Short:   "List the systems connctl can connect to, and what each needs",
		Long: `List the connectors connctl knows (the same as ` + "`connctl connectors list`" + `),
or show one connector's fields, auth methods and sources.

When piped, list prints one tab-separated row per connector:
id, name, category, auth methods (comma-separated; the names ` + "`create --auth`" + `
takes, the first is the default), multiple (yes/no).`,
		Example: `  connctl connectors
  connctl connectors show freshdesk
  connctl connectors show sfdc -o json`,
		Args: cobra.NoArgs,
		RunE: list.RunE,
	}
	cmd.Flags().AddFlagSet(list.Flags())
	cmd.AddCommand(list, newShowCmd(d))
	return cmd
}

func newListCmd(d *deps.Deps) *cobra.Command {
	var exp jsonexport.Exporter
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List connectors: ID, NAME, CATEGORY, AUTH, MULTIPLE",
		Example: "  connctl connectors list\n  connctl connectors list --jq '.[] | select(.multiple) | .id'",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			all := d.Catalog().All()
			sums := make([]Summary, len(all))
			for i, ctr := range all {
				sums[i] = summarize(ctr)
			}
			if exp != nil {
				return exp.Write(d.IO.Out, sums)
			}
			t := tableprint.NewIO(d.IO, "ID", "NAME", "CATEGORY", "AUTH", "MULTIPLE")
			for _, s := range sums {
				multi := "no"
				if s.Multiple {
					multi = "yes"
				}
				t.Row(s.ID, s.Name, s.Category, strings.Join(s.Auth, ", "), multi)
			}
			return t.Render()
		},
	}
	jsonexport.AddFlags(cmd, &exp, ListFields)
	return cmd
}

func summarize(c *connector.Connector) Summary {
	s := Summary{ID: c.ID, Name: c.Name, Aliases: append([]string{}, c.Aliases...), Category: string(c.Category), Multiple: c.Multiple}
	// The auth method ids, the names `create --auth` takes (not the kinds:
	// Jira's api_token is HTTP Basic, and showing "basic" sent users to a
	// name create refused).
	s.Auth = c.AuthIDs()
	return s
}

func fieldViews(fs []connector.Field) []FieldView {
	out := make([]FieldView, 0, len(fs))
	for _, f := range fs {
		out = append(out, FieldView{Name: f.Name, Required: f.Required, Secret: f.Secret, Default: f.Default,
			Enum: append([]string{}, f.Enum...), Help: f.Help, Example: f.Example})
	}
	return out
}

// Describe builds the detail view of c.
func Describe(c *connector.Connector) Detail {
	d := Detail{ID: c.ID, Name: c.Name, Aliases: append([]string{}, c.Aliases...), Category: string(c.Category),
		Multiple: c.Multiple, Fields: fieldViews(c.Fields), DocsURL: c.DocsURL}
	for _, m := range c.Auths {
		// The method's own fields, then (for OAuth) scopes, redirect_uri
		// and the endpoint overrides every OAuth method takes.
		a := AuthView{ID: m.ID, Kind: string(m.Kind), Label: m.Label, Fields: fieldViews(c.FieldsFor(&m)[len(c.Fields):]), HowTo: m.HowTo}
		if m.OAuth != nil {
			a.Scopes = append([]string{}, m.OAuth.Scopes...)
			a.RedirectURI = m.OAuth.RedirectURI
			a.Revocation = m.OAuth.RevokeURL != ""
		}
		d.AuthMethods = append(d.AuthMethods, a)
	}
	d.Sources = []SourceView{}
	for _, s := range c.Sources {
		d.Sources = append(d.Sources, SourceView{Name: s.Name, Help: s.Help, Params: fieldViews(s.Params), PrimaryKey: s.PrimaryKey, IncrementalField: s.IncrementalField, IncrementalParam: s.IncrementalParam})
	}
	return d
}

func newShowCmd(d *deps.Deps) *cobra.Command {
	var exp jsonexport.Exporter
	cmd := &cobra.Command{
		Use:               "show <id>",
		Short:             "Show a connector's fields, auth methods, secrets and sources",
		Example:           "  connctl connectors show freshdesk\n  connctl connectors show px -o json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectorIDs(d),
		RunE: func(c *cobra.Command, args []string) error {
			cat := d.Catalog()
			ctr, ok := cat.Lookup(args[0])
			if !ok {
				return exitcode.WithHint(exitcode.UsageError("unknown connector %q", args[0]), cat.UnknownHint(args[0]))
			}
			det := Describe(ctr)
			if exp != nil {
				return exp.Write(d.IO.Out, det)
			}
			return printDetail(c.Context(), d, ctr, det)
		},
	}
	jsonexport.AddFlags(cmd, &exp, ShowFields)
	return cmd
}

func printDetail(_ context.Context, d *deps.Deps, c *connector.Connector, det Detail) error {
	w := d.IO.Out
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
	if err := printFields(d, det.Fields); err != nil {
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
			if err := printFields(d, a.Fields); err != nil {
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
		t := tableprint.New(w, true, d.IO.TerminalWidth(), "SOURCE", "PARAMETERS", "PRIMARY KEY", "INCREMENTAL", "DESCRIPTION")
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

func printFields(d *deps.Deps, fs []FieldView) error {
	t := tableprint.New(d.IO.Out, true, d.IO.TerminalWidth(), "  FIELD", "REQUIRED", "DEFAULT", "DESCRIPTION")
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
