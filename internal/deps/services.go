package deps

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/jobs"
)

// The services below are built from the fields above on each call, so a
// test that fills in Config, Secrets and Catalog gets them too. Building
// one is cheap: the config and secret stores they wrap are opened once.

// Connections builds the connection manager: the lifecycle that keeps the
// config and the secret store in step. Depends on Config, Secrets, Catalog,
// Now and IO; on Activities (when set) to record each change.
func (d *Deps) Connections() (*connection.Manager, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	mg := &connection.Manager{Config: cfg, Secrets: d.Secrets, Catalog: d.Catalog(), Now: d.Now,
		LockDir: d.lockDir(), Warnf: d.IO.Warnf}
	if d.Activities != nil {
		mg.OnUpdate = func(ctx context.Context, u connection.Update) {
			c := u.Connection
			d.RecordUpdate(ctx, activitylog.Activity{Action: u.Action, ConnectionID: c.ID, ConnectionName: c.Name}, u.Changes)
		}
	}
	return mg, nil
}

// Authz builds the OAuth service (browser flow, refresh, revoke, who-am-I)
// on Connections. Depends on HTTP and Browser; it asks the user to choose
// (a Jira site) only when IO can prompt.
func (d *Deps) Authz() (*authorization.Service, error) {
	mgr, err := d.Connections()
	if err != nil {
		return nil, err
	}
	s := &authorization.Service{Mgr: mgr, HTTP: d.HTTP(), Opener: d.Browser, Stderr: d.IO.ErrOut, LockDir: d.lockDir()}
	if s.SharedLock, err = d.sharedRefreshLock(); err != nil {
		return nil, err
	}
	if d.IO.CanPrompt() {
		s.Prompt = d.choose
	}
	return s, nil
}

// choose asks the user to pick one of options by number, three times at most.
func (d *Deps) choose(q string, options []string) (int, error) {
	fmt.Fprintln(d.IO.ErrOut, q)
	for i, o := range options {
		fmt.Fprintf(d.IO.ErrOut, "  %d) %s\n", i+1, o)
	}
	for range 3 {
		a, err := d.IO.Prompt("Choose 1-" + strconv.Itoa(len(options)) + ": ")
		if err != nil {
			return 0, err
		}
		if n, err := strconv.Atoi(strings.TrimSpace(a)); err == nil && n >= 1 && n <= len(options) {
			return n - 1, nil
		}
	}
	return 0, exitcode.UsageError("no valid choice given")
}

// Jobs builds the jobs manager (job definitions in the config). Depends on
// Config, Catalog and Now; on Activities (when set) to record each change.
func (d *Deps) Jobs() (*jobs.Manager, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	m := &jobs.Manager{Config: cfg, Catalog: d.Catalog(), Now: d.Now}
	if d.Activities != nil {
		m.OnUpdate = d.RecordJobUpdate
	}
	return m, nil
}

// RecordJobUpdate records a change to job j (of connection c, when known)
// as an update activity; it is jobs.Manager's OnUpdate.
func (d *Deps) RecordJobUpdate(ctx context.Context, action string, j *configstore.Job, c *configstore.Connection, changes []connection.Change) {
	a := activitylog.Activity{Action: action, JobID: j.ID, JobName: j.Name}
	if c != nil {
		a.ConnectionID, a.ConnectionName = c.ID, c.Name
	}
	d.RecordUpdate(ctx, a, changes)
}

// RecordUpdate records a change that has been made as a succeeded update
// activity: a names the action and its subject, changes what changed (for
// a secret only its field name). The change has already happened, so a
// failure to record it is a warning, not an error.
func (d *Deps) RecordUpdate(ctx context.Context, a activitylog.Activity, changes []connection.Change) {
	if d.Activities == nil {
		return
	}
	a.Type, a.Status, a.Who, a.StartedAt = activitylog.TypeUpdate, activitylog.StatusSucceeded, d.Who(), d.Now()
	for _, ch := range changes {
		a.Changes = append(a.Changes, activitylog.Change{Field: ch.Field, Old: ch.Old, New: ch.New, Secret: ch.Secret})
	}
	store, err := d.Activities()
	if err == nil {
		_, err = store.Record(ctx, a)
	}
	if err != nil {
		d.IO.Warnf("the change was made but not recorded in the activity log: %v", err)
	}
}

// RecordFailedAuthorization records a failed (re)authorization as a failed
// update activity, so that `connctl list` flags the connection.
func (d *Deps) RecordFailedAuthorization(ctx context.Context, c *configstore.Connection, action string, cause error) {
	if d.Activities == nil || c == nil {
		return
	}
	store, err := d.Activities()
	if err == nil {
		_, err = store.Record(context.WithoutCancel(ctx), activitylog.Activity{Type: activitylog.TypeUpdate, Action: action,
			ConnectionID: c.ID, ConnectionName: c.Name, Status: activitylog.StatusFailed, Reason: activitylog.ReasonAuth,
			Message: cause.Error(), Who: d.Who(), StartedAt: d.Now()})
	}
	if err != nil {
		d.IO.Warnf("the failure was not recorded in the activity log: %v", err)
	}
}

// FailedLastDay counts each connection's failed activities of the last 24
// hours (the product's info icon). No activity log yet means none; a log that
// cannot be read is a warning, not a reason to fail the listing.
func (d *Deps) FailedLastDay(ctx context.Context) map[string]int {
	store, err := d.ActivitiesIfAny()
	if err == nil && store != nil {
		var m map[string]int
		if m, err = store.FailedSince(ctx, d.Now().Add(-24*time.Hour)); err == nil {
			return m
		}
	}
	if err != nil {
		d.IO.Warnf("cannot read the activity log: %v", err)
	}
	return map[string]int{}
}

// lockDir holds the per-connection locks and pending notes.
func (d *Deps) lockDir() string { return filepath.Join(d.StateDir(), "locks") }
