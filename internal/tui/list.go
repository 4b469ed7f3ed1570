package tui

import (
	"cmp"
	"slices"
	"strings"
)

// columns of the connections list, in order; sorting keys follow them.
var columns = []string{"NAME", "CONNECTOR", "STATUS", "ACCOUNT", "CREATED", "FAILED 24H"}

// table holds the connections and the order they are shown in. Each sort
// key's order over all rows is computed once (sorted index); a filter
// keystroke is then one pass over that order, so typing stays cheap at
// ten thousand connections.
type table struct {
	rows  []Row
	lower []string // lower-cased names, for the search
	order [6][]int // per sort column: indices into rows, lazily built
	view  []int    // what is shown: order[sortCol] filtered

	sortCol   int
	search    string
	connector string // "" all
	status    string // "" all
}

func newTable(rows []Row) *table {
	t := &table{rows: rows, lower: make([]string, len(rows))}
	for i, r := range rows {
		t.lower[i] = strings.ToLower(r.Name)
	}
	t.refilter()
	return t
}

// sorted returns the order of all rows by column col; ties by name.
func (t *table) sorted(col int) []int {
	if t.order[col] != nil {
		return t.order[col]
	}
	idx := make([]int, len(t.rows))
	for i := range idx {
		idx[i] = i
	}
	byName := func(a, b int) int {
		return cmp.Or(cmp.Compare(t.lower[a], t.lower[b]), cmp.Compare(t.rows[a].Name, t.rows[b].Name))
	}
	var key func(a, b int) int
	switch col {
	case 1:
		key = func(a, b int) int { return cmp.Compare(t.rows[a].Connector, t.rows[b].Connector) }
	case 2:
		key = func(a, b int) int { return cmp.Compare(t.rows[a].Status, t.rows[b].Status) }
	case 3:
		key = func(a, b int) int { return cmp.Compare(t.rows[a].Account, t.rows[b].Account) }
	case 4: // newest first, as `list --sort created`
		key = func(a, b int) int { return t.rows[b].Created.Compare(t.rows[a].Created) }
	case 5: // most failed first, as `list --sort failed`
		key = func(a, b int) int { return cmp.Compare(t.rows[b].Failed24h, t.rows[a].Failed24h) }
	default:
		key = func(int, int) int { return 0 }
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Or(key(a, b), byName(a, b)) })
	t.order[col] = idx
	return idx
}

// refilter rebuilds the view from the sorted order and the filters.
func (t *table) refilter() {
	order := t.sorted(t.sortCol)
	needle := strings.ToLower(t.search)
	view := t.view[:0]
	if cap(view) < len(order) {
		view = make([]int, 0, len(order))
	}
	for _, i := range order {
		r := &t.rows[i]
		if t.connector != "" && r.Connector != t.connector {
			continue
		}
		if t.status != "" && r.Status != t.status {
			continue
		}
		if needle != "" && !strings.Contains(t.lower[i], needle) {
			continue
		}
		view = append(view, i)
	}
	t.view = view
}

// values lists the distinct values of a field, sorted, for cycling filters.
func (t *table) values(field func(*Row) string) []string {
	seen := map[string]bool{}
	var out []string
	for i := range t.rows {
		v := field(&t.rows[i])
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// next returns the value after cur in vals, cycling through "" (all).
func next(vals []string, cur string) string {
	if cur == "" {
		if len(vals) == 0 {
			return ""
		}
		return vals[0]
	}
	i := slices.Index(vals, cur)
	if i < 0 || i+1 >= len(vals) {
		return ""
	}
	return vals[i+1]
}
