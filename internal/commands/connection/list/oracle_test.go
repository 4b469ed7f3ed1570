package list

// The list command as it was before it read connections one at a time
// (configstore.EachConnection) and streamed piped rows: every connection
// materialized, filtered, sorted and rendered at once. It is kept here as
// the oracle TestListMatchesEager holds run to, byte for byte.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/commands/connview"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/tableprint"
)

func eagerRun(ctx context.Context, opts *Options) error {
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
	conns := eagerFilter(eagerEffective(cfg.Connections(), cfg.String("secrets.backend")), opts.Search, connectorID, status)
	// Forecasts read the config only (no keyring, no network), and only
	// when they are shown or filtered on: a piped list skips them.
	var fc *eagerForecaster
	if within >= 0 || exp != nil || ios.IsStdoutTTY() {
		fc = &eagerForecaster{cat: cat, now: now, keyMaxAge: cfg.Duration(connection.KeyMaxAgeSetting)}
	}
	if within >= 0 {
		conns = fc.within(conns, within)
	}
	failed := opts.FailedLastDay(ctx)
	eagerSort(conns, opts.Sort, failed)
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
	return eagerRenderExpiry(ios, conns, failed, now, ends, within >= 0)
}

// eagerForecaster computes each connection's forecasts once.
type eagerForecaster struct {
	cat       *connector.Catalogue
	now       time.Time
	keyMaxAge time.Duration
	memo      map[*configstore.Connection][]connector.Forecast
}

func (f *eagerForecaster) forecasts(c *configstore.Connection) []connector.Forecast {
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
func (f *eagerForecaster) within(conns []*configstore.Connection, d time.Duration) []*configstore.Connection {
	out := conns[:0:0]
	for _, c := range conns {
		if e, ok := connection.Earliest(f.forecasts(c)); ok && !e.At.After(f.now.Add(d)) {
			out = append(out, c)
		}
	}
	return out
}

// earliest maps each connection with a dated forecast to its earliest.
func (f *eagerForecaster) earliest(conns []*configstore.Connection) map[*configstore.Connection]connector.Forecast {
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
func eagerEffective(all []configstore.Connection, backend string) []configstore.Connection {
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
func eagerFilter(all []configstore.Connection, search, connectorID string, status string) []*configstore.Connection {
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
func eagerSort(conns []*configstore.Connection, key string, failed map[string]int) {
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

// eagerRenderExpiry is the table each connection's earliest forecast (ends)
// and an expiry column: always when withExpiry (--expiring was given);
// else on a terminal only when a forecast ends within ExpiresColumnWithin,
// and never piped, so that scripts reading the default columns are not
// broken.
func eagerRenderExpiry(ios *iostreams.IOStreams, conns []*configstore.Connection, failed map[string]int, now time.Time,
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
				row = append(row, eagerExpiresText(ends, c, now))
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
func eagerExpiresText(ends map[*configstore.Connection]connector.Forecast, c *configstore.Connection, now time.Time) string {
	e, ok := ends[c]
	if !ok {
		return ""
	}
	if !e.At.After(now) {
		return "expired " + tableprint.RelativeTime(now, e.At)
	}
	return tableprint.RelativeTime(now, e.At)
}
