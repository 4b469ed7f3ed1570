// Package exec implements `connctl exec`: run a command with fresh
// credentials of named connections in its environment, as aws-vault exec
// and 1Password's op run do. Secrets go into the child's environment only,
// never into its argv, a file or connctl's output; the child's exit status
// is connctl's.
package exec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/execenv"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// Exit statuses of a command that could not be run, as POSIX shells give
// them.
const (
	NotExecutable = 126
	NotFound      = 127
)

// Forwarded are the signals connctl passes to the child instead of
// dying of them: the child decides what they mean, and connctl exits
// with its status.
var Forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// Options are the inputs of exec.
type Options struct {
	IO      *iostreams.IOStreams
	Authz   func() (*authorization.Service, error)
	Environ func() []string
	// Notify and StopNotify route signals to a channel (signal.Notify,
	// signal.Stop); tests deliver their own.
	Notify     func(c chan<- os.Signal, sig ...os.Signal)
	StopNotify func(c chan<- os.Signal)

	Names    []string
	Command  []string
	Refresh  bool
	NoNative bool
}

// NewCmd returns `connctl exec`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Authz: d.Authz, Environ: d.Environ, Notify: signal.Notify, StopNotify: signal.Stop}
	if runF == nil {
		runF = run
	}
	cmd := &cobra.Command{
		Use:   "exec <name>... -- <command> [<arg>...]",
		Short: "Run a command with fresh credentials of connections in its environment",
		Long: `Run a command with the credentials of one or more connections in its
environment, as aws-vault exec and op run do. OAuth access tokens are
refreshed first when they expire within a minute (--refresh: always), as
` + "`connctl token`" + ` does. Secrets go into the environment only: never into
the command line, a file or connctl's output.

For each connection NAME the command gets CONNCTL__<NAME>__<FIELD>: NAME and
FIELD upper-cased, every character other than A-Z and 0-9 made _ (crm-prod:
CONNCTL__CRM_PROD__ACCESS_TOKEN). OAuth connections give ACCESS_TOKEN,
API_BASE and EXPIRES_AT; key-based ones each secret by its field name
(SECRET_ACCESS_KEY, API_KEY, ...); both give their other fields (REGION,
DOMAIN, ...) and CONNECTOR.

Connectors with tools of their own also get the names those tools read:
s3 AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
AWS_DEFAULT_REGION, AWS_ENDPOINT_URL(_S3); bigquery (OAuth)
GOOGLE_OAUTH_ACCESS_TOKEN, CLOUDSDK_AUTH_ACCESS_TOKEN; salesforce
SALESFORCE_INSTANCE_URL, SALESFORCE_ACCESS_TOKEN, SF_ORG_INSTANCE_URL,
SF_ACCESS_TOKEN. connctl refuses (exit 2) when two connections would set one
of these, or when the environment already sets one to something else;
--no-native sets only the CONNCTL__ variables. CONNCTL_PASSPHRASE is never
passed on.

SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed to the command, and connctl
exits with its status: 128+N when a signal N ended it, 127 when the command
is not found, 126 when it cannot be run. A connection that needs
authorization stops connctl (exit 4) before the command starts.`,
		Example: `  connctl exec s3prod -- aws s3 ls
  connctl exec crm -- sh -c 'curl -H "Authorization: Bearer $CONNCTL__CRM__ACCESS_TOKEN" "$CONNCTL__CRM__API_BASE/services/data"'
  connctl exec warehouse --refresh -- bq ls
  connctl exec s3prod crm --no-native -- ./sync.sh`,
		Args: func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			switch {
			case len(args) == 0:
				return exitcode.UsageError("name a connection and the command: connctl exec <name>... -- <command>")
			case dash < 0:
				return exitcode.UsageError("put -- between the connection names and the command: connctl exec %s -- <command>", args[0])
			case dash == 0:
				return exitcode.UsageError("name at least one connection before --")
			case dash == len(args):
				return exitcode.UsageError("give the command to run after --")
			}
			return nil
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			if dashTyped(os.Args) {
				return nil, cobra.ShellCompDirectiveDefault // the command and its arguments
			}
			return complete.EachConnectionName(d)(c, args, prefix)
		},
		RunE: func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			opts.Names, opts.Command = args[:dash], args[dash:]
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "refresh OAuth access tokens even if they are still valid")
	cmd.Flags().BoolVar(&opts.NoNative, "no-native", false, "set only the CONNCTL__<NAME>__* variables, not the connectors' own (AWS_*, ...)")
	return cmd
}

// dashTyped reports whether the command line being completed (argv of
// `connctl __complete exec ... <word>`) has -- before the word: the
// command's part. c.ArgsLenAtDash cannot tell while completing: cobra
// (v1.10) parses the flags twice, once with a -- added, and pflag keeps
// the dash position of the first parse.
func dashTyped(argv []string) bool {
	i := slices.Index(argv, cobra.ShellCompRequestCmd)
	if i < 0 || len(argv) < i+2 {
		return false
	}
	return slices.Contains(argv[i+1:len(argv)-1], "--")
}

func run(ctx context.Context, opts *Options) error {
	if err := execenv.CheckNames(opts.Names); err != nil {
		return conflict(err, opts)
	}
	svc, err := opts.Authz()
	if err != nil {
		return err
	}
	// Every connection is checked before any is refreshed, and the
	// command is found before any secret is read.
	for _, n := range opts.Names {
		if err := execenv.Usable(svc, n); err != nil {
			return err
		}
	}
	path, err := osexec.LookPath(opts.Command[0])
	if err != nil {
		return notRun(opts.Command[0], err)
	}
	creds := make([]*execenv.Credentials, 0, len(opts.Names))
	for _, n := range opts.Names {
		cr, err := execenv.Load(ctx, svc, n, opts.Refresh)
		if err != nil {
			return err
		}
		creds = append(creds, cr)
	}
	env, err := execenv.Build(opts.Environ(), creds, !opts.NoNative)
	if err != nil {
		return conflict(err, opts)
	}
	return start(opts, path, env)
}

// start runs the command and waits for it, passing on the signals connctl
// receives meanwhile. It is not bound to ctx: Ctrl-C reaches the child as
// a signal, and connctl waits for it to finish.
func start(opts *Options, path string, env []string) error {
	sigs := make(chan os.Signal, 8)
	opts.Notify(sigs, Forwarded...)
	defer opts.StopNotify(sigs)
	cmd := &osexec.Cmd{Path: path, Args: opts.Command, Env: env, Stdin: opts.IO.In, Stdout: opts.IO.Out, Stderr: opts.IO.ErrOut}
	if err := cmd.Start(); err != nil {
		return notRun(opts.Command[0], err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s) // it may have exited already
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &exitcode.Exit{Status: 128 + int(ws.Signal())}
		}
		return &exitcode.Exit{Status: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", opts.Command[0], err)
	}
	return nil
}

// notRun is the error for a command that could not be started: 127 when
// it does not exist, 126 when it is not executable.
func notRun(name string, err error) error {
	switch {
	case errors.Is(err, osexec.ErrNotFound):
		return exitcode.WithHint(exitcode.New(NotFound, "command %q not found in PATH", name),
			"check the name, or give its path (./"+name+")")
	case errors.Is(err, osexec.ErrDot):
		return exitcode.WithHint(exitcode.New(NotFound, "command %q is found only in the current folder, which connctl does not search", name),
			"give its path: ./"+name)
	case errors.Is(err, fs.ErrNotExist):
		return exitcode.New(NotFound, "command %q not found", name)
	case errors.Is(err, fs.ErrPermission):
		return exitcode.WithHint(exitcode.New(NotExecutable, "command %q is not executable", name),
			"make it executable (chmod +x) or run it through its interpreter (sh "+name+")")
	}
	return exitcode.New(NotExecutable, "cannot run %q: %s", name, cause(err))
}

// cause is err's innermost message (exec format error, is a directory),
// without the path os/exec repeats.
func cause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// conflict turns execenv's refusals into usage errors with the way out.
func conflict(err error, opts *Options) error {
	var c *execenv.Conflict
	if !errors.As(err, &c) {
		return err
	}
	e := exitcode.UsageError("%s", c.Error())
	switch c.Kind {
	case execenv.SamePrefix:
		if c.Names[0] == c.Names[1] {
			return exitcode.WithHint(e, "name each connection once")
		}
		return exitcode.WithHint(e, fmt.Sprintf("rename one of them: connctl edit %s --rename <new-name>", c.Names[1]))
	case execenv.SameNative:
		return exitcode.WithHint(e, "pass --no-native and use each connection's "+execenv.Prefix(c.Names[0])+"* and "+
			execenv.Prefix(c.Names[1])+"* variables, or run one connctl exec per connection")
	default:
		return exitcode.WithHint(e, fmt.Sprintf("unset it (env -u %s connctl exec %s -- ...), or pass --no-native to set only %s* variables",
			c.Var, strings.Join(opts.Names, " "), execenv.Namespace))
	}
}
