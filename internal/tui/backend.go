// Package tui is the Connections page in the terminal (`connctl ui`): the
// screens, the keys and the styles. It holds no domain code: every row it
// shows and every action it takes comes through Backend, which the ui
// command implements with the verbs themselves. It never writes to the
// terminal itself; the program that runs the Model does, once started.
package tui

import (
	"context"
	"time"
)

// Row is one connection as the list shows it.
type Row struct {
	Name      string
	Connector string
	Status    string // as `connctl list` shows it: authorized, unverified, revoked ...
	Account   string
	Created   time.Time
	Failed24h int  // failed activities in the last 24 hours (the info marker)
	OAuth     bool // authorized through the browser, not with a key
	Auth      string
	Fields    map[string]string // the connection's fields (no secrets), for Edit
}

// Field is one input of a connector's form.
type Field struct {
	Name, Label, Help string
	Required, Secret  bool
	Default           string
	Enum              []string
	// Validate checks a non-empty value; its message names the fix.
	Validate func(string) error
}

// Method is one way to authenticate to a connector.
type Method struct {
	ID, Label string
	OAuth     bool
	HowTo     string
	Fields    []Field // the method's own fields, secrets included
}

// Connector is one kind of connection the page can create.
type Connector struct {
	ID, Name, Category string
	Fields             []Field // fields every method uses
	Methods            []Method
	Sources            []Source
}

// Source is a kind of records a job of the connector can fetch.
type Source struct {
	Name, Help string
	Params     []Field
}

// Submission is a filled-in form: a new connection (Create), changed
// fields (Edit), or new credentials (Authorize, Re-Authorize).
type Submission struct {
	Connector, Auth, Name string
	Source                string            // Create Job
	Fields                map[string]string // Edit: only the changed ones
	Secrets               map[string]string
}

// Activity is one activity of a connection, for View Activities.
type Activity struct {
	ID      int64
	Started time.Time
	Type    string // execution or update
	Action  string
	Job     string
	Status  string
	Reason  string
	Message string
	Who     string
	Records int64
	Changes []string // "field: old -> new", secrets named only
}

// Job is one job of a connection, for View Jobs.
type Job struct {
	Name     string
	Source   string
	Schedule string
	LastRun  *time.Time
	Status   string // of the last run; empty: never run
}

// Action is what the context menu offers.
type Action int

// The page's actions, in menu order.
const (
	ActEdit Action = iota
	ActDelete
	ActAuthorize
	ActRevoke
	ActReauthorize
	ActViewJobs
	ActViewActivities
	ActCreate    // not in the menu: the c key
	ActCreateJob // View Jobs: n
)

// Backend is everything the page does to the outside world. Each method
// is one verb of the command line (the ui command runs the verbs), so the
// page gets what they guarantee.
type Backend interface {
	// Connections lists every connection.
	Connections(ctx context.Context) ([]Row, error)
	// Describe names what a destructive action will remove, for its
	// confirmation ("connection crm (salesforce) with its secrets").
	Describe(ctx context.Context, a Action, name string) (string, error)
	// Do runs a change (delete, revoke, authorize, reauthorize) and
	// returns its confirmation line. progress gets each line the verb
	// writes while it runs (the authorization URL, for one).
	Do(ctx context.Context, a Action, name string, progress func(string)) (string, error)
	// Submit saves a form: Create, Edit, a key-based Authorize or
	// Re-Authorize (with the secrets typed), or a new job of connection
	// name (Create Job: Name, Source, Fields dest, schedule and params). An OAuth Create runs the
	// browser flow, its URL passed to progress.
	Submit(ctx context.Context, a Action, name string, s Submission, progress func(string)) (string, error)
	// Connectors lists what can be created, and ValidName checks a new
	// connection name as the command line would.
	Connectors() []Connector
	ValidName(name string) error
	// Activities lists a connection's activities, newest first.
	Activities(ctx context.Context, name string) ([]Activity, error)
	// Jobs lists a connection's jobs.
	Jobs(ctx context.Context, name string) ([]Job, error)
	// RunJob runs one job now; progress gets each line of progress.
	RunJob(ctx context.Context, job string, progress func(string)) (string, error)
	// Hints are the hints the command line prints under err.
	Hints(err error) []string
}

// Options are the page's settings that do not come from the Backend.
type Options struct {
	Color bool             // false with NO_COLOR or a terminal without colour
	Now   func() time.Time // for "3h ago" and the 24-hour filter
}
