// Package list implements `connctl list`.
package list

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	tty := ios.IsStdoutTTY()
	// Forecasts read the config only (no keyring, no network), and only
	// when they are shown or filtered on: a piped list skips them.
	forecast := within >= 0 || exp != nil || tty
	keyMaxAge := time.Duration(0)
	if forecast {
		keyMaxAge = cfg.Duration(connection.KeyMaxAgeSetting)
	}
	backend := cfg.String("secrets.backend")
	needle := strings.ToLower(opts.Search)
	// One connection at a time: of each, only the row list prints and
	// sorts on is kept, so memory grows with the rows listed, not with
	// whole connections (issue #17).
	var rows []row
	if opts.Search == "" && connectorID == "" && status == "" && within < 0 {
		// Every connection is listed: one allocation of the right size,
		// not a slice grown (and copied) two dozen times.
		rows = make([]row, 0, configstore.ConnectionCount(cfg))
	}
	total := 0
	err = configstore.EachConnection(cfg, func(c *configstore.Connection) error {
		index := total
		total++
		c = effective(c, backend)
		if connectorID != "" && c.Connector != connectorID {
			return nil
		}
		st := connview.StatusText(c)
		if status != "" && st != status {
			return nil
		}
		if needle != "" && !strings.Contains(strings.ToLower(c.Name), needle) {
			return nil
		}
		r := newRow(c, st, index)
		if forecast {
			if e, ok := connection.Earliest(connection.Forecasts(cat, c, now, keyMaxAge)); ok {
				r.end = &e
			}
			if within >= 0 && (r.end == nil || r.end.At.After(now.Add(within))) {
				return nil
			}
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return err
	}
	failed := opts.FailedLastDay(ctx)
	sortRows(rows, opts.Sort, failed)
	if opts.Limit > 0 && len(rows) > opts.Limit {
		rows = rows[:opts.Limit]
	}
	if st, ok := jsonexport.StreamArray(exp, ios.Out); ok {
		// -o json: one view at a time, in rows' order, so memory does not
		// grow with the output (issue #17).
		return streamViews(st, cfg, cat, backend, rows, failed)
	}
	if exp != nil {
		views, err := viewsOf(cfg, cat, backend, rows, failed)
		if err != nil {
			return err
		}
		return exp.Write(ios.Out, views)
	}
	if len(rows) == 0 {
		if tty {
			if total == 0 {
				ios.Statusf("No connections yet. Create one with `connctl create --connector <id>` (see `connctl connectors`).")
			} else {
				ios.Statusf("No connections match.")
			}
		}
		return nil
	}
	return render(ios, rows, failed, now, within >= 0)
}

// row is what list keeps of one connection: the cells it prints and sorts
// on, never the connection itself.
type row struct {
	key                                  string // the name lowercased (once, not in every comparison)
	name, connector, status, account, id string
	created                              time.Time
	index                                int                 // the connection's place in stored order
	end                                  *connector.Forecast // the earliest dated forecast, when computed and any
}

func newRow(c *configstore.Connection, status string, index int) row {
	return row{key: strings.ToLower(c.Name), name: c.Name, connector: c.Connector, status: status, account: c.Account,
		id: c.ID, created: c.CreatedAt, index: index}
}

// effective returns c as it stands with the secrets backend in force: one
// whose secrets were stored in another backend cannot be used (its secret
// is known to be gone from here), so it is listed as needs_reauthorization,
// never as authorized (a changed copy; c itself is left alone). Only the
// config is read.
func effective(c *configstore.Connection, backend string) *configstore.Connection {
	if c.Status == configstore.StatusAuthorized && connection.Stranded(c, backend) {
		e := *c
		e.Status, e.StatusReason = configstore.StatusNeedsReauthorization, configstore.ReasonSecretMissing
		return &e
	}
	return c
}

// viewsOf reads the connections again for the JSON views of rows, in
// rows' order: only the listed ones are built whole.
func viewsOf(cfg configstore.Definitions, cat *connector.Catalogue, backend string, rows []row, failed map[string]int) ([]connview.Connection, error) {
	at := make(map[int]int, len(rows)) // stored index -> place in rows
	for i := range rows {
		at[rows[i].index] = i
	}
	views := make([]connview.Connection, len(rows))
	index := 0
	err := configstore.EachConnection(cfg, func(c *configstore.Connection) error {
		i, ok := at[index]
		index++
		if !ok {
			return nil
		}
		views[i] = own(view(cat, c, backend, &rows[i], failed))
		return nil
	})
	return views, err
}

// view is the JSON view of c, listed as r.
func view(cat *connector.Catalogue, c *configstore.Connection, backend string, r *row, failed map[string]int) connview.Connection {
	v := connview.From(cat, effective(c, backend))
	v.Failed24h = failed[r.id]
	if e := r.end; e != nil {
		v.SetExpiry([]connector.Forecast{*e})
	}
	return v
}

// streamViews writes the JSON views of rows, in rows' order, each as soon
// as it is made: every connection is decoded again on its own
// (configstore.EachConnectionAt), and its view is written before the next
// one is read, so neither the views nor the output are ever held whole.
func streamViews(st *jsonexport.ArrayStream, cfg configstore.Definitions, cat *connector.Catalogue, backend string, rows []row, failed map[string]int) error {
	at := make([]int, len(rows))
	for i := range rows {
		at[i] = rows[i].index
	}
	k := 0
	err := configstore.EachConnectionAt(cfg, at, func(c *configstore.Connection) error {
		r := &rows[k]
		k++
		return st.Add(view(cat, c, backend, r, failed))
	})
	if err != nil {
		return err
	}
	return st.Close()
}

// own returns v with copies of the maps, slices and times it may share
// with the connection it was made from: EachConnection reuses those for
// the next connection.
func own(v connview.Connection) connview.Connection {
	v.Fields = maps.Clone(v.Fields)
	v.Secrets = slices.Clone(v.Secrets)
	v.Scopes = slices.Clone(v.Scopes)
	v.ExpiresAt = copyTime(v.ExpiresAt)
	v.AuthorizedAt = copyTime(v.AuthorizedAt)
	return v
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// sortRows orders rows by name (case-insensitive), then by key; ties keep
// the order before.
func sortRows(rows []row, key string, failed map[string]int) {
	slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(a.key, b.key) })
	var cmp func(a, b *row) int
	switch key {
	case "connector":
		cmp = func(a, b *row) int { return strings.Compare(a.connector, b.connector) }
	case "status":
		cmp = func(a, b *row) int { return strings.Compare(a.status, b.status) }
	case "created":
		cmp = func(a, b *row) int { return b.created.Compare(a.created) } // newest first
	case "failed":
		cmp = func(a, b *row) int { return failed[b.id] - failed[a.id] } // most first
	default:
		return
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp(&a, &b) })
}

// Sort orders conns (already sorted by name) by key; ties keep name order.
func Sort(conns []*configstore.Connection, key string, failed map[string]int) {
	rows := make([]row, len(conns))
	for i, c := range conns {
		rows[i] = newRow(c, connview.StatusText(c), i)
		rows[i].key = "" // already sorted by name: keep their order
	}
	sortRows(rows, key, failed)
	orig := slices.Clone(conns)
	for i := range rows {
		conns[i] = orig[rows[i].index]
	}
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

// render prints the connections table (TTY) or TSV rows (pipe), with an
// expiry column: always when withExpiry (--expiring was given); else on a
// terminal only when a row's forecast ends within ExpiresColumnWithin, and
// never piped, so that scripts reading the default columns are not broken.
// Piped rows are streamed.
func render(ios *iostreams.IOStreams, rows []row, failed map[string]int, now time.Time, withExpiry bool) error {
	tty := ios.IsStdoutTTY()
	showExp := withExpiry
	if tty && !showExp {
		for i := range rows {
			if e := rows[i].end; e != nil && e.At.Sub(now) <= ExpiresColumnWithin {
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
	t.Stream()   // piped: each row is written as it comes
	t.Keep(1, 2) // the connector id and the status are never cut either
	if showExp {
		t.Keep(6)
	}
	t.ColorColumn(2, tableprint.StatusColor)
	t.ColorColumn(5, func(string) tableprint.Color { return tableprint.Red })
	for i := range rows {
		r := &rows[i]
		if tty {
			marker := ""
			if n := failed[r.id]; n > 0 {
				marker = fmt.Sprintf("ⓘ %d failed", n)
			}
			if showExp {
				t.Row(r.name, r.connector, r.status, r.account, tableprint.RelativeTime(now, r.created), marker, expiresText(r.end, now))
			} else {
				t.Row(r.name, r.connector, r.status, r.account, tableprint.RelativeTime(now, r.created), marker)
			}
			continue
		}
		created := r.created.UTC().Format(time.RFC3339)
		if showExp {
			exp := ""
			if r.end != nil {
				exp = r.end.At.UTC().Format(time.RFC3339)
			}
			t.Row(r.name, r.connector, r.status, r.account, created, strconv.Itoa(failed[r.id]), exp)
		} else {
			t.Row(r.name, r.connector, r.status, r.account, created, strconv.Itoa(failed[r.id]))
		}
	}
	return t.Render()
}

// expiresText is the EXPIRES cell: "in 9d", "expired 2d ago" or "".
func expiresText(e *connector.Forecast, now time.Time) string {
	if e == nil {
		return ""
	}
	if !e.At.After(now) {
		return "expired " + tableprint.RelativeTime(now, e.At)
	}
	return tableprint.RelativeTime(now, e.At)
}
