// Package test implements `connctl test`.
package test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/keycheck"
	"github.com/connctl/connctl/internal/secretstore"
)

// Result is the outcome of a test, as printed with -o json.
type Result struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Reason  string `json:"reason"` // "", unauthorized, forbidden, revoked, network, server, rate_limit, config
	Message string `json:"message"`
	Account string `json:"account"`
	Org     string `json:"org"` // the org, site, project, bucket or host the credentials reach
}

// Options are the inputs of test.
type Options struct {
	IO    *iostreams.IOStreams
	Authz func() (*authorization.Service, error)
	// HTTP is the client for the who-am-I call of key-based connections.
	HTTP func() *http.Client

	Name   string
	Export jsonexport.Exporter
}

// NewCmd returns `connctl test`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Authz: d.Authz, HTTP: d.HTTP}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "test <name>",
		Short: "Check a connection's credentials with the provider's who-am-I call",
		Long: `Call the provider's cheapest who-am-I endpoint with the connection's credentials
and report ok, or why not: unauthorized, forbidden, revoked, network, server or
rate_limit, with the fix. Credentials the provider rejects mark the connection
needs_reauthorization (exit 4). OAuth tokens are refreshed first when needed.`,
		Example: `  connctl test support
  connctl test crm -o json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(c.Context(), opts)
		},
	}
	jsonexport.AddFlags(cmd, &opts.Export, []string{"name", "ok", "reason", "message", "account"})
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	svc, err := opts.Authz()
	if err != nil {
		return err
	}
	c, ok := svc.Mgr.Config.Find(opts.Name)
	if !ok {
		return connection.NotFound(opts.Name)
	}
	res := Result{Name: c.Name}
	var testErr error
	if svc.IsOAuth(c) {
		id, err := svc.Test(ctx, c.Name)
		if err == nil {
			res.Account, res.Org = id.Account, id.Org
		}
		testErr = err
	} else {
		res.Account, res.Org, testErr = keyTest(ctx, opts.HTTP, svc.Mgr, c)
	}
	if testErr == nil {
		if cur, ok := svc.Mgr.Config.Find(c.Name); ok {
			svc.Mgr.RecordAccount(ctx, cur, res.Account)
		}
		// A passing test verifies credentials saved with --no-verify.
		_, _ = svc.Mgr.SetVerified(ctx, c.Name, true)
		res.OK = true
		res.Message = okMessage(res.Account, res.Org)
		if opts.Export != nil {
			return opts.Export.Write(opts.IO.Out, res)
		}
		fmt.Fprintf(opts.IO.Out, "%s: %s\n", c.Name, res.Message)
		return nil
	}
	res.Reason, res.Message = classify(testErr)
	if opts.Export != nil {
		_ = opts.Export.Write(opts.IO.Out, res)
	}
	return testErr
}

// okMessage says who the credentials belong to and what they reach, as far
// as the provider said.
func okMessage(account, org string) string {
	switch {
	case account != "" && org != "":
		return "ok: authorized as " + account + " on " + org
	case account != "":
		return "ok: authorized as " + account
	case org != "":
		return "ok: authorized on " + org
	}
	return "ok"
}

func classify(err error) (string, string) {
	var ce *authorization.CallError
	if errors.As(err, &ce) {
		return ce.Kind, ce.Message
	}
	var ke *keycheck.Error
	if errors.As(err, &ke) {
		return ke.Kind, ke.Message
	}
	if exitcode.FromError(err) == exitcode.AuthNeeded {
		return "unauthorized", err.Error()
	}
	return "error", err.Error()
}

// keyTest checks a key-based connection with keycheck.
func keyTest(ctx context.Context, hc func() *http.Client, mg *connection.Manager, c *configstore.Connection) (account, org string, err error) {
	if err := authorization.Usable(c); err != nil {
		return "", "", err
	}
	ctr, m, err := mg.Lookup(c)
	if err != nil {
		return "", "", err
	}
	if m.Check == nil {
		return "", "", exitcode.New(exitcode.Failure, "connctl cannot test %s connections (auth %s) yet", ctr.ID, m.ID)
	}
	secrets := map[string]string{}
	for _, f := range connection.SecretFields(ctr, m) {
		if !c.HasSecret(f.Name) {
			continue
		}
		v, err := mg.Secret(ctx, c, f.Name)
		if errors.Is(err, secretstore.ErrNotFound) {
			return "", "", mg.SecretMissing(ctx, c, f.Name, err)
		}
		if err != nil {
			return "", "", err
		}
		secrets[f.Name] = v
	}
	id, err := keycheck.Check(ctx, hc(), ctr.ID, m.Check, connection.Effective(ctr, m, c.Fields), secrets)
	var ke *keycheck.Error
	if errors.As(err, &ke) && ke.Kind == "unauthorized" {
		return "", "", mg.MarkNeedsReauthorization(ctx, c, ke.Message)
	}
	if err != nil {
		return "", "", err
	}
	return id.Account, id.Org, nil
}
