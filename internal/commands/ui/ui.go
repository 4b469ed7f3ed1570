// Package ui implements `connctl ui`, the Connections page in the terminal.
// The page (internal/tui) does nothing itself: every row it lists and every
// action it takes runs a connctl verb in this process (list -o json, delete
// --yes after the page's own confirmation, revoke, authorize, activities,
// jobs list, jobs run), with its output captured. So the page gets what the
// verbs guarantee (atomic writes, no orphan secrets, activities recorded)
// and nothing is implemented twice.
package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/tui"
)

// Options are the inputs of ui.
type Options struct {
	IO      *iostreams.IOStreams
	Getenv  func(string) string
	Now     func() time.Time
	Backend func() (tui.Backend, error)
	// Program runs the page; nil: bubbletea on the process's terminal.
	Program func(ctx context.Context, m *tui.Model) error
}

// Verbs builds a fresh command tree over d (the root command): the page runs
// the verbs through it. The root passes its own constructor, so this package
// imports no other command.
type Verbs func(d *deps.Deps) *cobra.Command

// NewCmd returns `connctl ui`.
func NewCmd(d *deps.Deps, verbs Verbs, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Getenv: d.Getenv, Now: d.Now}
	opts.Backend = func() (tui.Backend, error) { return NewBackend(d, verbs) }
	if runF == nil {
		runF = run
	}
	return &cobra.Command{
		Use:   "ui",
		Short: "Open the Connections page in the terminal",
		Long: `Open the Connections page full screen: the connections with their status,
account, age and failed activities of the last 24 hours; / searches by name as
you type, f and s filter by connector and status, o or 1-6 sort by a column.
Enter (or .) opens the actions of the selected connection: Edit, Delete,
Authorize, Revoke, Re-Authorize, View Jobs and View Activities, each offered
only when it makes sense for the connection's status. Delete and Revoke ask
first, naming what will go. ? lists every key; q or Ctrl-C quits.

Every action runs the same code as its command (connctl delete, revoke,
authorize, activities, jobs run ...), and errors show with the same message
and hint. NO_COLOR turns colours off. ui needs a terminal on stdin and stdout;
in scripts use the commands themselves. See docs/ui.md.`,
		Example: `  connctl ui
  NO_COLOR=1 connctl ui`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
}

func run(ctx context.Context, opts *Options) error {
	ios := opts.IO
	if !ios.IsStdinTTY() || !ios.IsStdoutTTY() {
		return exitcode.WithHint(exitcode.UsageError("connctl ui needs a terminal on stdin and stdout"),
			"in scripts use the commands themselves: `connctl list`, `connctl delete`, ...")
	}
	b, err := opts.Backend()
	if err != nil {
		return err
	}
	m := tui.New(ctx, b, tui.Options{Color: ios.ColorEnabled(), Now: opts.Now})
	program := opts.Program
	if program == nil {
		program = terminal(ios, opts.Getenv)
	}
	// While the page is up, a line on stderr (a warning, a CONNCTL_DEBUG
	// trace) would tear the screen: keep them and print them after.
	held := &heldWriter{}
	stderr := ios.ErrOut
	ios.ErrOut = held
	defer func() {
		ios.ErrOut = stderr
		_, _ = stderr.Write(held.bytes())
	}()
	return program(ctx, m)
}

// heldWriter keeps what is written, from any goroutine.
type heldWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *heldWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *heldWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// terminal runs the page on the process's terminal. Only here does
// anything reach the terminal: bubbletea starts when ui runs, never when
// connctl starts (internal/tui has no init and no package state).
func terminal(ios *iostreams.IOStreams, getenv func(string) string) func(context.Context, *tui.Model) error {
	return func(ctx context.Context, m *tui.Model) error {
		env := []string{"TERM=" + getenv("TERM")}
		for _, k := range []string{"NO_COLOR", "CLICOLOR_FORCE", "COLORTERM", "TMUX", "TERM_PROGRAM"} {
			if v := getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
		p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(ios.In), tea.WithOutput(ios.Out), tea.WithEnvironment(env))
		_, err := p.Run()
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return exitcode.New(exitcode.Interrupted, "cancelled")
		}
		return err
	}
}

// backend is tui.Backend over the verbs.
type backend struct {
	d      *deps.Deps
	verbs  Verbs
	config string // the config file in force, given to every verb

	mu sync.Mutex // one verb at a time: they share the config and the stores
}

// NewBackend returns the page's backend over d. It reads the config once
// here, before the page starts, so that a warning about the file's
// permissions prints on the terminal as with any command.
func NewBackend(d *deps.Deps, verbs Verbs) (tui.Backend, error) {
	path, err := d.ConfigPath()
	if err != nil {
		return nil, err
	}
	if _, err := d.Config(); err != nil {
		return nil, err
	}
	return &backend{d: d, verbs: verbs, config: path}, nil
}

// lineWriter passes each complete line to fn and keeps them all.
type lineWriter struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	fn      func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexAny(w.partial, "\r\n") // jobs run redraws its line with \r
		if i < 0 {
			return len(p), nil
		}
		line := strings.ReplaceAll(string(w.partial[:i]), "\x1b[K", "")
		w.partial = w.partial[i+1:]
		if strings.TrimSpace(line) == "" {
			continue
		}
		w.lines = append(w.lines, line)
		if w.fn != nil {
			w.fn(line)
		}
	}
}

// last is the verb's last line on stderr: its confirmation.
func (w *lineWriter) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lines) == 0 {
		return ""
	}
	return w.lines[len(w.lines)-1]
}

// verbIO is what a verb reads and where its output goes.
type verbIO struct {
	in       string       // stdin: the secret of a form, never argv
	progress func(string) // each line the verb writes on stderr
	// live: stderr counts as a terminal, so that jobs run writes its
	// progress line (redrawn with \r); stdout (the records of a job
	// writing to -) is dropped.
	live bool
}

// verb runs `connctl args...` with stdout captured and each stderr line
// passed to progress; it returns stdout and the last stderr line.
func (b *backend) verb(ctx context.Context, vio verbIO, args ...string) ([]byte, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out bytes.Buffer
	var stdout io.Writer = &out
	if vio.live {
		stdout = io.Discard
	}
	in := vio.in
	errw := &lineWriter{fn: vio.progress}
	d := *b.d
	d.IO = &iostreams.IOStreams{In: strings.NewReader(in), Out: stdout, ErrOut: errw}
	if vio.live {
		d.IO.SetTTY(false, false, true)
	}
	root := b.verbs(&d)
	root.SetArgs(append([]string{"--config", b.config}, args...))
	root.SetIn(strings.NewReader(in))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var fe *exitcode.FlagError
		if errors.As(err, &fe) {
			// A flag the page passed is wrong: a bug here, not the user's.
			return nil, "", fmt.Errorf("connctl %s: %w", strings.Join(args, " "), err)
		}
	}
	return out.Bytes(), errw.last(), err
}

// connectionJSON is the part of `connctl list -o json` the page shows.
type connectionJSON struct {
	Name      string            `json:"name"`
	Connector string            `json:"connector"`
	Auth      string            `json:"auth"`
	Status    string            `json:"status"`
	Account   string            `json:"account"`
	Failed24h int               `json:"failed_24h"`
	CreatedAt time.Time         `json:"created_at"`
	Fields    map[string]string `json:"fields"`
}

func (b *backend) Connections(ctx context.Context) ([]tui.Row, error) {
	out, _, err := b.verb(ctx, verbIO{}, "list", "-o", "json")
	if err != nil {
		return nil, err
	}
	var cs []connectionJSON
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, fmt.Errorf("read `connctl list -o json`: %w", err)
	}
	cat := b.d.Catalog()
	rows := make([]tui.Row, len(cs))
	for i, c := range cs {
		oauth := false
		if ctr, ok := cat.Lookup(c.Connector); ok {
			if m, err := ctr.Auth(c.Auth); err == nil {
				oauth = m.OAuth != nil
			}
		}
		rows[i] = tui.Row{Name: c.Name, Connector: c.Connector, Status: c.Status, Account: c.Account,
			Created: c.CreatedAt, Failed24h: c.Failed24h, OAuth: oauth, Auth: c.Auth, Fields: c.Fields}
	}
	return rows, nil
}

func (b *backend) find(ctx context.Context, name string) (tui.Row, error) {
	rows, err := b.Connections(ctx)
	if err != nil {
		return tui.Row{}, err
	}
	for _, r := range rows {
		if r.Name == name {
			return r, nil
		}
	}
	return tui.Row{}, exitcode.WithHint(exitcode.NotFound("connection", name), "reload the page with ctrl+r")
}

// jobsOf names the jobs of a connection, which delete removes with it.
func (b *backend) jobsOf(ctx context.Context, name string) ([]string, error) {
	js, err := b.Jobs(ctx, name)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, j := range js {
		names = append(names, j.Name)
	}
	return names, nil
}

func (b *backend) Describe(ctx context.Context, a tui.Action, name string) (string, error) {
	r, err := b.find(ctx, name)
	if err != nil {
		return "", err
	}
	switch a {
	case tui.ActDelete:
		s := fmt.Sprintf("connection %s (%s) with its secrets", r.Name, r.Connector)
		if r.OAuth {
			s += ", revoking its token with the provider"
		}
		js, err := b.jobsOf(ctx, name)
		if err != nil {
			return "", err
		}
		if len(js) > 0 {
			s += ", and job(s) " + strings.Join(js, ", ")
		}
		return s, nil
	case tui.ActRevoke:
		if r.OAuth {
			return fmt.Sprintf("connection %s (%s): its token is revoked with the provider and removed here", r.Name, r.Connector), nil
		}
		return fmt.Sprintf("connection %s (%s): its key is removed from the secret store for good; reauthorizing needs the key again", r.Name, r.Connector), nil
	}
	return name, nil
}

func (b *backend) Do(ctx context.Context, a tui.Action, name string, progress func(string)) (string, error) {
	var args []string
	switch a {
	case tui.ActDelete:
		args = []string{"delete", name, "--yes"}
		js, err := b.jobsOf(ctx, name)
		if err != nil {
			return "", err
		}
		if len(js) > 0 {
			args = append(args, "--cascade") // the confirmation named them
		}
	case tui.ActRevoke:
		args = []string{"revoke", name, "--yes"}
	case tui.ActAuthorize:
		args = []string{"authorize", name}
	case tui.ActReauthorize:
		args = []string{"reauthorize", name}
	default:
		return "", fmt.Errorf("the page cannot run action %d", a)
	}
	_, line, err := b.verb(ctx, verbIO{progress: progress}, args...)
	return line, err
}

// activityJSON is the part of `connctl activities -o json` the page shows.
type activityJSON struct {
	ID      int64     `json:"id"`
	Type    string    `json:"type"`
	Action  string    `json:"action"`
	JobName string    `json:"job_name"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Who     string    `json:"who"`
	Started time.Time `json:"started_at"`
	Records int64     `json:"records"`
	Changes []struct {
		Field  string `json:"field"`
		Old    string `json:"old"`
		New    string `json:"new"`
		Secret bool   `json:"secret"`
	} `json:"changes"`
}

func (b *backend) Activities(ctx context.Context, name string) ([]tui.Activity, error) {
	out, _, err := b.verb(ctx, verbIO{}, "activities", "--connection", name, "--limit", "500", "-o", "json")
	if err != nil {
		return nil, err
	}
	var as []activityJSON
	if err := json.Unmarshal(out, &as); err != nil {
		return nil, fmt.Errorf("read `connctl activities -o json`: %w", err)
	}
	acts := make([]tui.Activity, len(as))
	for i, a := range as {
		acts[i] = tui.Activity{ID: a.ID, Started: a.Started, Type: a.Type, Action: a.Action, Job: a.JobName, Status: a.Status,
			Reason: a.Reason, Message: a.Message, Who: a.Who, Records: a.Records}
		for _, c := range a.Changes {
			ch := c.Field + " changed"
			if !c.Secret {
				ch = fmt.Sprintf("%s: %q -> %q", c.Field, c.Old, c.New)
			}
			acts[i].Changes = append(acts[i].Changes, ch)
		}
	}
	return acts, nil
}

// jobJSON is the part of `connctl jobs list -o json` the page shows.
type jobJSON struct {
	Name          string     `json:"name"`
	Source        string     `json:"source"`
	Schedule      string     `json:"schedule"`
	LastRunStatus string     `json:"last_run_status"`
	LastRunAt     *time.Time `json:"last_run_at"`
}

func (b *backend) Jobs(ctx context.Context, name string) ([]tui.Job, error) {
	out, _, err := b.verb(ctx, verbIO{}, "jobs", "list", "--connection", name, "-o", "json")
	if err != nil {
		return nil, err
	}
	var js []jobJSON
	if err := json.Unmarshal(out, &js); err != nil {
		return nil, fmt.Errorf("read `connctl jobs list -o json`: %w", err)
	}
	jobs := make([]tui.Job, len(js))
	for i, j := range js {
		jobs[i] = tui.Job{Name: j.Name, Source: j.Source, Schedule: j.Schedule, LastRun: j.LastRunAt, Status: j.LastRunStatus}
	}
	return jobs, nil
}

func (b *backend) RunJob(ctx context.Context, job string, progress func(string)) (string, error) {
	_, line, err := b.verb(ctx, verbIO{progress: progress, live: true}, "jobs", "run", job)
	return line, err
}

func (b *backend) Hints(err error) []string { return exitcode.Hints(err) }

// Submit runs create, edit, authorize or reauthorize with the form's
// values: fields as --set, the secret on stdin (--secret-stdin with
// --secret-field), never in argv.
func (b *backend) Submit(ctx context.Context, a tui.Action, name string, s tui.Submission, progress func(string)) (string, error) {
	var args []string
	switch a {
	case tui.ActCreate:
		args = []string{"create", "--connector", s.Connector, "--auth", s.Auth, "--name", s.Name}
	case tui.ActEdit:
		args = []string{"edit", name}
		if s.Name != "" && s.Name != name {
			args = append(args, "--rename", s.Name)
		}
	case tui.ActAuthorize:
		args = []string{"authorize", name}
	case tui.ActReauthorize:
		args = []string{"reauthorize", name}
	case tui.ActCreateJob:
		args = []string{"jobs", "create", s.Name, "--connection", name, "--source", s.Source}
		for _, k := range []string{"dest", "schedule"} {
			if v := s.Fields[k]; v != "" {
				args = append(args, "--"+k, v)
			}
			delete(s.Fields, k)
		}
		keys := make([]string, 0, len(s.Fields))
		for k := range s.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			args = append(args, "--param", k+"="+s.Fields[k])
		}
		_, line, err := b.verb(ctx, verbIO{progress: progress}, args...)
		return line, err
	default:
		return "", fmt.Errorf("the page cannot submit action %d", a)
	}
	keys := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s.Fields[k] == "" && a == tui.ActEdit {
			args = append(args, "--unset", k)
			continue
		}
		args = append(args, "--set", k+"="+s.Fields[k])
	}
	secret := ""
	if len(s.Secrets) > 1 {
		return "", exitcode.WithHint(exitcode.UsageError("the page takes one secret at a time"),
			"save the others with `connctl edit "+connectionArg(s.Name, name)+" --secret-field <name> --secret-stdin`")
	}
	for field, v := range s.Secrets {
		args = append(args, "--secret-stdin", "--secret-field", field)
		secret = v
	}
	_, line, err := b.verb(ctx, verbIO{in: secret, progress: progress}, args...)
	return line, err
}

func connectionArg(names ...string) string {
	for _, n := range names {
		if n != "" {
			return n
		}
	}
	return "<name>"
}

func (b *backend) ValidName(name string) error { return configstore.ValidateName(name) }

func (b *backend) Connectors() []tui.Connector {
	var out []tui.Connector
	for _, c := range b.d.Catalog().All() {
		tc := tui.Connector{ID: c.ID, Name: c.Name, Category: string(c.Category), Fields: fields(c.Fields)}
		for _, src := range c.Sources {
			tc.Sources = append(tc.Sources, tui.Source{Name: src.Name, Help: src.Help, Params: fields(src.Params)})
		}
		for _, m := range c.Auths {
			tc.Methods = append(tc.Methods, tui.Method{ID: m.ID, Label: m.Label, OAuth: m.OAuth != nil, HowTo: m.HowTo, Fields: fields(m.Fields)})
		}
		out = append(out, tc)
	}
	return out
}

func fields(fs []connector.Field) []tui.Field {
	out := make([]tui.Field, len(fs))
	for i, f := range fs {
		label := f.Label
		if label == "" {
			label = f.Name
		}
		out[i] = tui.Field{Name: f.Name, Label: label, Help: f.Help, Required: f.Required, Secret: f.Secret,
			Default: f.Default, Enum: f.Enum, Validate: f.Validate}
	}
	return out
}
