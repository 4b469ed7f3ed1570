package status

import (
	"context"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/notify"
)

// notifyChanges tells the notifier (notify.webhook, notify.command) the
// state each connection was found in: it sends a message when one starts
// failing or recovers, and reminders while one stays broken, never one
// per run. ok and expiring are healthy; the other states fail. --offline
// checked nothing, so it tells nothing. A notifier that cannot be built or
// a state not saved is a warning: status's report and exit code stand.
func (opts *Options) notifyChanges(ctx context.Context, conns []configstore.Connection, results []Result) {
	if opts.Offline || opts.Notifier == nil {
		return
	}
	n, err := opts.Notifier()
	if err != nil {
		opts.IO.Warnf("no notifications: %v", err)
		return
	}
	if n == nil {
		return
	}
	for i, r := range results {
		o := notify.Observation{Subject: notify.SubjectConnection, ID: conns[i].ID, Name: r.Name, State: r.State,
			Healthy: r.State == StateOK || r.State == StateExpiring, Reason: r.Reason, Fix: r.Fix}
		if _, err := n.Observe(context.WithoutCancel(ctx), o); err != nil {
			opts.IO.Warnf("the state of %s was not saved for notifications: %v", r.Name, err)
		}
	}
}
