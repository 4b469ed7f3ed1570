package list

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/exitcode"
)

// resolve turns what the user gave for --connection or --job into the ids
// the log filters on: a current connection or job by name, an id as it is
// (conn_…, job_…), or a name the log recorded (a deleted or renamed
// connection or job; a name used by several over time gives them all). An
// unknown name is a usage error with the closest known name.
func resolve(ctx context.Context, opts *Options, store activitylog.Reader, sub activitylog.Subject, given string) ([]string, error) {
	cfg, err := opts.Config()
	if err != nil {
		return nil, err
	}
	prefix := "conn_"
	var current []string
	if sub == activitylog.SubjectConnection {
		if c, ok := cfg.Find(given); ok {
			return []string{c.ID}, nil
		}
		for _, c := range cfg.Document().Connections {
			current = append(current, c.Name)
		}
	} else {
		prefix = "job_"
		if _, j := cfg.Document().FindJob(given); j != nil {
			return []string{j.ID}, nil
		}
		for _, j := range cfg.Document().Jobs {
			current = append(current, j.Name)
		}
	}
	if strings.HasPrefix(given, prefix) {
		return []string{given}, nil
	}
	var logged []string
	if store != nil {
		ids, err := store.IDsNamed(ctx, sub, given)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			return ids, nil
		}
		if logged, err = store.Names(ctx, sub); err != nil {
			return nil, err
		}
	}
	err = exitcode.UsageError("%s %q not found (neither now nor in the activity log)", sub, given)
	if s := closest(given, append(current, logged...)); s != "" {
		return nil, exitcode.WithHint(err, fmt.Sprintf("did you mean %s?", s))
	}
	if sub == activitylog.SubjectJob {
		return nil, exitcode.WithHint(err, "list jobs with `connctl jobs list`")
	}
	return nil, exitcode.WithHint(err, "list connections with `connctl list`")
}

// closest returns the name nearest to typed: the same ignoring case, a
// prefix of at least 3 characters, or at most 2 edits away.
func closest(typed string, names []string) string {
	t := strings.ToLower(typed)
	sort.Strings(names)
	best, bestDist := "", 3
	for _, n := range names {
		l := strings.ToLower(n)
		if l == t || (len(t) >= 3 && strings.HasPrefix(l, t)) {
			return n
		}
		if dist := editDistance(t, l); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
