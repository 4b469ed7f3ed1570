// Package list implements `connctl list`.
package list

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/complete"
	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/tableprint"
)

// Options are the inputs of list.
type Options struct {
	IO      *iostreams.IOStreams
	Config  func() (configstore.Config, error)
	Catalog func() *connector.Catalogue
	// FailedLastDay counts each connection's failed runs of the last day
	// from the activity log, if there is one.
	FailedLastDay func(context.Context) map[string]int
	Now           func() time.Time

	Search    string
	Connector string
	Status    string
	Sort      string
	Limit     int
	// Expiring (--expiring) keeps only connections whose earliest dated
	// forecast falls within this duration (or has passed); "" keeps all.
	Expiring string
	Export   jsonexport.Exporter
}

// ExpiresColumnWithin is how close a forecast must be for a terminal list
// to show the EXPIRES column: without one, the table stays as it was.
const ExpiresColumnWithin = 30 * 24 * time.Hour

// newOptions returns list's Options with d's services and no flags set.
func newOptions(d *deps.Deps) *Options {
	return &Options{IO: d.IO, Config: d.Config, Catalog: d.Catalog, FailedLastDay: d.FailedLastDay, Now: d.Now}
}

// SortKeys are the values of --sort.
var SortKeys = []string{"name", "connector", "status", "created", "failed"}

// NewCmd returns `connctl list`.
func NewCmd(d *deps.Deps, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(d)
	if runF == nil {
		runF = run
	}
	// The statuses shown in the STATUS column (and JSON's status), so
	// that filtering matches what is displayed: unverified included.
	statuses := connview.StatusTexts()
	cmd := &cobra.Command{
		Use:     "list [--search TEXT] [--connector ID] [--status STATUS] [--expiring DUR] [--sort KEY] [--limit N]",
		Aliases: []string{"ls"},
		Short:   "List connections",
		Long: `List connections, sorted by name (or by --sort: connector, status, created
(newest first) or failed (most failed activities in 24 hours first); ties
by name). --limit keeps the first N after sorting, in every output format.

On a terminal: NAME, CONNECTOR, STATUS, ACCOUNT, CREATED and FAILED 24H, which
marks connections with failed activities in the last 24 hours (see them with
` + "`connctl activities --connection <name> --failed --since 24h`" + `), and
EXPIRES ("in 9d", "expired 2d ago") with --expiring, or when some
connection's credentials end within 30 days by a forecast: the provider's
published rules or
status.key_max_age, the same rules as ` + "`connctl status`" + ` (docs/health.md).
--expiring DUR (14d, 36h) lists only connections whose forecast end falls
within DUR or has passed. JSON's expiry_at and expiry_reason give the
earliest forecast (expires_at is the OAuth access token's expiry).
Names are never cut to fit the terminal, and statuses are coloured (not with
NO_COLOR). A connection whose secrets are kept in another secrets.backend
than the one in force is listed as needs_reauthorization.
--status matches the status shown: unverified (key-based credentials saved
with --no-verify and not tested since) is its own status, so --status
authorized leaves those out.
When piped, one tab-separated row per connection with the columns
name, connector, status, account, created_at (RFC 3339 UTC), failed_24h;
with --expiring, expiry_at (RFC 3339 UTC) follows.

No connections, or none matching, is not an error: exit 0.
list reads only the config file; it never touches the keyring or the network.`,
		Example: `  connctl list
  connctl list --search prod
  connctl list --connector sfdc --status authorized
  connctl list --sort failed --limit 5
  connctl list --expiring 14d
  connctl list --jq '.[] | select(.status != "authorized") | .name'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Search, "search", "", "only connections whose name contains `text` (case-insensitive)")
	cmd.Flags().StringVar(&opts.Connector, "connector", "", "only connections of this connector `id` or alias")
	cmd.Flags().StringVar(&opts.Status, "status", "", "only connections with this `status`: "+strings.Join(statuses, ", "))
	cmd.Flags().StringVar(&opts.Sort, "sort", "name", "sort by `key`: "+strings.Join(SortKeys, ", "))
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "show at most `N` connections (0: all)")
	cmd.Flags().StringVar(&opts.Expiring, "expiring", "", "only connections whose credentials a forecast ends within `DUR` (14d, 36h) or already ended")
	jsonexport.AddFlags(cmd, &opts.Export, connview.Fields)
	_ = cmd.RegisterFlagCompletionFunc("sort", complete.Values(SortKeys...))
	_ = cmd.RegisterFlagCompletionFunc("connector", complete.ConnectorIDs(d))
	_ = cmd.RegisterFlagCompletionFunc("status", complete.Values(statuses...))
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	ios := opts.IO
	exp := opts.Export
	cat := opts.Catalog()
	connectorID := ""
	if opts.Connector != "" {
		ctr, ok := cat.Lookup(opts.Connector)
		if !ok {
			return exitcode.WithHint(exitcode.UsageError("unknown connector %q", opts.Connector), cat.UnknownHint(opts.Connector))
		}
		connectorID = ctr.ID
	}
	status := opts.Status
	if status != "" && !slices.Contains(connview.StatusTexts(), status) {
		return exitcode.UsageError("--status: unknown status %q (choose one of: %s)", status, strings.Join(connview.StatusTexts(), ", "))
	}
	if opts.Sort != "" && !slices.Contains(SortKeys, opts.Sort) {
		return exitcode.UsageError("--sort: unknown key %q (choose one of: %s)", opts.Sort, strings.Join(SortKeys, ", "))
	}
	if opts.Limit < 0 {
		return exitcode.UsageError("--limit %d: give a number of connections, at least 0 (0 shows all)", opts.Limit)
	}
	within := time.Duration(-1)
	if opts.Expiring != "" {
		d, err := ParseWithin(opts.Expiring)
		if err != nil {
			return exitcode.UsageError("--expiring %q is not a duration: write it as 14d, 36h or 90m", opts.Expiring)
		}
		within = d
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	now := opts.Now()
	conns := Filter(Effective(cfg.Connections(), cfg.String("secrets.backend")), opts.Search, connectorID, status)
	// Forecasts read the config only (no keyring, no network), and only
	// when they are shown or filtered on: a piped list skips them.
	var fc *forecaster
	if within >= 0 || exp != nil || ios.IsStdoutTTY() {
		fc = &forecaster{cat: cat, now: now, keyMaxAge: cfg.Duration(connection.KeyMaxAgeSetting)}
	}
	if within >= 0 {
		conns = fc.within(conns, within)
	}
	failed := opts.FailedLastDay(ctx)
	Sort(conns, opts.Sort, failed)
	if opts.Limit > 0 && len(conns) > opts.Limit {
		conns = conns[:opts.Limit]
	}
	if exp != nil {
		views := make([]connview.Connection, len(conns))
		for i := range conns {
			views[i] = connview.From(cat, conns[i])
			views[i].Failed24h = failed[conns[i].ID]
			views[i].SetExpiry(fc.forecasts(conns[i]))
		}
		return exp.Write(ios.Out, views)
	}
	if len(conns) == 0 {
		if ios.IsStdoutTTY() {
			if len(cfg.Connections()) == 0 {
				ios.Statusf("No connections yet. Create one with `connctl create --connector <id>` (see `connctl connectors`).")
			} else {
				ios.Statusf("No connections match.")
			}
		}
		return nil
	}
	var ends map[*configstore.Connection]connector.Forecast
	if fc != nil {
		ends = fc.earliest(conns)
	}
	return RenderExpiry(ios, conns, failed, now, ends, within >= 0)
}

// ParseWithin reads --expiring: a Go duration (36h, 90m) or whole days (14d).
func ParseWithin(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100000 {
			return 0, fmt.Errorf("bad number of days %q", n)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

// forecaster computes each connection's forecasts once.
type forecaster struct {
	cat       *connector.Catalogue
	now       time.Time
	keyMaxAge time.Duration
	memo      map[*configstore.Connection][]connector.Forecast
}

func (f *forecaster) forecasts(c *configstore.Connection) []connector.Forecast {
	if fs, ok := f.memo[c]; ok {
		return fs
	}
	if f.memo == nil {
		f.memo = map[*configstore.Connection][]connector.Forecast{}
	}
	fs := connection.Forecasts(f.cat, c, f.now, f.keyMaxAge)
	f.memo[c] = fs
	return fs
}

// within keeps the connections whose earliest dated forecast is at most d
// from now (or already past).
func (f *forecaster) within(conns []*configstore.Connection, d time.Duration) []*configstore.Connection {
	out := conns[:0:0]
	for _, c := range conns {
		if e, ok := connection.Earliest(f.forecasts(c)); ok && !e.At.After(f.now.Add(d)) {
			out = append(out, c)
		}
	}
	return out
}

// earliest maps each connection with a dated forecast to its earliest.
func (f *forecaster) earliest(conns []*configstore.Connection) map[*configstore.Connection]connector.Forecast {
	out := map[*configstore.Connection]connector.Forecast{}
	for _, c := range conns {
		if e, ok := connection.Earliest(f.forecasts(c)); ok {
			out[c] = e
		}
	}
	return out
}

// Effective returns the connections as they stand with the secrets backend
// in force: one whose secrets were stored in another backend cannot be used
// (its secret is known to be gone from here), so it is listed as
// needs_reauthorization, never as authorized. Only the config is read.
func Effective(all []configstore.Connection, backend string) []configstore.Connection {
	out := all
	for i := range all {
		c := &all[i]
		if c.Status == configstore.StatusAuthorized && connection.Stranded(c, backend) {
			if &out[0] == &all[0] {
				out = append([]configstore.Connection(nil), all...)
			}
			out[i].Status, out[i].StatusReason = configstore.StatusNeedsReauthorization, configstore.ReasonSecretMissing
		}
	}
	return out
}

// Filter returns the connections matching every non-empty criterion, sorted
// by name (case-insensitive). status is compared with the status shown
// (connview.StatusText): "authorized" leaves out the unverified ones.
func Filter(all []configstore.Connection, search, connectorID string, status string) []*configstore.Connection {
	needle := strings.ToLower(search)
	out := make([]*configstore.Connection, 0, len(all))
	for i := range all {
		c := &all[i]
		if connectorID != "" && c.Connector != connectorID {
			continue
		}
		if status != "" && connview.StatusText(c) != status {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(c.Name), needle) {
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}

// Sort orders conns (already sorted by name) by key; ties keep name order.
func Sort(conns []*configstore.Connection, key string, failed map[string]int) {
	var less func(a, b *configstore.Connection) bool
	switch key {
	case "connector":
		less = func(a, b *configstore.Connection) bool { return a.Connector < b.Connector }
	case "status":
		less = func(a, b *configstore.Connection) bool { return connview.StatusText(a) < connview.StatusText(b) }
	case "created":
		less = func(a, b *configstore.Connection) bool { return a.CreatedAt.After(b.CreatedAt) }
	case "failed":
		less = func(a, b *configstore.Connection) bool { return failed[a.ID] > failed[b.ID] }
	default:
		return
	}
	sort.SliceStable(conns, func(i, j int) bool { return less(conns[i], conns[j]) })
}

// Render prints the connections table (TTY) or TSV rows (pipe).
func Render(ios *iostreams.IOStreams, conns []*configstore.Connection, failed map[string]int, now time.Time) error {
	return RenderExpiry(ios, conns, failed, now, nil, false)
}

// RenderExpiry is Render with each connection's earliest forecast (ends)
// and an expiry column: always when withExpiry (--expiring was given);
// else on a terminal only when a forecast ends within ExpiresColumnWithin,
// and never piped, so that scripts reading the default columns are not
// broken.
func RenderExpiry(ios *iostreams.IOStreams, conns []*configstore.Connection, failed map[string]int, now time.Time,
	ends map[*configstore.Connection]connector.Forecast, withExpiry bool) error {
	tty := ios.IsStdoutTTY()
	showExp := withExpiry
	if tty && !showExp {
		for _, e := range ends {
			if e.At.Sub(now) <= ExpiresColumnWithin {
				showExp = true
				break
			}
		}
	}
	// The last column is the product's info icon: failed activities in the
	// last 24 hours (filled by the activity log).
	headers := []string{"NAME", "CONNECTOR", "STATUS", "ACCOUNT", "CREATED", "FAILED 24H"}
	if showExp {
		headers = append(headers, "EXPIRES")
	}
	t := tableprint.NewIO(ios, headers...)
	t.Keep(1, 2) // the connector id and the status are never cut either
	if showExp {
		t.Keep(6)
	}
	t.ColorColumn(2, tableprint.StatusColor)
	t.ColorColumn(5, func(string) tableprint.Color { return tableprint.Red })
	for _, c := range conns {
		if tty {
			marker := ""
			if n := failed[c.ID]; n > 0 {
				marker = fmt.Sprintf("ⓘ %d failed", n)
			}
			row := []string{c.Name, c.Connector, connview.StatusText(c), c.Account, tableprint.RelativeTime(now, c.CreatedAt), marker}
			if showExp {
				row = append(row, expiresText(ends, c, now))
			}
			t.Row(row...)
			continue
		}
		row := []string{c.Name, c.Connector, connview.StatusText(c), c.Account, c.CreatedAt.UTC().Format(time.RFC3339), strconv.Itoa(failed[c.ID])}
		if showExp {
			exp := ""
			if e, ok := ends[c]; ok {
				exp = e.At.UTC().Format(time.RFC3339)
			}
			row = append(row, exp)
		}
		t.Row(row...)
	}
	return t.Render()
}

// expiresText is the EXPIRES cell: "in 9d", "expired 2d ago" or "".
func expiresText(ends map[*configstore.Connection]connector.Forecast, c *configstore.Connection, now time.Time) string {
	e, ok := ends[c]
	if !ok {
		return ""
	}
	if !e.At.After(now) {
		return "expired " + tableprint.RelativeTime(now, e.At)
	}
	return tableprint.RelativeTime(now, e.At)
}
