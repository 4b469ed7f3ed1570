package list

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/connctl/connctl/internal/commands/jobs/jobview"
	"github.com/connctl/connctl/internal/exitcode"
)

// SortKeys are the values of `jobs list --sort`.
var SortKeys = []string{"name", "connection", "status", "last-run", "created"}

// sortViews orders views by key (ties by name, case-insensitive): name,
// connection, status (last run status), last-run (most recent first, never
// run last) or created (creation order, as in the config file).
func sortViews(views []jobview.View, key string, limit int) ([]jobview.View, error) {
	if !slices.Contains(SortKeys, key) {
		return nil, exitcode.UsageError("--sort: unknown key %q (choose one of: %s)", key, strings.Join(SortKeys, ", "))
	}
	if limit < 0 {
		return nil, exitcode.UsageError("--limit %d: give a number of jobs, at least 0 (0 shows all)", limit)
	}
	if key != "created" {
		sort.SliceStable(views, func(i, j int) bool {
			return strings.ToLower(views[i].Name) < strings.ToLower(views[j].Name)
		})
	}
	var less func(a, b *jobview.View) bool
	switch key {
	case "connection":
		less = func(a, b *jobview.View) bool { return a.Connection < b.Connection }
	case "status":
		less = func(a, b *jobview.View) bool { return a.LastRunStatus < b.LastRunStatus }
	case "last-run":
		less = func(a, b *jobview.View) bool {
			if a.LastRunAt == nil || b.LastRunAt == nil {
				return a.LastRunAt != nil && b.LastRunAt == nil
			}
			return a.LastRunAt.After(*b.LastRunAt)
		}
	}
	if less != nil {
		sort.SliceStable(views, func(i, j int) bool { return less(&views[i], &views[j]) })
	}
	if limit > 0 && len(views) > limit {
		views = views[:limit]
	}
	return views, nil
}

func sortFlagHelp() string {
	return fmt.Sprintf("sort by `key`: %s", strings.Join(SortKeys, ", "))
}
