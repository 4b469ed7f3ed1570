// Package notify tells people when a connection or a job changes state: a
// connection that starts failing or recovers (from `connctl status`), a
// job that fails or recovers (from `connctl jobs run`). It remembers each
// subject's last state in the activity log (activitylog.States), so that a
// change gives one message, a subject that stays broken a reminder at most
// every RemindAfter, and a repeat nothing. Messages go to sinks: a webhook
// (a Slack-compatible JSON payload) and a command (the same JSON on its
// stdin).
//
// It never prints and never fails the run that observed the change: a
// sink's failure is handed to Warnf. It puts no secret in a payload:
// reasons and fixes are cleaned as the activity log cleans its messages.
package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
)

// Subjects of an event.
const (
	SubjectConnection = activitylog.SubjectConnectionState
	SubjectJob        = activitylog.SubjectJobState
)

// Kinds of event.
const (
	KindFailing   = "failing"   // it was healthy (or unknown) and now fails
	KindReminder  = "reminder"  // it still fails, RemindAfter after the last message
	KindRecovered = "recovered" // it failed and is healthy again
	KindSucceeded = "succeeded" // a job's success, for --notify-on always
	KindPaused    = "paused"    // a job paused after consecutive failures
)

// DefaultRemindAfter is notify.remind_after's default.
const DefaultRemindAfter = 24 * time.Hour

// Event is one change, as the connctl key of a payload.
type Event struct {
	Kind    string    `json:"event"`
	Subject string    `json:"subject"` // connection or job
	Name    string    `json:"name"`
	From    string    `json:"from"` // the previous state ("" when unknown)
	To      string    `json:"to"`
	Reason  string    `json:"reason"`
	Fix     string    `json:"fix"`   // the command that fixes it, or ""
	Since   time.Time `json:"since"` // when it became failing (or healthy)
	At      time.Time `json:"at"`
	Host    string    `json:"host"`
}

// Payload is what a sink sends: Slack's incoming-webhook "text", and the
// structured event under "connctl".
type Payload struct {
	Text    string `json:"text"`
	Connctl Event  `json:"connctl"`
}

// Text is the one-line message of e.
func (e Event) Text() string {
	what := e.Subject + " " + e.Name
	var s string
	switch {
	case e.Kind == KindFailing && e.Subject == SubjectJob:
		s = fmt.Sprintf("connctl: %s failed", what)
	case e.Kind == KindFailing:
		s = fmt.Sprintf("connctl: %s is failing (%s)", what, e.To)
	case e.Kind == KindReminder:
		s = fmt.Sprintf("connctl: %s is still failing (%s) since %s", what, e.To, e.Since.UTC().Format(time.RFC3339))
	case e.Kind == KindRecovered:
		s = fmt.Sprintf("connctl: %s recovered (%s)", what, e.To)
	case e.Kind == KindSucceeded:
		s = fmt.Sprintf("connctl: %s succeeded", what)
	case e.Kind == KindPaused:
		s = fmt.Sprintf("connctl: %s was paused", what)
	default:
		s = fmt.Sprintf("connctl: %s is %s", what, e.To)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Fix != "" {
		s += "; fix: " + e.Fix
	}
	if e.Host != "" {
		s += " (on " + e.Host + ")"
	}
	return s
}

// Sink delivers a payload.
type Sink interface {
	// Name says which sink it is in a warning (never its URL, which may
	// be a credential, as Slack's are).
	Name() string
	Send(ctx context.Context, p Payload) error
}

// Observation is a subject's state as a run saw it.
type Observation struct {
	Subject string // SubjectConnection or SubjectJob
	ID      string
	Name    string
	State   string
	Healthy bool
	Reason  string
	Fix     string
	// NotifySuccess sends a message for every healthy observation too
	// (a job's --notify-on always).
	NotifySuccess bool
	// Mute remembers the state but sends nothing (--notify-on never).
	Mute bool
	// CountsToPause makes a failure count towards PauseAfter (a
	// scheduled job's run); a healthy observation resets the count.
	CountsToPause bool
	// PauseAfter pauses the subject after this many consecutive counted
	// failures (0: never).
	PauseAfter int
	// PauseActivity is recorded, in the same transaction, when the
	// subject is paused.
	PauseActivity activitylog.Activity
}

// Outcome is what an observation led to.
type Outcome struct {
	Events   []Event // the messages due (sent unless Mute)
	Failures int     // consecutive counted failures, this one included
	Paused   bool    // this observation paused the subject
	// PausedAt is when the subject was paused; zero when it is not.
	PausedAt time.Time
}

// Notifier remembers states and sends the messages their changes call for.
type Notifier struct {
	States      activitylog.States
	Sinks       []Sink
	Now         func() time.Time
	RemindAfter time.Duration // 0: no reminders
	Host        string        // "" : os.Hostname
	// Warnf reports a sink that failed; nil: ignored.
	Warnf func(format string, args ...any)
}

// Observe records o and sends the messages it calls for. The state is
// decided and saved in one transaction before anything is sent, so that of
// two runs at once only one sends; a sink that fails is a warning, and the
// message is not sent again (the next reminder will be).
func (n *Notifier) Observe(ctx context.Context, o Observation) (Outcome, error) {
	now := n.Now().UTC()
	host := n.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	o.Reason = activitylog.CleanMessage(o.Reason)
	o.Fix = activitylog.CleanMessage(o.Fix)
	var out Outcome
	err := n.States.UpdateSubjectState(ctx, o.Subject, o.ID, func(prev activitylog.SubjectState, found bool) (activitylog.SubjectState, []activitylog.Activity, error) {
		next, events, paused := Decide(prev, found, o, now, n.RemindAfter)
		for i := range events {
			events[i].Host = host
		}
		out = Outcome{Events: events, Failures: next.Failures, Paused: paused, PausedAt: next.PausedAt}
		var record []activitylog.Activity
		if paused {
			a := o.PauseActivity
			a.StartedAt = now
			record = append(record, a)
		}
		return next, record, nil
	})
	if err != nil {
		return Outcome{}, err
	}
	if !o.Mute {
		for _, e := range out.Events {
			n.send(ctx, e)
		}
	}
	return out, nil
}

func (n *Notifier) send(ctx context.Context, e Event) {
	p := Payload{Text: e.Text(), Connctl: e}
	for _, s := range n.Sinks {
		if err := s.Send(ctx, p); err != nil && n.Warnf != nil {
			n.Warnf("the %s notification about %s %s was not delivered: %v", s.Name(), e.Subject, e.Name, err)
		}
	}
}

// Decide is the damping rule, a pure function of the remembered state, the
// observation and the clock: it returns the state to remember, the
// messages due and whether the subject is paused now.
//
//   - a change from healthy (or unknown) to failing: one message;
//   - still failing: a reminder once remindAfter has passed since the last
//     message (never when remindAfter is 0), else nothing;
//   - failing to healthy: a recovery message;
//   - healthy again: nothing, unless NotifySuccess;
//   - a counted failure that reaches PauseAfter: paused, with a message.
//
// A subject first seen healthy gives no message: nothing changed that
// anyone was told about.
func Decide(prev activitylog.SubjectState, found bool, o Observation, now time.Time, remindAfter time.Duration) (activitylog.SubjectState, []Event, bool) {
	next := prev
	next.Name, next.State, next.Healthy = o.Name, o.State, o.Healthy
	ev := func(kind string) Event {
		from := ""
		if found {
			from = prev.State
		}
		return Event{Kind: kind, Subject: o.Subject, Name: o.Name, From: from, To: o.State, Reason: o.Reason, Fix: o.Fix, Since: next.Since, At: now}
	}
	var events []Event
	switch {
	case o.Healthy:
		next.Failures = 0
		if !found || !prev.Healthy {
			next.Since = now
		}
		if found && !prev.Healthy {
			next.NotifiedAt = now
			events = append(events, ev(KindRecovered))
		} else if o.NotifySuccess {
			events = append(events, ev(KindSucceeded))
		}
	case !found || prev.Healthy:
		next.Since, next.NotifiedAt = now, now
		events = append(events, ev(KindFailing))
	default: // still failing
		if remindAfter > 0 && !now.Before(prev.NotifiedAt.Add(remindAfter)) {
			next.NotifiedAt = now
			events = append(events, ev(KindReminder))
		}
	}
	if !o.Healthy && o.CountsToPause {
		next.Failures++
	}
	paused := false
	if o.PauseAfter > 0 && !o.Healthy && o.CountsToPause && next.Failures >= o.PauseAfter && prev.PausedAt.IsZero() {
		next.PausedAt, paused = now, true
		e := ev(KindPaused)
		e.Reason = fmt.Sprintf("%d consecutive failed scheduled runs (jobs.pause_after is %d); `connctl jobs run --due` skips it", next.Failures, o.PauseAfter)
		e.Fix = "connctl jobs resume " + quoteArg(o.Name)
		events = append(events, e)
	}
	return next, events, paused
}

// Resume clears a subject's pause and its count of failures, recording act
// in the same transaction; false when it was not paused (nothing recorded).
func Resume(ctx context.Context, states activitylog.States, subject, id string, act activitylog.Activity) (bool, error) {
	err := states.UpdateSubjectState(ctx, subject, id, func(prev activitylog.SubjectState, found bool) (activitylog.SubjectState, []activitylog.Activity, error) {
		if !found || prev.PausedAt.IsZero() {
			return prev, nil, errNotPaused // write nothing
		}
		next := prev
		next.PausedAt, next.Failures = time.Time{}, 0
		return next, []activitylog.Activity{act}, nil
	})
	if errors.Is(err, errNotPaused) {
		return false, nil
	}
	return err == nil, err
}

var errNotPaused = errors.New("not paused")

// quoteArg quotes a name for a shell when it needs it.
func quoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
