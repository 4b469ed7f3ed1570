package root

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/configstore"
)

// Help topics are commands with no Run: `connctl help environment` prints
// their Long text.
func addHelpTopics(root *cobra.Command) {
	var env strings.Builder
	env.WriteString(`connctl reads these environment variables:

  CONNCTL_CONFIG        config file (default $XDG_CONFIG_HOME/connctl/config.yaml); --config wins
  CONNCTL_PASSPHRASE    passphrase of the encrypted secrets file (secrets.backend file)
  CONNCTL_NO_PROMPT     never prompt; missing input is an error (exit 2) naming the flag
  CONNCTL_FORCE_TTY     format output as for a terminal even when piped (a number sets the width)
  CONNCTL_DEBUG         log each HTTP request's method, host, path and status to stderr
                        (never headers, query strings or bodies)
  NO_COLOR              no colour on a terminal
  CLICOLOR_FORCE        colour even when not on a terminal
  BROWSER               command that opens authorization URLs (OAuth connectors)

Where files live, and who and what is writing:

  HOME, XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_CACHE_HOME
                        the config file, the encrypted secrets file, the activity log and lock files,
                        the parse cache and the copy of a team store's definitions (no secrets)
  USER                  the "who" of activities when the OS user cannot be looked up
  TERM, COLORTERM, TMUX, TERM_PROGRAM
                        passed to the full-screen page of connctl ui
  DBUS_SESSION_BUS_ADDRESS
                        the session bus of the OS keyring (Secret Service, Linux)
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                        proxy for calls to providers (as every Go program reads them)
  SSL_CERT_FILE, SSL_CERT_DIR
                        extra CA certificates for TLS (as every Go program reads them)
  GOMAXPROCS            CPU cores connctl's Go code may use at once; a job run holds it at 1 for
                        its length (one pipeline: fewer thread hand-offs, faster) unless this is set

Secrets in Vault (secrets.backend vault), with Vault's own variables:

  VAULT_ADDR            the Vault server, e.g. https://vault.example.com:8200 (required)
  VAULT_TOKEN           the token; else ~/.vault-token (vault login); else an AppRole login
  VAULT_ROLE_ID, VAULT_SECRET_ID
                        the AppRole login, for unattended workers
  VAULT_NAMESPACE       the namespace (Vault Enterprise, OpenBao)
  VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY, VAULT_TLS_SERVER_NAME
                        TLS, as the vault CLI reads them

A team store in PostgreSQL (store.url), with libpq's variables for what the URL leaves out:

  PGPASSWORD, PGPASSFILE
                        the password, or the password file (default ~/.pgpass), so that store.url holds none
  PGHOST, PGPORT, PGUSER, PGDATABASE
                        the parts of the server the URL does not give
  PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY
                        TLS (sslmode=verify-full with the server's CA is the safe choice)
  PGCONNECT_TIMEOUT, PGAPPNAME, PGSERVICE, PGSERVICEFILE
                        as libpq reads them

Every setting (see ` + "`connctl config list`" + `) can also be set for one run with its variable:

`)
	for _, s := range configstore.Settings {
		fmt.Fprintf(&env, "  %-26s %s\n", s.EnvName(), s.Help)
	}
	env.WriteString("\nPrecedence: flags, then environment, then the config file, then defaults.")

	topics := []*cobra.Command{
		{
			Use:   "environment",
			Short: "Environment variables connctl reads",
			Long:  env.String(),
		},
		{
			Use:   "exit-codes",
			Short: "What connctl's exit codes mean",
			Long: `connctl exits with:

  0    success, including a list or search with no results
  1    failure: remote error, I/O error, something unexpected
  2    usage: unknown command, flag or connector; invalid or missing input;
       a prompt was needed but connctl is not running interactively
  3    partial: some of several jobs failed, or a job stopped early keeping
       what it fetched (the next run resumes)
  4    authorization needed: no secret, a rejected refresh, keyring locked,
       unreachable or timed out
  8    pending: a wait timed out while work was still running
  130  interrupted: Ctrl-C, SIGTERM or input ended at a prompt

Treat any other non-zero code as failure. With -o json a failure also writes
{"error":{"code":N,"message":"..."}} to stderr. connctl exec exits with its
command's status once the command has started (see connctl exec --help).`,
		},
		{
			Use:   "formatting",
			Short: "Output formats: tables, TSV, JSON, YAML, CSV and --jq",
			Long: `On a terminal, commands print aligned tables with a header, relative times and
columns truncated to the window. When stdout is piped they print tab-separated
rows with no header and no colour, times in RFC 3339 UTC; the column order is
part of each command's help and does not change.

-o/--output chooses a format on any command that prints data:
  table  the default described above
  json   stable snake_case fields; lists are arrays ([] when empty)
  yaml   the same fields as YAML
  csv    a header row of field names, then one row per item
  tsv    like csv, tab-separated, with tabs and newlines escaped

--jq EXPR filters the JSON output with a jq expression (implies -o json):
  connctl list --jq '.[] | select(.status != "authorized") | .name'

Data goes to stdout; confirmations, warnings, prompts and errors go to stderr.`,
		},
	}
	for _, t := range topics {
		root.AddCommand(t)
	}
	// List topics as they are read: `connctl help environment`.
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(),
		`{{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}`,
		`{{rpad (printf "%s help %s" .Parent.CommandPath .Name) 28}} {{.Short}}{{end}}{{end}}{{end}}`, 1))
}
