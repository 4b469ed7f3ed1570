package deps

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/notify"
)

// Notifier builds the notifier of changes of state: the activity log
// remembers states, the notify.* settings give the sinks. Depends on
// Config, Activities, HTTP, Now and IO. nil when there is no activity log
// to remember states in (tests that set none). A setting that is not
// usable (an environment variable that `config set` would have refused) is
// a warning: a notification never fails the run that observed the change.
func (d *Deps) Notifier() (*notify.Notifier, error) {
	if d.Activities == nil {
		return nil, nil
	}
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	store, err := d.Activities()
	if err != nil {
		return nil, err
	}
	n := &notify.Notifier{States: store, Now: d.Now, Warnf: d.IO.Warnf, RemindAfter: notify.DefaultRemindAfter}
	n.Host, _ = os.Hostname()
	if v := strings.TrimSpace(cfg.String("notify.remind_after")); v == "0" {
		n.RemindAfter = 0
	} else if dur, err := time.ParseDuration(v); err == nil && dur > 0 {
		n.RemindAfter = dur
	} else if v != "" {
		d.IO.Warnf("the setting notify.remind_after is %q, not a duration such as 24h; using 24h (fix it with `connctl config set notify.remind_after 24h`)", v)
	}
	if u := strings.TrimSpace(cfg.String("notify.webhook")); u != "" {
		if err := notify.CheckWebhook(u); err != nil {
			d.IO.Warnf("the setting notify.webhook is not used: %v", err)
		} else {
			n.Sinks = append(n.Sinks, &notify.Webhook{URL: u, HTTP: d.HTTP()})
		}
	}
	if c := strings.TrimSpace(cfg.String("notify.command")); c != "" {
		if argv, err := notify.ParseCommand(c); err != nil {
			d.IO.Warnf("the setting notify.command is not used: %v", err)
		} else {
			n.Sinks = append(n.Sinks, &notify.Command{Argv: argv})
		}
	}
	return n, nil
}

// PauseAfter is the jobs.pause_after setting: how many consecutive failed
// scheduled runs pause a job (0: never; the default on an unusable value).
func PauseAfter(cfg configstore.Config) int {
	if n, err := strconv.Atoi(strings.TrimSpace(cfg.String("jobs.pause_after"))); err == nil && n >= 0 {
		return n
	}
	return 3
}
