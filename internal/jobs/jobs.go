// Package jobs holds job definitions: what to fetch through which
// connection, where to write it, and when. It validates them against the
// connector's declared sources and keeps them in the config file (Manager),
// and runs them (Runner: the run lock, credentials, jobrunner.Run, the
// checkpoint and the execution activity, in that order). It never prints.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jobrunner"
)

// Modes and formats.
const (
	ModeIncremental = "incremental"
	ModeFull        = "full"
	FormatNDJSON    = "ndjson"
	FormatCSV       = "csv"
)

// When a job notifies (--notify-on).
const (
	NotifyOnFailure = "failure" // when it starts failing, while it fails (reminders), when it recovers
	NotifyOnAlways  = "always"  // also after every successful run
	NotifyOnNever   = "never"
)

// NotifyOnValues are --notify-on's values, the default first.
var NotifyOnValues = []string{NotifyOnFailure, NotifyOnAlways, NotifyOnNever}

// normalizeNotifyOn checks a --notify-on value; "" is the default.
func normalizeNotifyOn(v string) (string, error) {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case "", NotifyOnFailure:
		return NotifyOnFailure, nil
	case NotifyOnAlways, NotifyOnNever:
		return s, nil
	}
	return "", exitcode.UsageError("--notify-on %q: choose failure, always or never", v)
}

// NotifyOn is job j's --notify-on, with the default filled in.
func NotifyOn(j *configstore.Job) string {
	if j.NotifyOn == "" {
		return NotifyOnFailure
	}
	return j.NotifyOn
}

// Manager changes job definitions.
type Manager struct {
	Config  configstore.Definitions
	Catalog *connector.Catalogue
	Now     func() time.Time
	// OnUpdate, when set, is told of every change (update activities).
	OnUpdate func(ctx context.Context, action string, j *configstore.Job, conn *configstore.Connection, changes []connection.Change)
}

// Spec is a job as given on the command line.
type Spec struct {
	Name        string
	Connection  string // name
	Source      string
	Params      []connection.Assignment
	Dest        string
	Format      string
	FullRefresh bool
	Schedule    string
	NotifyOn    string // "": failure
}

// NotFound is the error for an unknown job name.
func NotFound(name string) error {
	return exitcode.WithHint(exitcode.NotFound("job", name), "list jobs with `connctl jobs list`")
}

func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "job_" + hex.EncodeToString(b[:])
}

// SourceOf returns the connector and declared source of job j.
func (m *Manager) SourceOf(d *configstore.Document, j *configstore.Job) (*configstore.Connection, *connector.Connector, *connector.Source, error) {
	c := d.ConnectionByID(j.ConnectionID)
	if c == nil {
		return nil, nil, nil, fmt.Errorf("job %q refers to a connection that no longer exists", j.Name)
	}
	ctr, ok := m.Catalog.Lookup(c.Connector)
	if !ok {
		return nil, nil, nil, fmt.Errorf("connection %q uses connector %q, which this connctl does not know", c.Name, c.Connector)
	}
	src, err := findSource(ctr, j.Source)
	return c, ctr, src, err
}

func findSource(ctr *connector.Connector, name string) (*connector.Source, error) {
	names := make([]string, 0, len(ctr.Sources))
	for i := range ctr.Sources {
		if strings.EqualFold(ctr.Sources[i].Name, name) {
			return &ctr.Sources[i], nil
		}
		names = append(names, ctr.Sources[i].Name)
	}
	if len(names) == 0 {
		return nil, exitcode.UsageError("connector %s has no sources to fetch from", ctr.ID)
	}
	return nil, exitcode.WithHint(exitcode.UsageError("connector %s has no source %q", ctr.ID, name),
		fmt.Sprintf("sources: %s (see `connctl connectors show %s`)", strings.Join(names, ", "), ctr.ID))
}

// Interval parses a schedule: hourly, daily, weekly, or "every DURATION"
// (at least 1m). Empty means on demand.
func Interval(schedule string) (time.Duration, error) {
	s := strings.TrimSpace(strings.ToLower(schedule))
	switch s {
	case "":
		return 0, nil
	case "hourly":
		return time.Hour, nil
	case "daily":
		return 24 * time.Hour, nil
	case "weekly":
		return 7 * 24 * time.Hour, nil
	}
	if rest, ok := strings.CutPrefix(s, "every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err == nil && d >= time.Minute {
			return d, nil
		}
	}
	return 0, exitcode.UsageError("schedule %q: use hourly, daily, weekly or \"every 15m\" (at least 1m)", schedule)
}

func normalizeFormat(format, dest string) (string, error) {
	switch strings.ToLower(format) {
	case "":
		if strings.EqualFold(filepath.Ext(dest), ".csv") {
			return FormatCSV, nil
		}
		return FormatNDJSON, nil
	case FormatNDJSON, "jsonl", "json":
		return FormatNDJSON, nil
	case FormatCSV:
		return FormatCSV, nil
	}
	return "", exitcode.UsageError("--format %q: choose ndjson or csv", format)
}

func normalizeDest(dest string) (string, error) {
	if dest == "" || dest == "-" {
		return "-", nil
	}
	abs, err := filepath.Abs(dest) // cron runs elsewhere: keep the absolute path
	if err != nil {
		return "", exitcode.UsageError("--dest %q: %v", dest, err)
	}
	return abs, nil
}

// applyParams checks params against the source's declared parameters.
func applyParams(ctr *connector.Connector, src *connector.Source, base map[string]string, set []connection.Assignment) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	known := map[string]*connector.Field{}
	for i := range src.Params {
		known[src.Params[i].Name] = &src.Params[i]
	}
	for _, a := range set {
		f, ok := known[a.Key]
		if !ok {
			var names []string
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			list := "none"
			if len(names) > 0 {
				list = strings.Join(names, ", ")
			}
			return nil, exitcode.UsageError("source %s of %s has no parameter %q (parameters: %s)", src.Name, ctr.ID, a.Key, list)
		}
		if err := connection.CheckValue(f, a.Value); err != nil {
			return nil, err
		}
		v := a.Value
		if v != "" && strings.HasSuffix(a.Key, "_dir") {
			// Folders are kept absolute: cron runs jobs from another directory.
			abs, err := filepath.Abs(v)
			if err != nil {
				return nil, exitcode.UsageError("--param %s=%q: %v", a.Key, v, err)
			}
			v = abs
		}
		if v == "" {
			delete(out, a.Key)
		} else {
			out[a.Key] = v
		}
	}
	for _, f := range src.Params {
		if f.Required && out[f.Name] == "" && f.Default == "" {
			return nil, exitcode.UsageError("source %s of %s needs the parameter %s: give it with --param %s=...", src.Name, ctr.ID, f.Name, f.Name)
		}
	}
	return out, nil
}

// Create validates spec and adds the job.
func (m *Manager) Create(ctx context.Context, spec Spec) (*configstore.Job, error) {
	if err := configstore.ValidateName(spec.Name); err != nil {
		return nil, exitcode.UsageError("%s", strings.Replace(err.Error(), "connection name", "job name", 1))
	}
	var job configstore.Job
	var conn configstore.Connection
	err := m.Config.Update(ctx, func(d *configstore.Document) error {
		if _, j := d.FindJob(spec.Name); j != nil {
			return exitcode.UsageError("a job named %q already exists", j.Name)
		}
		_, c := d.Find(spec.Connection)
		if c == nil {
			return connection.NotFound(spec.Connection)
		}
		ctr, ok := m.Catalog.Lookup(c.Connector)
		if !ok {
			return fmt.Errorf("connection %q uses an unknown connector %q", c.Name, c.Connector)
		}
		src, err := findSource(ctr, spec.Source)
		if err != nil {
			return err
		}
		params, err := applyParams(ctr, src, nil, spec.Params)
		if err != nil {
			return err
		}
		dest, err := normalizeDest(spec.Dest)
		if err != nil {
			return err
		}
		format, err := normalizeFormat(spec.Format, dest)
		if err != nil {
			return err
		}
		if _, err := Interval(spec.Schedule); err != nil {
			return err
		}
		notifyOn, err := normalizeNotifyOn(spec.NotifyOn)
		if err != nil {
			return err
		}
		mode := ModeFull
		if src.Incremental(params) && !spec.FullRefresh {
			mode = ModeIncremental
		}
		now := m.Now().UTC()
		job = configstore.Job{ID: newID(), Name: spec.Name, ConnectionID: c.ID, Source: src.Name, Params: params, Dest: dest,
			Format: format, Mode: mode, Schedule: strings.TrimSpace(spec.Schedule), NotifyOn: notifyOn, CreatedAt: now, UpdatedAt: now}
		d.Jobs = append(d.Jobs, job)
		conn = *c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.OnUpdate != nil {
		changes := []connection.Change{{Field: "connection", New: conn.Name}, {Field: "source", New: job.Source},
			{Field: "dest", New: job.Dest}, {Field: "format", New: job.Format}, {Field: "mode", New: job.Mode}}
		if job.Schedule != "" {
			changes = append(changes, connection.Change{Field: "schedule", New: job.Schedule})
		}
		changes = append(changes, connection.Change{Field: "notify_on", New: job.NotifyOn})
		m.OnUpdate(context.WithoutCancel(ctx), "create", &job, &conn, changes)
	}
	return &job, nil
}

// EditSpec changes a job; empty strings leave a value as it is.
type EditSpec struct {
	Params      []connection.Assignment
	Dest        string
	Format      string
	Schedule    *string
	FullRefresh *bool
	Rename      string
	NotifyOn    string // "": unchanged
}

// Edit applies spec to the job named name.
func (m *Manager) Edit(ctx context.Context, name string, spec EditSpec) (*configstore.Job, []connection.Change, error) {
	if spec.Rename != "" {
		if err := configstore.ValidateName(spec.Rename); err != nil {
			return nil, nil, exitcode.UsageError("%s", strings.Replace(err.Error(), "connection name", "job name", 1))
		}
	}
	var out configstore.Job
	var conn configstore.Connection
	var changes []connection.Change
	err := m.Config.Update(ctx, func(d *configstore.Document) error {
		i, j := d.FindJob(name)
		if j == nil {
			return NotFound(name)
		}
		c, ctr, src, err := m.SourceOf(d, j)
		if err != nil {
			return err
		}
		next := *j
		if next.Params, err = applyParams(ctr, src, j.Params, spec.Params); err != nil {
			return err
		}
		for _, k := range unionKeys(j.Params, next.Params) {
			if j.Params[k] != next.Params[k] {
				changes = append(changes, connection.Change{Field: "params." + k, Old: j.Params[k], New: next.Params[k]})
			}
		}
		if spec.Dest != "" {
			if next.Dest, err = normalizeDest(spec.Dest); err != nil {
				return err
			}
		}
		if spec.Format != "" {
			if next.Format, err = normalizeFormat(spec.Format, next.Dest); err != nil {
				return err
			}
		}
		if spec.Schedule != nil {
			if _, err := Interval(*spec.Schedule); err != nil {
				return err
			}
			next.Schedule = strings.TrimSpace(*spec.Schedule)
		}
		if spec.NotifyOn != "" {
			if next.NotifyOn, err = normalizeNotifyOn(spec.NotifyOn); err != nil {
				return err
			}
		}
		switch {
		case spec.FullRefresh != nil:
			next.Mode = ModeFull
			if !*spec.FullRefresh && src.Incremental(next.Params) {
				next.Mode = ModeIncremental
			}
		case src.IncrementalParam != "" && src.Incremental(j.Params) != src.Incremental(next.Params):
			// The job now names an incremental field, or no longer does.
			next.Mode = ModeFull
			if src.Incremental(next.Params) {
				next.Mode = ModeIncremental
			}
		}
		if spec.Rename != "" && spec.Rename != j.Name {
			if _, o := d.FindJob(spec.Rename); o != nil && o.ID != j.ID {
				return exitcode.UsageError("a job named %q already exists", o.Name)
			}
			next.Name = spec.Rename
		}
		for _, f := range [][3]string{{"name", j.Name, next.Name}, {"dest", j.Dest, next.Dest}, {"format", j.Format, next.Format}, {"schedule", j.Schedule, next.Schedule}, {"mode", j.Mode, next.Mode}, {"notify_on", NotifyOn(j), NotifyOn(&next)}} {
			if f[1] != f[2] {
				changes = append(changes, connection.Change{Field: f[0], Old: f[1], New: f[2]})
			}
		}
		if len(changes) > 0 {
			next.UpdatedAt = m.Now().UTC()
			d.Jobs[i] = next
		}
		out, conn = next, *c
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(changes) > 0 && m.OnUpdate != nil {
		m.OnUpdate(context.WithoutCancel(ctx), "edit", &out, &conn, changes)
	}
	return &out, changes, nil
}

// Delete removes the job named name.
func (m *Manager) Delete(ctx context.Context, name string) (*configstore.Job, error) {
	var out configstore.Job
	var conn *configstore.Connection
	err := m.Config.Update(ctx, func(d *configstore.Document) error {
		i, j := d.FindJob(name)
		if j == nil {
			return NotFound(name)
		}
		out = *j
		if c := d.ConnectionByID(j.ConnectionID); c != nil {
			cc := *c
			conn = &cc
		}
		d.Jobs = append(d.Jobs[:i], d.Jobs[i+1:]...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.OnUpdate != nil {
		m.OnUpdate(context.WithoutCancel(ctx), "delete", &out, conn, nil)
	}
	return &out, nil
}

// JobsOf returns the names of the jobs that use the connection with id.
func JobsOf(d *configstore.Document, connID string) []string {
	var out []string
	for _, j := range d.Jobs {
		if j.ConnectionID == connID {
			out = append(out, j.Name)
		}
	}
	return out
}

func unionKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CheckpointStore is what SetCheckpoint needs of the activity log.
type CheckpointStore interface {
	Checkpoint(ctx context.Context, jobID string) (string, bool, error)
	CheckpointSwapper
}

// SetCheckpoint moves the checkpoint of the incremental job named name to
// value (nil: clears it, so that the next run fetches everything), written
// as the source writes its checkpoints (jobrunner.CheckpointLike). The
// change is a swap from the checkpoint read, so that a run saving its own
// meanwhile is not overwritten (the command says to try again), and it is
// recorded as a job update. old is the checkpoint before and set the one
// after (nil: none).
func (m *Manager) SetCheckpoint(ctx context.Context, cps CheckpointStore, name string, value *string) (old, set *string, err error) {
	d := m.Config.Document()
	_, jp := d.FindJob(name)
	if jp == nil {
		return nil, nil, NotFound(name)
	}
	job := *jp
	if job.Mode != ModeIncremental {
		return nil, nil, exitcode.WithHint(exitcode.UsageError("job %q fetches everything at each run (mode %s): it has no checkpoint", job.Name, job.Mode),
			fmt.Sprintf("make it incremental with `connctl jobs edit %s --incremental`", connection.QuoteArg(job.Name)))
	}
	cur, had, err := cps.Checkpoint(ctx, job.ID)
	if err != nil {
		return nil, nil, err
	}
	if had {
		old = &cur
	}
	if value != nil {
		if !had {
			return nil, nil, exitcode.WithHint(exitcode.UsageError("job %q has no checkpoint yet: its first run fetches everything and sets one", job.Name),
				fmt.Sprintf("run it once (`connctl jobs run %s`), then move its checkpoint", connection.QuoteArg(job.Name)))
		}
		v, err := jobrunner.CheckpointLike(cur, *value)
		if err != nil {
			return nil, nil, exitcode.UsageError("--checkpoint: %v", err)
		}
		set = &v
	}
	if (old == nil && set == nil) || (old != nil && set != nil && *old == *set) {
		return old, set, nil
	}
	swapped, err := cps.SwapCheckpoint(ctx, job.ID, old, set)
	if err != nil {
		return nil, nil, err
	}
	if !swapped {
		return nil, nil, exitcode.New(exitcode.Failure, "the checkpoint of job %q changed while this command ran (a run saved its own): run the command again", job.Name)
	}
	if m.OnUpdate != nil {
		ch := connection.Change{Field: "checkpoint"}
		if old != nil {
			ch.Old = *old
		}
		if set != nil {
			ch.New = *set
		}
		var conn *configstore.Connection
		if c := d.ConnectionByID(job.ConnectionID); c != nil {
			cc := *c
			conn = &cc
		}
		m.OnUpdate(context.WithoutCancel(ctx), "edit", &job, conn, []connection.Change{ch})
	}
	return old, set, nil
}
