// Package status implements `connctl status`: every connection checked at
// once (bounded), each reported with its state, the reason and the command
// that fixes it, and forecasts of when the provider's rules end it.
package status

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/authorization"
	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/keycheck"
	"github.com/connctl/connctl/internal/notify"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/tableprint"
)

// States of a connection, worst last but one: needs_reauthorization
// decides the exit code (4) over the other failures (1).
const (
	StateOK                   = "ok"
	StateExpiring             = "expiring"
	StateNeedsReauthorization = "needs_reauthorization"
	StateUnreachable          = "unreachable"
	StateRateLimited          = "rate_limited"
	StateMisconfigured        = "misconfigured"
)

// Warn is how long before a forecast end a connection is reported expiring.
const Warn = 14 * 24 * time.Hour

// Forecast is one provider rule that will end the credentials.
type Forecast struct {
	At     *time.Time `json:"at"` // null: the rule gives no date
	Rule   string     `json:"rule"`
	Source string     `json:"source"`
}

// Result is one connection's report, as printed with -o json.
type Result struct {
	Name      string     `json:"name"`
	Connector string     `json:"connector"`
	State     string     `json:"state"`
	Reason    string     `json:"reason"`
	Fix       string     `json:"fix"` // the command that fixes it, or ""
	Account   string     `json:"account"`
	Checked   bool       `json:"checked"`    // false: --offline, from what connctl knows
	ExpiresAt *time.Time `json:"expires_at"` // the earliest dated forecast
	Forecasts []Forecast `json:"forecasts"`
	Failed24h int        `json:"failed_24h"`

	// storeErr is set when the secret store itself failed (down, sealed,
	// timed out): no connection can be judged then, so status fails.
	storeErr error
}

// Options are the inputs of status.
type Options struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	Authz  func() (*authorization.Service, error)
	HTTP   func() *http.Client
	Failed func(context.Context) map[string]int
	// Notifier tells of changes of state (notify.go); nil: nobody.
	Notifier func() (*notify.Notifier, error)

	Names       []string
	Concurrency int
	Offline     bool
	Refresh     bool // keep-alive: refresh every OAuth grant, due or not
	Export      jsonexport.Exporter

	// LastSuccess reads each job's last successful run from the activity
	// log (-o prometheus); injected by NewCmd like the services above.
	LastSuccess func(ctx context.Context, jobIDs []string) map[string]time.Time
}

// NewCmd returns `connctl status`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: d.IO, Now: d.Now, Authz: d.Authz, HTTP: d.HTTP, Failed: d.FailedLastDay, LastSuccess: d.LastSuccess}
	if runF == nil {
		runF = run
	}
	opts.Notifier = d.Notifier
	cmd := &cobra.Command{
		Use:   "status [<name>...]",
		Short: "Check every connection and say what needs doing",
		Long: `Check connections (all, or those named) with the same call as ` + "`connctl test`" + `,
several at once (--concurrency), and report each as ok, expiring,
needs_reauthorization, unreachable, rate_limited or misconfigured, with the
reason and the command that fixes it.

expiring: the provider's published rules (or status.key_max_age for API keys)
end the credentials within 14 days; the FORECAST says when and why, and
docs/health.md lists every rule with its source.

--offline calls no provider and reads no secret: it reports what connctl
already knows (the recorded status, token expiry, forecasts and failed
activities of the last 24 hours).

--refresh is the keep-alive for cron or a systemd timer: it refreshes every
OAuth grant that has a refresh token, not only access tokens that are due,
so refresh tokens that die of inactivity (Google, Atlassian, Microsoft, a
server's refresh_token_idle) start their window again; keys are checked as
always (docs/health.md).

-o prometheus prints gauges for node_exporter's textfile collector:
connctl_connection_state{name,connector,state} (1 for the current state, 0
for the others), connctl_connection_expiry_seconds{name,connector},
connctl_job_last_success_timestamp_seconds{connection,job} and
connctl_status_checked_timestamp_seconds. Write it to a temporary file and
rename it into the collector's folder, so that a scrape never reads half a
file (docs/health.md).

Exit status: 0 when every connection is ok or expiring, 4 when any needs
authorization or the secret store is down (a sealed or unreachable Vault, a
locked keyring: then nothing is reported, as no connection can be judged), 1
when any other fails (see ` + "`connctl help exit-codes`" + `).`,
		Example: `  connctl status
  connctl status crm support
  connctl status --offline -o json
  connctl status --refresh -q
  connctl status -o prometheus > /var/lib/node_exporter/textfile/connctl.prom.$$ &&
    mv /var/lib/node_exporter/textfile/connctl.prom.$$ /var/lib/node_exporter/textfile/connctl.prom
  connctl status --jq '.[] | select(.state != "ok") | .fix'`,
		ValidArgsFunction: complete.ConnectionNames(d),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Concurrency < 1 {
				return exitcode.UsageError("--concurrency must be at least 1")
			}
			if opts.Refresh && opts.Offline {
				return exitcode.UsageError("--refresh calls every provider and --offline none: give one of them")
			}
			opts.Names = args
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 4, "check at most `N` connections at once")
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "call no provider and read no secret: report what connctl knows")
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "keep-alive: refresh every OAuth grant, not only access tokens that are due")
	jsonexport.AddFlagsWith(cmd, &opts.Export, []string{"name", "connector", "state", "reason", "fix", "account", "checked", "expires_at", "forecasts", "failed_24h"},
		[]jsonexport.ExtraFormat{{Name: FormatPrometheus, Desc: "Prometheus text format, for node_exporter's textfile collector"}})
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	svc, err := opts.Authz()
	if err != nil {
		return err
	}
	conns, err := pick(svc.Mgr.Config, opts.Names)
	if err != nil {
		return err
	}
	failed := opts.Failed(ctx)
	results := make([]Result, len(conns))
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = opts.one(ctx, svc, c)
			results[i].Failed24h = failed[c.ID]
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.storeErr != nil {
			// The secret store is down, not the connections: saying
			// needs_reauthorization would send the user to a fix that
			// cannot work. Nothing is printed or notified.
			return r.storeErr
		}
	}
	if err := opts.output(ctx, svc.Mgr.Config, results); err != nil {
		return err
	}
	opts.notifyChanges(ctx, conns, results)
	return exitFor(results)
}

// pick returns the named connections, or all of them sorted by name.
func pick(cfg configstore.Config, names []string) ([]configstore.Connection, error) {
	if len(names) == 0 {
		all := cfg.Connections()
		slices.SortFunc(all, func(a, b configstore.Connection) int {
			return strings.Compare(configstore.NameKey(a.Name), configstore.NameKey(b.Name))
		})
		return all, nil
	}
	var out []configstore.Connection
	for _, n := range names {
		c, ok := cfg.Find(n)
		if !ok {
			return nil, connection.NotFound(n)
		}
		out = append(out, *c)
	}
	return out, nil
}

// one checks (or, offline, judges) one connection.
func (opts *Options) one(ctx context.Context, svc *authorization.Service, c configstore.Connection) Result {
	r := Result{Name: c.Name, Connector: c.Connector, Account: c.Account, State: StateOK, Checked: !opts.Offline}
	q := connection.QuoteArg(c.Name)
	if err := authorization.Usable(&c); err != nil {
		r.State, r.Reason, r.Fix = StateNeedsReauthorization, firstLine(err), fixOf(err, q)
		return r
	}
	if opts.Offline {
		switch {
		case c.StatusReason == configstore.ReasonSecretMissing:
			r.State, r.Reason, r.Fix = StateNeedsReauthorization, "a secret was not found in the secret store", "connctl reauthorize "+q
		case c.OAuth != nil && c.OAuth.ExpiresAt != nil && !c.OAuth.ExpiresAt.After(opts.Now()) && !c.HasSecret(connection.KindRefreshToken):
			r.State, r.Reason, r.Fix = StateNeedsReauthorization, "the access token expired at "+c.OAuth.ExpiresAt.UTC().Format(time.RFC3339)+" and there is no refresh token", "connctl reauthorize "+q
		case c.Unverified:
			r.Reason = "saved with --no-verify and not checked since"
		}
	} else {
		account, err := opts.check(ctx, svc, &c)
		if storeDown(err) {
			r.storeErr = err
			return r
		}
		if err != nil {
			r.State, r.Reason, r.Fix = classify(err, q)
			return r
		}
		if account != "" {
			r.Account = account
		}
		// The check may have refreshed the tokens: forecast from the new facts.
		if cur, ok := svc.Mgr.Config.Find(c.Name); ok {
			c = *cur
		}
	}
	if r.State != StateOK {
		return r
	}
	now := opts.Now()
	fs := forecasts(svc, &c, now)
	for _, f := range fs {
		ff := Forecast{Rule: f.Rule, Source: f.Source}
		if !f.At.IsZero() {
			at := f.At.UTC()
			ff.At = &at
			if r.ExpiresAt == nil || at.Before(*r.ExpiresAt) {
				r.ExpiresAt = &at
			}
		}
		r.Forecasts = append(r.Forecasts, ff)
	}
	if r.ExpiresAt != nil && r.ExpiresAt.Sub(now) <= Warn {
		r.State = StateExpiring
		r.Reason = expiringReason(r, now)
		r.Fix = "connctl reauthorize " + q
		if e, _ := connection.Earliest(fs); e.KeepAlive && !c.Unverified && isOAuth(svc, &c) && r.ExpiresAt.After(now) {
			r.Fix = "connctl status --refresh " + q // a refresh keeps an inactivity-bound grant alive
		}
	}
	return r
}

func expiringReason(r Result, now time.Time) string {
	var rule string
	for _, f := range r.Forecasts {
		if f.At != nil && f.At.Equal(*r.ExpiresAt) {
			rule = f.Rule
		}
	}
	when := "on " + r.ExpiresAt.Format("2006-01-02")
	if !r.ExpiresAt.After(now) {
		return "probably ended " + when + ": " + rule
	}
	return "ends " + when + " (" + tableprint.RelativeTime(now, *r.ExpiresAt) + "): " + rule
}

func isOAuth(svc *authorization.Service, c *configstore.Connection) bool { return svc.IsOAuth(c) }

// forecasts are connection.Forecasts with the configured key age: the
// rules `connctl list --expiring` uses too.
func forecasts(svc *authorization.Service, c *configstore.Connection, now time.Time) []connector.Forecast {
	return connection.Forecasts(svc.Mgr.Catalog, c, now, svc.Mgr.Config.Duration(connection.KeyMaxAgeSetting))
}

// check is `connctl test`'s check: who-am-I (after a refresh when needed)
// for OAuth, AuthMethod.Check for keys. A rejection marks the connection
// needs_reauthorization, and a pass verifies one saved with --no-verify.
func (opts *Options) check(ctx context.Context, svc *authorization.Service, c *configstore.Connection) (string, error) {
	var account string
	if svc.IsOAuth(c) {
		if opts.Refresh && c.HasSecret(connection.KindRefreshToken) {
			// The keep-alive: a refresh is the refresh token's use.
			if _, err := svc.AccessToken(ctx, c.Name, true); err != nil {
				return "", err
			}
		}
		id, err := svc.Test(ctx, c.Name)
		if err != nil {
			return "", err
		}
		account = id.Account
	} else {
		a, err := keyCheck(ctx, opts.HTTP(), svc.Mgr, c)
		if err != nil {
			return "", err
		}
		account = a
	}
	if cur, ok := svc.Mgr.Config.Find(c.Name); ok {
		svc.Mgr.RecordAccount(ctx, cur, account)
	}
	_, _ = svc.Mgr.SetVerified(ctx, c.Name, true)
	return account, nil
}

func keyCheck(ctx context.Context, hc *http.Client, mg *connection.Manager, c *configstore.Connection) (string, error) {
	ctr, m, err := mg.Lookup(c)
	if err != nil {
		return "", err
	}
	if m.Check == nil {
		return "", &keycheck.Error{Kind: "config", Message: fmt.Sprintf("connctl cannot check %s connections (auth %s) yet", ctr.ID, m.ID)}
	}
	secrets := map[string]string{}
	for _, f := range connection.SecretFields(ctr, m) {
		if !c.HasSecret(f.Name) {
			continue
		}
		v, err := mg.Secret(ctx, c, f.Name)
		if errors.Is(err, secretstore.ErrNotFound) {
			return "", mg.SecretMissing(ctx, c, f.Name, err)
		}
		if err != nil {
			return "", err
		}
		secrets[f.Name] = v
	}
	id, err := keycheck.Check(ctx, hc, ctr.ID, m.Check, connection.Effective(ctr, m, c.Fields), secrets)
	var ke *keycheck.Error
	if errors.As(err, &ke) && ke.Kind == keycheck.KindUnauthorized {
		return "", mg.MarkNeedsReauthorization(ctx, c, ke.Message)
	}
	if err != nil {
		return "", err
	}
	return id.Account, nil
}

// storeDown reports whether err is the secret store's own failure (a
// sealed or unreachable Vault, a locked keyring, a timeout) rather than
// the connection's.
func storeDown(err error) bool {
	return errors.Is(err, secretstore.ErrUnavailable) || errors.Is(err, secretstore.ErrTimeout)
}

// classify maps a failed check to a state, its reason and the fix.
func classify(err error, q string) (state, reason, fix string) {
	kind, msg := "", firstLine(err)
	var ce *authorization.CallError
	var ke *keycheck.Error
	switch {
	case errors.As(err, &ce):
		kind, msg = ce.Kind, ce.Message
	case errors.As(err, &ke):
		kind, msg = ke.Kind, ke.Message
	}
	switch {
	case exitcode.FromError(err) == exitcode.AuthNeeded || kind == "unauthorized" || kind == "revoked":
		return StateNeedsReauthorization, msg, fixOf(err, q)
	case kind == "network" || kind == "server":
		return StateUnreachable, msg, "connctl test " + q + " (when the provider is reachable again)"
	case kind == "rate_limit":
		return StateRateLimited, msg, "connctl test " + q + " (later: the provider is rate limiting)"
	case kind == "forbidden":
		return StateMisconfigured, msg, "connctl reauthorize " + q + " (with an account or scopes that have access)"
	}
	return StateMisconfigured, msg, "connctl edit " + q
}

// fixOf is the command an exit-4 error's hint names, else reauthorize.
func fixOf(err error, q string) string {
	for _, h := range exitcode.Hints(err) {
		if i := strings.Index(h, "`connctl "); i >= 0 {
			rest := h[i+1:]
			if j := strings.Index(rest, "`"); j > 0 {
				return rest[:j]
			}
		}
	}
	return "connctl reauthorize " + q
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// exitFor is the worst state's exit code.
func exitFor(results []Result) error {
	auth, other := 0, 0
	for _, r := range results {
		switch r.State {
		case StateOK, StateExpiring:
		case StateNeedsReauthorization:
			auth++
		default:
			other++
		}
	}
	switch {
	case auth > 0:
		return exitcode.WithCode(exitcode.AuthNeeded, exitcode.ErrSilent)
	case other > 0:
		return exitcode.WithCode(exitcode.Failure, exitcode.ErrSilent)
	}
	return nil
}

func (opts *Options) print(results []Result) error {
	if opts.Export != nil {
		return opts.Export.Write(opts.IO.Out, results)
	}
	t := tableprint.NewIO(opts.IO, "NAME", "CONNECTOR", "STATE", "EXPIRES", "REASON", "FIX")
	t.ColorColumn(2, stateColor)
	now := opts.Now()
	for _, r := range results {
		exp := ""
		if r.ExpiresAt != nil {
			if t.IsTTY() {
				exp = tableprint.RelativeTime(now, *r.ExpiresAt)
			} else {
				exp = r.ExpiresAt.Format(time.RFC3339)
			}
		}
		reason := r.Reason
		if r.Failed24h > 0 && t.IsTTY() {
			reason = strings.TrimPrefix(reason+fmt.Sprintf("; %d failed activities in 24h", r.Failed24h), "; ")
		}
		t.Row(r.Name, r.Connector, r.State, exp, reason, r.Fix)
	}
	return t.Render()
}

func stateColor(s string) tableprint.Color {
	switch s {
	case StateOK:
		return tableprint.Green
	case StateExpiring, StateRateLimited:
		return tableprint.Yellow
	}
	return tableprint.Red
}
