// Package token implements `connctl token`.
package token

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
)

// Options are the inputs of token.
type Options struct {
	IO    *iostreams.IOStreams
	Authz func() (*authorization.Service, error)

	Name    string
	Refresh bool
	Export  jsonexport.Exporter
}

// NewCmd returns `connctl token`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Authz: d.Authz}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "token <name>",
		Short: "Print a valid OAuth access token for a connection",
		Long: `Print a valid access token for an OAuth connection, for use in pipelines. The
token is refreshed first when it has expired or expires within a minute;
several processes asking at once refresh it once. Only the token goes to
stdout.

If the provider rejects the refresh token (invalid_grant), the connection is
marked needs_reauthorization and connctl exits 4: run ` + "`connctl reauthorize <name>`" + `.`,
		Example: `  curl -H "Authorization: Bearer $(connctl token sfdc)" "$(connctl token sfdc --jq .api_base)/services/data"
  connctl token crm -o json      # access_token, token_type, expires_at, scopes, api_base`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "refresh the token even if it is still valid")
	jsonexport.AddFlags(cmd, &opts.Export, []string{"access_token", "token_type", "expires_at", "scopes", "api_base", "refreshed"})
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	svc, err := opts.Authz()
	if err != nil {
		return err
	}
	tok, err := svc.AccessToken(ctx, opts.Name, opts.Refresh)
	if err != nil {
		return err
	}
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, tok)
	}
	fmt.Fprintln(opts.IO.Out, tok.AccessToken)
	return nil
}
