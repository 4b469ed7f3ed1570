package tui

import (
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// listTop is the screen line of the first connection: title, search and
// header come first.
const listTop = 3

// listHeight is how many connections fit: all lines but the title,
// search, header, status and key lines.
func (m *Model) listHeight() int { return max(m.height-5, 1) }

// View renders the page: the alternate screen, with mouse reports.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "connctl · Connections"
	return v
}

// Render is the screen as text, one line per terminal row; only the rows
// on screen are rendered, whatever the number of connections.
func (m *Model) Render() string {
	if m.height < 4 || m.width < 20 {
		return "connctl: the terminal is too small"
	}
	var lines []string
	switch m.screen {
	case screenHelp:
		lines = m.helpLines()
	case screenActivities:
		lines = m.activityLines()
	case screenJobs:
		lines = m.jobLines()
	case screenPicker:
		lines = m.pickerLines()
	case screenForm:
		lines = m.formLines()
	default:
		lines = m.listLines()
		switch m.screen {
		case screenMenu:
			lines = m.overlay(lines, m.menuTop(), m.menuBox())
		case screenConfirm:
			lines = m.overlay(lines, m.height/2-2, m.confirmBox())
		}
	}
	for len(lines) < m.height-2 {
		lines = append(lines, "")
	}
	if m.busy != "" && m.progress != "" {
		box := m.progressBox()
		top := max(m.height-2-len(box), 0)
		for i, l := range box {
			if top+i < len(lines) {
				lines[top+i] = l
			}
		}
	}
	lines = append(lines[:m.height-2], m.statusLine(), m.keyLine())
	for i, l := range lines {
		lines[i] = fit(l, m.width)
	}
	return strings.Join(lines, "\n")
}

func (m *Model) listLines() []string {
	t := m.t
	lines := make([]string, 0, m.height)
	count := fmt.Sprintf("%d of %d", len(t.view), len(t.rows))
	filters := fmt.Sprintf("connector: %s · status: %s · sort: %s", orAll(t.connector), orAll(t.status), strings.ToLower(columns[t.sortCol]))
	title := m.st.bold("connctl · Connections") + "  " + count
	if pad := m.width - ansi.StringWidth(title) - ansi.StringWidth(filters); pad >= 2 {
		title += strings.Repeat(" ", pad) + m.st.faint(filters)
	} else {
		title += "  " + m.st.faint(filters)
	}
	lines = append(lines, title)
	switch {
	case m.searching:
		lines = append(lines, "Search: "+t.search+"█")
	case t.search != "":
		lines = append(lines, "Search: "+t.search+m.st.faint("  (/ to change, esc to clear)"))
	default:
		lines = append(lines, m.st.faint("Search: press / and type a name"))
	}
	first, last := m.offset, min(m.offset+m.listHeight(), len(t.view))
	w := m.widths(first, last)
	hdr := make([]string, len(columns))
	for i, c := range columns {
		if i == t.sortCol {
			c += "▾"
		}
		hdr[i] = c
	}
	lines = append(lines, m.st.bold(m.row("  ", hdr, w)))
	if !m.loaded {
		return append(lines, "  Loading connections…")
	}
	if len(t.view) == 0 {
		if len(t.rows) == 0 {
			return append(lines, "  No connections yet. Create one with `connctl create --connector <id>`.")
		}
		return append(lines, "  No connections match.")
	}
	now := m.now()
	for i := first; i < last; i++ {
		r := &t.rows[t.view[i]]
		marker := ""
		if r.Failed24h > 0 {
			marker = fmt.Sprintf("ⓘ %d failed", r.Failed24h)
		}
		if i == m.cursor {
			lines = append(lines, m.st.selected(fit(m.row("▸ ", []string{r.Name, r.Connector, r.Status, r.Account, relTime(now, r.Created), marker}, w), m.width)))
			continue
		}
		lines = append(lines, m.row("  ", []string{r.Name, r.Connector, m.st.badge(r.Status), r.Account, relTime(now, r.Created), m.st.red(marker)}, w))
	}
	return lines
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

// widths sizes the columns to the rows on screen: fixed ones to their
// widest value, NAME and ACCOUNT share the rest (ACCOUNT goes first when
// the terminal is narrow).
func (m *Model) widths(first, last int) []int {
	w := make([]int, len(columns))
	for i, c := range columns {
		w[i] = ansi.StringWidth(c) + 1
	}
	name, account := w[0], w[3]
	for i := first; i < last; i++ {
		r := &m.t.rows[m.t.view[i]]
		w[1] = max(w[1], ansi.StringWidth(r.Connector))
		w[2] = max(w[2], len(r.Status))
		name = max(name, ansi.StringWidth(r.Name))
		account = max(account, ansi.StringWidth(r.Account))
		w[4] = max(w[4], len(relTime(m.now(), r.Created)))
		if r.Failed24h > 0 {
			w[5] = max(w[5], len(fmt.Sprintf("ⓘ %d failed", r.Failed24h))-2)
		}
	}
	rest := m.width - 2 - (len(columns) - 1) - w[1] - w[2] - w[4] - w[5]
	switch {
	case name+account <= rest:
		w[0], w[3] = name, rest-name
	case rest-name >= 8:
		w[0], w[3] = name, rest-name
	case rest >= 24:
		w[3] = max(rest*2/5, 8)
		w[0] = rest - w[3]
	default:
		w[0], w[3] = max(rest, 4), 0
	}
	return w
}

func (m *Model) row(marker string, cells []string, w []int) string {
	var b strings.Builder
	b.WriteString(marker)
	for i, c := range cells {
		if w[i] == 0 {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fit(c, w[i]))
	}
	return b.String()
}

// overlay draws box over lines from line top, centred.
func (m *Model) overlay(lines []string, top int, box []string) []string {
	for i, l := range box {
		box[i] = " " + l + " " // a margin, so the box stands apart from the rows
	}
	bw := 0
	for _, l := range box {
		bw = max(bw, ansi.StringWidth(l))
	}
	left := max((m.width-bw)/2, 0)
	for len(lines) < top+len(box) {
		lines = append(lines, "")
	}
	for i, b := range box {
		y := top + i
		if y < 0 || y >= len(lines) {
			continue
		}
		base := fit(lines[y], m.width)
		lines[y] = ansi.Truncate(base, left, "") + fit(b, bw) + ansi.TruncateLeft(base, left+bw, "")
	}
	return lines
}

func (m *Model) menuTop() int {
	return max(min(listTop+m.cursor-m.offset+1, m.height-3-len(m.menu)-2), 0)
}

func (m *Model) menuBox() []string {
	r, _ := m.selected()
	title := " " + r.Name + " "
	inner := ansi.StringWidth(title) + 2
	for _, it := range m.menu {
		inner = max(inner, len(it.label)+8)
	}
	inner = min(inner, m.width-4)
	title = ansi.Truncate(title, inner-1, "…")
	box := []string{"┌─" + title + strings.Repeat("─", max(inner-1-ansi.StringWidth(title), 0)) + "┐"}
	for i, it := range m.menu {
		line := fit(" "+it.label, inner-3) + m.st.faint(it.key) + "  "
		if i == m.menuSel {
			line = m.st.selected(fit(" "+it.label, inner-3) + it.key + "  ")
		}
		box = append(box, "│"+line+"│")
	}
	box = append(box, "└"+strings.Repeat("─", inner)+"┘")
	return box
}

// progressBox shows what a running action says, whole: the authorization
// URL to open when the browser does not. No side borders, so that the URL
// copies from the terminal as it is.
func (m *Model) progressBox() []string {
	w := m.width
	box := []string{strings.Repeat("─", w)}
	shown := m.said
	if !slices.Contains(shown, m.progress) {
		shown = append(slices.Clone(shown), m.progress)
	}
	for _, said := range shown {
		for _, l := range wrapHard(strings.TrimSpace(oneLine(said)), w) {
			box = append(box, fit(l, w))
		}
	}
	return append(box, fit(m.st.faint("esc cancels"), w), strings.Repeat("─", w))
}

// wrapHard breaks s into lines of w cells, inside words too (URLs).
func wrapHard(s string, w int) []string {
	var out []string
	r := []rune(s)
	for len(r) > w {
		out = append(out, string(r[:w]))
		r = r[w:]
	}
	return append(out, string(r))
}

func (m *Model) confirmBox() []string {
	q := confirmQuestion(m.confirmAct, m.confirmText)
	inner := min(max(ansi.StringWidth(q)+2, 30), m.width-4)
	lines := wrap(q, inner-2)
	box := []string{"┌" + strings.Repeat("─", inner) + "┐"}
	for _, l := range lines {
		box = append(box, "│ "+fit(l, inner-2)+" │")
	}
	box = append(box, "│ "+fit(m.st.bold("y")+" yes   "+m.st.bold("n")+" no", inner-2)+" │")
	return append(box, "└"+strings.Repeat("─", inner)+"┘")
}

func confirmQuestion(a Action, what string) string {
	switch a {
	case ActDelete:
		return "Delete " + what + "?"
	case ActRevoke:
		return "Revoke " + what + "?"
	}
	return what + "?"
}

// wrap breaks s into lines of at most w cells at spaces.
func wrap(s string, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= w:
			line += " " + word
		default:
			out = append(out, line)
			line = word
		}
	}
	return append(out, line)
}

func (m *Model) statusLine() string {
	switch {
	case m.busy != "":
		s := "⋯ " + m.busy
		if m.progress != "" {
			s += ": " + oneLine(m.progress)
		}
		return s + m.st.faint("  (esc cancels)")
	case m.errMsg != "":
		return m.st.red("error: " + oneLine(m.errMsg))
	}
	return m.st.green(oneLine(m.status))
}

func (m *Model) keyLine() string {
	if m.errMsg != "" && len(m.hints) > 0 && m.busy == "" {
		return "hint: " + oneLine(m.hints[0])
	}
	var k string
	switch m.screen {
	case screenMenu:
		k = "↑↓ choose · enter or shortcut: do · esc back"
	case screenConfirm:
		k = "y yes · n no"
	case screenHelp:
		k = "any key: back"
	case screenActivities:
		k = "↑↓ select · x failed in 24h · esc back · ? help"
	case screenJobs:
		k = "↑↓ select · r run now · n new job · esc back"
	case screenPicker:
		k = "type to search · ↑↓ choose · enter pick · esc back"
	case screenForm:
		k = "tab/↓ next · shift+tab/↑ previous · enter next, on the last: " + m.form.button() + " · ctrl+s " + m.form.button() + " · esc cancel"
	default:
		if m.searching {
			k = "type a name · enter keep · esc clear"
		} else {
			k = "enter actions · / search · f connector · s status · o sort · ? help · q quit"
		}
	}
	return m.st.faint(k)
}

func (m *Model) helpLines() []string {
	lines := []string{m.st.bold("connctl · Connections — keys"), ""}
	ks := m.keys
	for _, b := range []struct {
		keys, what string
	}{
		{ks.Up.Help().Key + ", " + ks.Down.Help().Key, "move"},
		{ks.PageUp.Help().Key + ", " + ks.PageDown.Help().Key + ", g, G", "page up/down, first, last"},
		{ks.Search.Help().Key, ks.Search.Help().Desc + " (enter keeps it, esc clears it)"},
		{ks.Connector.Help().Key, ks.Connector.Help().Desc},
		{ks.Status.Help().Key, ks.Status.Help().Desc},
		{ks.Sort.Help().Key, ks.Sort.Help().Desc},
		{ks.Menu.Help().Key, "the selected connection's actions (a click too)"},
		{"e d a v R J A", "the menu's actions straight from the list (see the menu)"},
		{ks.Create.Help().Key, ks.Create.Help().Desc},
		{ks.Refresh.Help().Key, ks.Refresh.Help().Desc},
		{ks.FailedOnly.Help().Key, ks.FailedOnly.Help().Desc},
		{ks.Run.Help().Key, ks.Run.Help().Desc},
		{"n", "jobs: create a job from one of the connector's sources"},
		{"tab, shift+tab", "forms: next and previous field (↓ ↑ too)"},
		{"enter, ctrl+s", "forms: next field, save on the last; save from anywhere"},
		{"ctrl+u", "forms: clear the field"},
		{ks.Back.Help().Key, ks.Back.Help().Desc},
		{ks.Quit.Help().Key, ks.Quit.Help().Desc},
	} {
		lines = append(lines, "  "+fit(b.keys, 22)+b.what)
	}
	return lines
}

func (m *Model) visibleActs() []Activity {
	if !m.failedOnly {
		return m.acts
	}
	cut := m.now().Add(-24 * 60 * 60 * 1e9)
	var out []Activity
	for _, a := range m.acts {
		if isFailed(a.Status) && a.Started.After(cut) {
			out = append(out, a)
		}
	}
	return out
}

func isFailed(s string) bool { return s == "failed" || s == "stale" }

func (m *Model) activityLines() []string {
	acts := m.visibleActs()
	filter := "all"
	if m.failedOnly {
		filter = "failed in the last 24h"
	}
	lines := []string{m.st.bold("Activities of "+m.subject) + fmt.Sprintf("  %d, newest first · showing: %s", len(acts), filter)}
	w := []int{9, 9, clampInt(m.width/5, 14, 30), 6, 7, 0}
	for _, a := range acts {
		w[3] = max(w[3], len(a.Status))
	}
	w[5] = max(m.width-2-5-w[0]-w[1]-w[2]-w[3]-w[4], 10)
	lines = append(lines, m.st.bold(m.row("  ", []string{"STARTED", "TYPE", "ACTION", "STATUS", "RECORDS", "MESSAGE"}, w)))
	detail := 8
	h := max(m.height-4-detail, 3)
	if len(acts) == 0 {
		lines = append(lines, "  No activities.")
	}
	off := max(m.actSel-h+1, 0)
	now := m.now()
	for i := off; i < min(off+h, len(acts)); i++ {
		a := acts[i]
		action := a.Action
		if a.Job != "" {
			action += " " + a.Job
		}
		cells := []string{relTime(now, a.Started), a.Type, action, a.Status, fmt.Sprint(a.Records), oneLine(a.Message)}
		switch {
		case i == m.actSel:
			lines = append(lines, m.st.selected(fit(m.row("▸ ", cells, w), m.width)))
		case isFailed(a.Status):
			lines = append(lines, m.st.red(m.row("  ", cells, w)))
		default:
			cells[3] = m.st.activityStatus(a.Status)
			lines = append(lines, m.row("  ", cells, w))
		}
	}
	for len(lines) < m.height-2-detail {
		lines = append(lines, "")
	}
	lines = append(lines, m.st.faint(strings.Repeat("─", m.width)))
	if m.actSel < len(acts) {
		a := acts[m.actSel]
		d := []string{
			fmt.Sprintf("#%d %s %s · %s · by %s · %s", a.ID, a.Type, a.Action, m.st.activityStatus(a.Status), a.Who, a.Started.UTC().Format("2006-01-02 15:04:05Z")),
		}
		if a.Job != "" {
			d = append(d, "job: "+a.Job+fmt.Sprintf(" · records: %d", a.Records))
		}
		if a.Reason != "" {
			d = append(d, "reason: "+a.Reason)
		}
		if a.Message != "" {
			d = append(d, wrap("message: "+oneLine(a.Message), m.width-1)...)
		}
		for _, c := range a.Changes {
			d = append(d, "changed: "+c)
		}
		lines = append(lines, d...)
	}
	return lines
}

func (m *Model) jobLines() []string {
	lines := []string{m.st.bold("Jobs of "+m.subject) + fmt.Sprintf("  %d", len(m.jobs))}
	w := []int{0, 0, 12, 10, 19}
	rest := m.width - 2 - 4 - w[2] - w[3] - w[4]
	w[0], w[1] = rest/2, rest-rest/2
	lines = append(lines, m.st.bold(m.row("  ", []string{"NAME", "SOURCE", "SCHEDULE", "LAST RUN", "STATUS"}, w)))
	if len(m.jobs) == 0 {
		lines = append(lines, "  No jobs. Create one with `connctl jobs create --connection "+m.subject+"`.")
	}
	now := m.now()
	for i, j := range m.jobs {
		last, status := "never", j.Status
		if j.LastRun != nil {
			last = relTime(now, *j.LastRun)
		}
		cells := []string{j.Name, j.Source, j.Schedule, last, status}
		if i == m.jobSel {
			lines = append(lines, m.st.selected(fit(m.row("▸ ", cells, w), m.width)))
			continue
		}
		cells[4] = m.st.activityStatus(status)
		lines = append(lines, m.row("  ", cells, w))
	}
	return lines
}
