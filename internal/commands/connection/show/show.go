// Package show implements `connctl show`.
package show

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Options are the inputs of show.
type Options struct {
	IO      *iostreams.IOStreams
	Config  func() (configstore.Config, error)
	Catalog func() *connector.Catalogue
	// FailedLastDay counts each connection's failed runs of the last day
	// from the activity log, if there is one.
	FailedLastDay func(context.Context) map[string]int
	Now           func() time.Time

	Name   string
	Export jsonexport.Exporter
}

// NewCmd returns `connctl show`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Config: d.Config, Catalog: d.Catalog, FailedLastDay: d.FailedLastDay, Now: d.Now}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "show <name>",
		Short: "Show a connection's details",
		Long: `Show a connection: connector, auth method, status, who it is authorized as,
its fields (defaults included) and which secrets are stored, never their values.

When piped, one "key<TAB>value" line per property; fields appear as
"fields.<name>". show reads only the config file, never the keyring.`,
		Example: `  connctl show support
  connctl show support -o json
  connctl show support --jq .fields.domain`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, connview.Fields)
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	exp := opts.Export
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	c, ok := cfg.Find(opts.Name)
	if !ok {
		return connection.NotFound(opts.Name)
	}
	if c.Status == configstore.StatusAuthorized && connection.Stranded(c, cfg.String("secrets.backend")) {
		// As in list: secrets kept in another backend cannot be used.
		cc := *c
		cc.Status, cc.StatusReason = configstore.StatusNeedsReauthorization, configstore.ReasonSecretMissing
		c = &cc
	}
	v := connview.From(opts.Catalog(), c)
	v.Failed24h = opts.FailedLastDay(ctx)[c.ID]
	v.SetExpiry(connection.Forecasts(opts.Catalog(), c, opts.Now(), cfg.Duration(connection.KeyMaxAgeSetting)))
	if exp != nil {
		return exp.Write(opts.IO.Out, v)
	}
	tty := opts.IO.IsStdoutTTY()
	ts := func(t time.Time) string {
		if tty {
			return fmt.Sprintf("%s (%s)", t.Local().Format("2006-01-02 15:04"), tableprint.RelativeTime(opts.Now(), t))
		}
		return t.UTC().Format(time.RFC3339)
	}
	rows := [][2]string{
		{"name", v.Name},
		{"id", v.ID},
		{"connector", v.Connector},
		{"auth", v.Auth},
		{"status", statusText(v)},
		{"account", v.Account},
	}
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		if k != "auth" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		rows = append(rows, [2]string{"fields." + k, v.Fields[k]})
	}
	rows = append(rows, [2]string{"secrets", strings.Join(v.Secrets, ", ")})
	if v.SecretBackend != "" {
		rows = append(rows, [2]string{"secret_backend", v.SecretBackend})
	}
	if v.Failed24h > 0 || !tty {
		rows = append(rows, [2]string{"failed_24h", fmt.Sprint(v.Failed24h)})
	}
	rows = append(rows, [2]string{"created_at", ts(v.CreatedAt)}, [2]string{"updated_at", ts(v.UpdatedAt)})
	if v.AuthorizedAt != nil {
		rows = append(rows, [2]string{"authorized_at", ts(*v.AuthorizedAt)})
	}
	t := tableprint.NewIO(opts.IO, "PROPERTY", "VALUE")
	for _, r := range rows {
		t.Row(r[0], r[1])
	}
	return t.Render()
}

// statusText is the status with its reason, when there is one.
func statusText(v connview.Connection) string {
	if v.StatusReason == configstore.ReasonSecretMissing {
		return v.Status + " (secret not found; see `connctl test " + connection.QuoteArg(v.Name) + "`)"
	}
	return v.Status
}
