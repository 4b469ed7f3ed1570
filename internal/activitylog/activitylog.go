// Package activitylog holds connctl's activities, the record of every job run
// (execution activities) and of every change to a connection or a job (update
// activities), together with the incremental checkpoints of jobs. They live in
// one embedded SQLite database (modernc.org/sqlite, pure Go), in WAL mode, safe
// to share between several connctl processes; the file is 0600 in a 0700
// folder.
//
// The package never prints and never stores a secret: messages are cut to one
// line of at most MaxMessage characters and scrubbed of things that look like
// credentials (bearer tokens, key=value pairs named like secrets, URL
// passwords, JWTs, private keys); callers remove the secret values they know
// with Redact; a Change marked Secret, or whose field is named like a secret,
// keeps no values.
//
// A running execution whose process is gone is reported with StatusStale; that
// status is computed when reading and never stored.
//
// Cost: linking this package adds SQLite, about 4 MB to a stripped binary and
// 1.5 to 2.5 ms to every start-up (package initialisation, driver
// registration); Open and Close add about 5 ms more in a fresh process. So
// commands reach the store through a lazy constructor, and only those that
// record or read activities open it.
//
// Callers depend on the Log interface (Recorder, Reader, Checkpoints), of
// which the SQLite Store is one implementation; activitylogtest holds the
// suite every implementation passes.
package activitylog

import (
	"fmt"
	"slices"
	"time"
)

// FileName is the database's name inside connctl's state folder
// ($XDG_STATE_HOME/connctl).
const FileName = "state.db"

// MaxMessage is the longest message kept, in characters; a longer one is cut
// and ends with "…".
const MaxMessage = 500

// Type is the kind of an activity.
type Type string

// The activity types.
const (
	TypeExecution Type = "execution" // a job run
	TypeUpdate    Type = "update"    // a change to a connection or a job
)

// Status is where an activity stands.
type Status string

// The statuses. Update activities are StatusSucceeded (or StatusFailed, for an
// attempt that changed nothing, such as a denied authorization).
const (
	StatusRunning            Status = "running"
	StatusSucceeded          Status = "succeeded"
	StatusPartiallySucceeded Status = "partially_succeeded"
	StatusFailed             Status = "failed"
	StatusCancelled          Status = "cancelled"
	// StatusStale is a running execution whose process is gone (it was
	// killed, or the machine stopped). It is computed when reading, never
	// stored, so a run is never shown running forever.
	StatusStale Status = "stale"
)

// Reason classifies a failure.
type Reason string

// The failure reasons.
const (
	ReasonAuth        Reason = "auth"         // not authorized, token refused or revoked
	ReasonConfig      Reason = "config"       // the job or the connection is misconfigured
	ReasonRateLimit   Reason = "rate_limit"   // throttled beyond the retries
	ReasonSourceError Reason = "source_error" // the source system answered with an error or malformed data
	ReasonNetwork     Reason = "network"      // DNS, TLS, connection or timeout
	ReasonDestination Reason = "destination"  // the output could not be written
	ReasonTimeout     Reason = "timeout"      // the run took longer than its time limit (jobs run --timeout)
)

// The actions. Executions are ActionRun; updates are the others, on a
// connection or on a job.
const (
	ActionRun         = "run"
	ActionCreate      = "create"
	ActionEdit        = "edit"
	ActionAuthorize   = "authorize"
	ActionRevoke      = "revoke"
	ActionReauthorize = "reauthorize"
	ActionDelete      = "delete"
	// ActionPause is a job paused after too many consecutive failed
	// scheduled runs (jobs.pause_after); ActionResume undoes it.
	ActionPause  = "pause"
	ActionResume = "resume"
)

// Change is one changed field of an update activity. A secret change carries
// no values: only the field name is kept.
type Change struct {
	Field  string `json:"field"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

// Activity is one execution or update.
type Activity struct {
	ID     int64  `json:"id"`
	Type   Type   `json:"type"`
	Action string `json:"action"` // update: create|edit|authorize|revoke|reauthorize|delete|pause|resume; execution: run

	// IDs are what filters match; names are kept for display after a rename
	// or a delete.
	ConnectionID   string `json:"connection_id"`
	ConnectionName string `json:"connection_name"`
	JobID          string `json:"job_id"`
	JobName        string `json:"job_name"`

	Status  Status `json:"status"`
	Reason  Reason `json:"reason"`  // failures only
	Message string `json:"message"` // one line, at most MaxMessage characters
	Who     string `json:"who"`     // the OS user

	StartedAt  time.Time  `json:"started_at"`  // UTC when read back
	FinishedAt *time.Time `json:"finished_at"` // nil while running

	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	Pages   int64 `json:"pages"`
	Retries int64 `json:"retries"`
	// WithoutCursor counts the records written without the source's
	// incremental field (a Jira issue with no fields.updated): they are in
	// the output but did not move the checkpoint.
	WithoutCursor int64 `json:"without_cursor"`

	Changes []Change `json:"changes"`

	// PID and Host identify the process of a running execution, to tell a
	// live run from a stale one. Record and BeginRun fill them in when empty.
	PID  int    `json:"pid"`
	Host string `json:"host"`
}

// Counts are the figures of a run.
type Counts struct {
	Records, Bytes, Pages, Retries int64
	WithoutCursor                  int64 // records without the incremental field
}

var (
	updateActions  = []string{ActionCreate, ActionEdit, ActionAuthorize, ActionRevoke, ActionReauthorize, ActionDelete, ActionPause, ActionResume}
	finalStatuses  = []Status{StatusSucceeded, StatusPartiallySucceeded, StatusFailed, StatusCancelled}
	storedStatuses = append([]Status{StatusRunning}, finalStatuses...)
	reasons        = []Reason{ReasonAuth, ReasonConfig, ReasonRateLimit, ReasonSourceError, ReasonNetwork, ReasonDestination, ReasonTimeout}
)

func checkReason(st Status, r Reason) error {
	if r == "" {
		return nil
	}
	if !slices.Contains(reasons, r) {
		return fmt.Errorf("unknown failure reason %q", r)
	}
	if st != StatusFailed && st != StatusPartiallySucceeded {
		return fmt.Errorf("a %s activity has no failure reason (got %q)", st, r)
	}
	return nil
}

func (c Counts) check() error {
	if c.Records < 0 || c.Bytes < 0 || c.Pages < 0 || c.Retries < 0 || c.WithoutCursor < 0 {
		return fmt.Errorf("negative counts %+v", c)
	}
	return nil
}

// normalize checks a and fills in what Record may default. now is the time a
// finished-at-once activity gets when it has no StartedAt.
func (a *Activity) normalize(now time.Time) error {
	if a.StartedAt.IsZero() {
		a.StartedAt = now
	}
	switch a.Type {
	case TypeExecution:
		if a.Action == "" {
			a.Action = ActionRun
		}
		if a.Action != ActionRun {
			return fmt.Errorf("unknown execution action %q (want %q)", a.Action, ActionRun)
		}
		if a.JobID == "" {
			return fmt.Errorf("an execution activity needs a job ID")
		}
		if a.Status == "" {
			a.Status = StatusRunning
		}
		if !slices.Contains(storedStatuses, a.Status) {
			return fmt.Errorf("unknown execution status %q", a.Status)
		}
	case TypeUpdate:
		if !slices.Contains(updateActions, a.Action) {
			return fmt.Errorf("unknown update action %q", a.Action)
		}
		if a.ConnectionID == "" && a.JobID == "" {
			return fmt.Errorf("an update activity needs a connection or a job ID")
		}
		if a.Status == "" {
			a.Status = StatusSucceeded
		}
		if a.Status != StatusSucceeded && a.Status != StatusFailed {
			return fmt.Errorf("an update activity is succeeded or failed, not %q", a.Status)
		}
	default:
		return fmt.Errorf("unknown activity type %q", a.Type)
	}
	if err := checkReason(a.Status, a.Reason); err != nil {
		return err
	}
	if err := (Counts{a.Records, a.Bytes, a.Pages, a.Retries, a.WithoutCursor}).check(); err != nil {
		return err
	}
	if a.Status == StatusRunning {
		if a.FinishedAt != nil {
			return fmt.Errorf("a running activity has no finish time")
		}
	} else if a.FinishedAt == nil {
		t := a.StartedAt
		a.FinishedAt = &t
	}
	a.Message = cleanMessage(a.Message)
	changes, err := cleanChanges(a.Changes)
	if err != nil {
		return err
	}
	a.Changes = changes
	return nil
}
