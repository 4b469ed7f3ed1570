// Package teaminit implements `connctl team init` (a package cannot be
// named init): it copies this machine's connections, jobs, checkpoints and
// secrets into a team store and switches the machine to it.
package teaminit

import (
	"context"
	"errors"
	"fmt"
	"github.com/connctl/connctl/internal/textsafe"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/commands/team/storearg"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/team"
)

// Options are the inputs of team init.
type Options struct {
	IO *iostreams.IOStreams
	// Local is this machine's config file (definitions and settings).
	Local func() (*configstore.Store, error)
	// SecretBackend opens a local secrets backend by name.
	SecretBackend func(name string) (secretstore.Store, error)
	// OpenStore connects to a team store; OpenVault to a Vault.
	OpenStore func(ctx context.Context, url string) (*pgstore.DB, error)
	OpenVault func(addr, from string) (secretstore.Swapper, error)
	// Checkpoints opens this machine's activity log; nil when it has none.
	Checkpoints func() (*activitylog.Store, error)
	// Catalog is the connector catalogue, for the product's rules on the
	// merged definitions (nil: not checked).
	Catalog func() *connector.Catalogue
	// Who is the user recorded in the activities of the copy.
	Who func() string

	Store string // --store: a URL, or "-" for stdin
	Vault string // --vault: the Vault address
}

// NewCmd returns `connctl team init`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{
		IO: d.IO, Local: d.LocalConfig, SecretBackend: d.SecretBackend, OpenStore: d.OpenTeamStore,
		OpenVault:   func(addr, from string) (secretstore.Swapper, error) { return d.OpenVault(addr, from) },
		Checkpoints: func() (*activitylog.Store, error) { return d.LocalActivities(false) },
		Catalog:     d.Catalog,
		Who:         d.Who,
	}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "init --store URL|- [--vault ADDR]",
		Short: "Copy this machine's connections into a team store and switch to it",
		Long: `Copy this machine's connection and job definitions and the jobs' checkpoints
into a team store on PostgreSQL, and its secrets into Vault, then switch this
machine to them: store.url (and, with Vault, secrets.backend vault and
vault.addr) in the local config file. See docs/team.md.

--store - reads the URL from standard input, so that a password never sits in
argv; a URL with a password on the command line is refused (or leave the
password out and set PGPASSWORD or ~/.pgpass). Secrets go to the Vault at
--vault, else at vault.addr (VAULT_ADDR overrides it), with Vault's own token
(VAULT_TOKEN, ~/.vault-token or AppRole); with neither, secrets stay in this
machine's keyring and the team shares only the definitions.

Before it writes anything, team init compares: a connection or job the team
store holds under the same name (or id) with another definition, or a secret
Vault holds with another value, is refused (the clashes counted, the first
five named), nothing written. Then it writes the secrets (check-and-set:
never over an existing one), the checkpoints, and the definitions in one
transaction; the local settings change last, only when all of that
succeeded. Nothing is deleted
here: the local file keeps its connections (unused while store.url is set).

What the team store already holds, the same, is left as it is, so running
team init again after a failure continues where it stopped, and after a
success does nothing. Activities stay in this machine's log.`,
		Example: `  printf %s "$DATABASE_URL" | connctl team init --store - --vault https://vault.example.com:8200
  PGPASSWORD=... connctl team init --store postgres://connctl@db.example.com/connctl
  connctl team init --store postgres://connctl@db.example.com/connctl   # password from ~/.pgpass`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Store == "" {
				return &exitcode.FlagError{Err: errors.New("name the team store: --store postgres://USER@HOST:PORT/DATABASE, or --store - to read it from stdin")}
			}
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Store, "store", "", "the team store's PostgreSQL `URL`, or - to read it from stdin")
	cmd.Flags().StringVar(&opts.Vault, "vault", "", "the Vault `address` for the secrets (default: vault.addr or VAULT_ADDR)")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	url, err := storearg.Resolve(opts.IO, opts.Store, "team init")
	if err != nil {
		return err
	}
	local, err := opts.Local()
	if err != nil {
		return err
	}
	addr, from := local.String("vault.addr"), "vault.addr"
	if v, _ := local.Get("vault.addr"); v.EnvVar != "" {
		from = v.EnvVar
	}
	if opts.Vault != "" {
		st, _ := configstore.LookupSetting("vault.addr")
		if _, err := st.Validate(opts.Vault); err != nil {
			return exitcode.UsageError("--vault: %s", err.Error())
		}
		addr, from = opts.Vault, "--vault"
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
	if opts.Catalog != nil {
		cat := opts.Catalog()
		shared.Rules = func(d *configstore.Document) error { return connection.CheckDocumentRules(cat, local.Int, d) }
	}
	if addr != "" {
		v, err := opts.OpenVault(addr, from)
		if err != nil {
			return connection.SecretStoreError(err)
		}
		shared.Vault = v
	}
	src := team.Local{Doc: local.Document(), Backend: local.String("secrets.backend"), Secrets: opts.SecretBackend}
	if opts.Checkpoints != nil {
		log, err := opts.Checkpoints()
		if err != nil {
			return err
		}
		if log != nil {
			defer func() { _ = log.Close() }()
			src.Checkpoints = log
		}
	}

	switchTo := func(ctx context.Context) error {
		return local.Update(ctx, func(d *configstore.Document) error {
			if err := configstore.SetIn(d, "store.url", url); err != nil {
				return err
			}
			if addr == "" {
				return nil
			}
			if err := configstore.SetIn(d, "secrets.backend", "vault"); err != nil {
				return err
			}
			return configstore.SetIn(d, "vault.addr", addr)
		})
	}
	res, err := team.Init(ctx, src, shared, switchTo)
	if err != nil {
		return explain(err, res != nil && res.Changed())
	}

	ios := opts.IO
	recordCopies(ctx, ios, db.Log(), opts.Who, res, local.Document(), local.Path())
	if !res.Changed() {
		ios.Statusf("%sNothing to copy: %s and %s already in the team store %s", ios.Success(), count(res.Connections.Present, "connection"), count(res.Jobs.Present, "job"), site)
	} else {
		ios.Statusf("%sCopied into the team store %s: %s, %s, %s%s", ios.Success(), site,
			count(res.Connections.Copied, "connection"), count(res.Jobs.Copied, "job"), count(res.Checkpoints.Copied, "checkpoint"),
			already(res.Connections.Present+res.Jobs.Present+res.Checkpoints.Present))
		if shared.Vault != nil {
			ios.Statusf("%sCopied into Vault at %s: %s%s", ios.Success(), addr, count(res.Secrets.Copied, "secret"), already(res.Secrets.Present))
		}
	}
	for _, j := range res.KeptCheckpoints {
		ios.Warnf("job %q: kept the team store's own checkpoint (the job has run there since)", j)
	}
	if len(res.LocalSecrets) > 0 {
		ios.Warnf("no Vault given: the secrets of %s stay in %s on this machine; other machines see these connections but cannot use them (give --vault ADDR to share the secrets)",
			textsafe.List(quoted(res.LocalSecrets), ", "), connection.BackendLabel(src.Backend))
	}
	switched := "store.url"
	if addr != "" {
		switched = "store.url, secrets.backend vault and vault.addr"
	}
	ios.Statusf("%sThis machine now uses the team store: %s set in %s (its own connections are kept there, unused)", ios.Success(), switched, local.Path())
	for _, key := range []string{"store.url", "secrets.backend", "vault.addr"} {
		if v, _ := local.Get(key); v.Source == configstore.SourceEnv && v.EnvVar != "VAULT_ADDR" {
			ios.Warnf("%s is set in the environment and overrides the config file", v.EnvVar)
		}
	}
	return nil
}

// explain gives team.Init's errors their exit code and the fix.
func explain(err error, wrote bool) error {
	var ce *team.ClashError
	var me *team.MissingSecretsError
	switch {
	case errors.As(err, &ce):
		return exitcode.WithHint(exitcode.New(exitcode.Failure, "%s", err.Error()),
			"rename them here (`connctl edit NAME --rename NEW`, `connctl jobs edit NAME --rename NEW`) or change or remove them in the team store, then run `connctl team init` again")
	case errors.As(err, &me):
		return exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "%s", err.Error()),
			"store them again with `connctl reauthorize NAME` (or `connctl revoke NAME`), then run `connctl team init` again")
	}
	if errors.Is(err, secretstore.ErrUnavailable) || errors.Is(err, secretstore.ErrDenied) || errors.Is(err, secretstore.ErrTimeout) ||
		errors.Is(err, secretstore.ErrPassphrase) || errors.Is(err, secretstore.ErrNoPassphrase) {
		err = connection.SecretStoreError(err)
	}
	if wrote {
		return exitcode.WithHint(err, "this machine's settings are unchanged and nothing was deleted: fix that, then run the same command again; it continues where it stopped")
	}
	return err
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func already(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d already there)", n)
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// recordCopies records every connection and job Init copied into the team
// store as a create activity in the team's log, with where it came from, so
// that the team's activities say who brought each in. A failure to record is
// a warning: the copy is made.
func recordCopies(ctx context.Context, ios *iostreams.IOStreams, log interface {
	Record(context.Context, activitylog.Activity) (int64, error)
}, who func() string, res *team.InitResult, doc *configstore.Document, from string) {
	var w string
	if who != nil {
		w = who()
	}
	change := []activitylog.Change{{Field: "copied_from", New: from + " (connctl team init)"}}
	var acts []activitylog.Activity
	for _, c := range res.CopiedConnections {
		acts = append(acts, activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionCreate, Status: activitylog.StatusSucceeded,
			ConnectionID: c.ID, ConnectionName: c.Name, Who: w, Changes: change})
	}
	for _, j := range res.CopiedJobs {
		acts = append(acts, activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionCreate, Status: activitylog.StatusSucceeded,
			JobID: j.ID, JobName: j.Name, ConnectionID: j.ConnectionID, ConnectionName: connName(doc, j.ConnectionID), Who: w, Changes: change})
	}
	for _, a := range acts {
		if _, err := log.Record(context.WithoutCancel(ctx), a); err != nil {
			ios.Warnf("the copy was made but not recorded in the team's activity log: %v", err)
			return
		}
	}
}

func connName(d *configstore.Document, id string) string {
	if c := d.ConnectionByID(id); c != nil {
		return c.Name
	}
	return ""
}
