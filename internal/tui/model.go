package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

type screen int

const (
	screenList screen = iota
	screenMenu
	screenConfirm
	screenHelp
	screenActivities
	screenJobs
	screenPicker
	screenForm
)

// Model is the Connections page. Create it with New; run it with
// bubbletea (the ui command) or drive Update directly (tests).
type Model struct {
	ctx  context.Context
	b    Backend
	now  func() time.Time
	st   styles
	keys keyMap

	width, height int
	screen        screen
	loaded        bool

	t         *table
	cursor    int // index into t.view
	offset    int // first view row on screen
	searching bool

	menu    []menuItem
	menuSel int

	confirmText string
	confirmAct  Action
	confirmName string

	// The status line: a result, or an error with its hints.
	status string
	errMsg string
	hints  []string

	busy     string // what is running, shown with its progress
	progress string
	said     []string // lines of the running action with a URL in them
	cancel   context.CancelFunc

	// View Activities and View Jobs of one connection.
	subject    string
	acts       []Activity
	failedOnly bool
	actSel     int
	jobs       []Job
	jobSel     int

	// Create Connection, Edit and key-based (Re-)Authorize.
	pick *picker
	form *form
}

// New returns the page over b. Nothing is read until Init's command runs.
func New(ctx context.Context, b Backend, o Options) *Model {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Model{ctx: ctx, b: b, now: now, st: styles{color: o.Color}, keys: newKeyMap(),
		width: 80, height: 24, t: newTable(nil)}
}

// Messages from the commands the page starts.
type (
	loadedMsg struct {
		rows []Row
		err  error
	}
	describedMsg struct {
		act        Action
		name, text string
		err        error
	}
	doneMsg struct {
		what, line string
		reload     bool
		err        error
	}
	progressMsg struct {
		ch   chan string
		line string
	}
	activitiesMsg struct {
		name string
		acts []Activity
		err  error
	}
	jobsMsg struct {
		name string
		jobs []Job
		err  error
	}
)

// Init loads the connections.
func (m *Model) Init() tea.Cmd { return m.load() }

func (m *Model) load() tea.Cmd {
	return func() tea.Msg {
		rows, err := m.b.Connections(m.ctx)
		return loadedMsg{rows: rows, err: err}
	}
}

// SetRows replaces the connections (tests and benchmarks), keeping the
// search, filters and sort.
func (m *Model) SetRows(rows []Row) {
	old := m.t
	m.t = newTable(rows)
	m.t.sortCol, m.t.search, m.t.connector, m.t.status = old.sortCol, old.search, old.connector, old.status
	m.t.refilter()
	m.loaded = true
	m.clamp()
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.clamp()
		return m, nil
	case loadedMsg:
		if msg.err != nil {
			m.fail(msg.err)
			m.loaded = true
			return m, nil
		}
		selected := m.selectedName()
		m.SetRows(msg.rows)
		m.selectName(selected)
		return m, nil
	case describedMsg:
		if msg.err != nil {
			m.fail(msg.err)
			m.screen = screenList
			return m, nil
		}
		m.confirmText, m.confirmAct, m.confirmName = msg.text, msg.act, msg.name
		m.screen = screenConfirm
		return m, nil
	case progressMsg:
		if msg.line != "" {
			m.progress = msg.line
			if strings.Contains(msg.line, "://") && len(m.said) < 4 {
				m.said = append(m.said, msg.line) // a URL to open stays on screen
			}
		}
		return m, listen(msg.ch)
	case doneMsg:
		m.busy, m.progress, m.cancel, m.said = "", "", nil, nil
		if msg.err != nil {
			m.fail(msg.err)
		} else {
			m.ok(msg.line)
		}
		if msg.reload {
			return m, m.load()
		}
		return m, nil
	case jobsDoneMsg:
		m.busy, m.progress, m.cancel, m.said = "", "", nil, nil
		if msg.err != nil {
			m.fail(msg.err)
		} else {
			m.ok(msg.line)
		}
		m.screen = screenJobs
		m.jobs = msg.jobs
		m.jobSel = clampInt(m.jobSel, 0, len(m.jobs)-1)
		return m, nil
	case formDoneMsg:
		m.busy, m.progress, m.cancel, m.said = "", "", nil, nil
		if msg.err != nil {
			m.fail(msg.err) // the form stays, to be fixed
			// An OAuth create saves the connection before the sign-in:
			// cancelled or failed, it is there, not authorized.
			return m, m.load()
		}
		m.screen = screenList
		m.ok(msg.line)
		name := msg.name
		if name == "" {
			name = m.form.target
		}
		return m, func() tea.Msg {
			rows, err := m.b.Connections(m.ctx)
			return loadedSelectMsg{loadedMsg{rows: rows, err: err}, name}
		}
	case loadedSelectMsg:
		if msg.err != nil {
			m.fail(msg.err)
			return m, nil
		}
		m.SetRows(msg.rows)
		m.selectName(msg.name)
		return m, nil
	case activitiesMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(msg.err)
			return m, nil
		}
		m.subject, m.acts, m.actSel, m.screen = msg.name, msg.acts, 0, screenActivities
		return m, nil
	case jobsMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(msg.err)
			return m, nil
		}
		m.subject, m.jobs, m.jobSel, m.screen = msg.name, msg.jobs, 0, screenJobs
		return m, nil
	case tea.MouseClickMsg:
		return m.click(msg.Mouse())
	case tea.MouseWheelMsg:
		switch msg.Mouse().Button {
		case tea.MouseWheelUp:
			m.move(-3)
		case tea.MouseWheelDown:
			m.move(3)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m *Model) ok(line string) { m.status, m.errMsg, m.hints = line, "", nil }

func (m *Model) fail(err error) {
	m.status, m.errMsg, m.hints = "", err.Error(), m.b.Hints(err)
}

func (m *Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := msg.String()
	if k == "ctrl+c" {
		return m, m.quit()
	}
	if m.busy != "" {
		if k == "esc" && m.cancel != nil {
			m.cancel() // the verb sees its context end and stops cleanly
			m.progress = "cancelling…"
		}
		return m, nil
	}
	switch m.screen {
	case screenHelp:
		m.screen = screenList
		return m, nil
	case screenMenu:
		return m.menuKey(k)
	case screenConfirm:
		switch k {
		case "y", "Y":
			m.screen = screenList
			return m, m.run(m.confirmAct, m.confirmName)
		case "n", "N", "esc", "q":
			m.screen = screenList
			m.ok("Nothing changed")
		}
		return m, nil
	case screenPicker:
		return m.pickerKey(msg)
	case screenForm:
		return m.formKey(msg)
	case screenActivities:
		return m.activitiesKey(msg)
	case screenJobs:
		return m.jobsKey(msg)
	}
	if m.searching {
		switch k {
		case "esc":
			m.searching = false
			m.setSearch("")
		case "enter":
			m.searching = false
		case "backspace":
			if s := []rune(m.t.search); len(s) > 0 {
				m.setSearch(string(s[:len(s)-1]))
			}
		case "up", "down", "pgup", "pgdown":
			m.navigate(msg)
		default:
			if t := msg.Key().Text; t != "" {
				m.setSearch(m.t.search + t)
			}
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, m.quit()
	case key.Matches(msg, m.keys.Help):
		m.screen = screenHelp
	case key.Matches(msg, m.keys.Search):
		m.searching = true
	case key.Matches(msg, m.keys.Back):
		if m.t.search != "" {
			m.setSearch("")
		}
		m.ok("")
	case key.Matches(msg, m.keys.Connector):
		m.t.connector = next(m.t.values(func(r *Row) string { return r.Connector }), m.t.connector)
		m.t.refilter()
		m.clamp()
	case key.Matches(msg, m.keys.Status):
		m.t.status = next(m.t.values(func(r *Row) string { return r.Status }), m.t.status)
		m.t.refilter()
		m.clamp()
	case key.Matches(msg, m.keys.Sort):
		selected := m.selectedName()
		if n, err := strconv.Atoi(k); err == nil {
			m.t.sortCol = n - 1
		} else {
			m.t.sortCol = (m.t.sortCol + 1) % len(columns)
		}
		m.t.refilter()
		m.selectName(selected)
	case key.Matches(msg, m.keys.Refresh):
		return m, m.load()
	case key.Matches(msg, m.keys.Menu):
		if r, ok := m.selected(); ok {
			m.menu, m.menuSel, m.screen = menuFor(r), 0, screenMenu
		}
	case key.Matches(msg, m.keys.Create):
		m.openPicker()
	default:
		if m.navigate(msg) {
			return m, nil
		}
		// An action's shortcut works from the list too, when the menu
		// would offer it.
		if r, ok := m.selected(); ok {
			for _, it := range menuFor(r) {
				if it.key == k {
					return m, m.choose(it.act, r)
				}
			}
		}
	}
	return m, nil
}

// notHere is the status for what the page does not do yet: the verb that does.
type notHereError struct{ what, verb string }

func (e notHereError) Error() string {
	return fmt.Sprintf("%s is not in the page yet: run `%s`", e.what, e.verb)
}

func notHere(what, verb string) error { return notHereError{what, verb} }

func (m *Model) quit() tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	return tea.Quit
}

// navigate moves the cursor for the movement keys; false for other keys.
func (m *Model) navigate(msg tea.KeyPressMsg) bool {
	page := max(m.listHeight()-1, 1)
	switch {
	case key.Matches(msg, m.keys.Up):
		m.move(-1)
	case key.Matches(msg, m.keys.Down):
		m.move(1)
	case key.Matches(msg, m.keys.PageUp):
		m.move(-page)
	case key.Matches(msg, m.keys.PageDown):
		m.move(page)
	case key.Matches(msg, m.keys.Top):
		m.move(-len(m.t.view))
	case key.Matches(msg, m.keys.Bottom):
		m.move(len(m.t.view))
	default:
		return false
	}
	return true
}

func (m *Model) setSearch(s string) {
	selected := m.selectedName()
	m.t.search = s
	m.t.refilter()
	m.selectName(selected)
}

func (m *Model) move(d int) {
	switch m.screen {
	case screenActivities:
		m.actSel = clampInt(m.actSel+d, 0, len(m.visibleActs())-1)
		return
	case screenJobs:
		m.jobSel = clampInt(m.jobSel+d, 0, len(m.jobs)-1)
		return
	}
	m.cursor += d
	m.clamp()
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

// clamp keeps the cursor on a row and on screen.
func (m *Model) clamp() {
	n := len(m.t.view)
	m.cursor = clampInt(m.cursor, 0, n-1)
	h := m.listHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = clampInt(m.offset, 0, max(n-h, 0))
}

func (m *Model) selected() (Row, bool) {
	if m.cursor < 0 || m.cursor >= len(m.t.view) {
		return Row{}, false
	}
	return m.t.rows[m.t.view[m.cursor]], true
}

// find returns the row of the named connection.
func (m *Model) find(name string) (Row, bool) {
	for _, r := range m.t.rows {
		if r.Name == name {
			return r, true
		}
	}
	return Row{}, false
}

func (m *Model) selectedName() string {
	r, _ := m.selected()
	return r.Name
}

// selectName puts the cursor on the named connection if it is shown, else
// on the first row.
func (m *Model) selectName(name string) {
	m.cursor = 0
	for i, idx := range m.t.view {
		if m.t.rows[idx].Name == name {
			m.cursor = i
			break
		}
	}
	m.clamp()
}

func (m *Model) menuKey(k string) (tea.Model, tea.Cmd) {
	switch k {
	case "esc", "q":
		m.screen = screenList
	case "up", "k":
		m.menuSel = clampInt(m.menuSel-1, 0, len(m.menu)-1)
	case "down", "j":
		m.menuSel = clampInt(m.menuSel+1, 0, len(m.menu)-1)
	case "enter":
		r, _ := m.selected()
		return m, m.choose(m.menu[m.menuSel].act, r)
	default:
		for _, it := range m.menu {
			if it.key == k {
				r, _ := m.selected()
				return m, m.choose(it.act, r)
			}
		}
	}
	return m, nil
}

// choose starts an action on connection r: a confirmation first for the
// destructive ones.
func (m *Model) choose(a Action, r Row) tea.Cmd {
	m.screen = screenList
	name := r.Name
	switch a {
	case ActDelete, ActRevoke:
		return func() tea.Msg {
			text, err := m.b.Describe(m.ctx, a, name)
			return describedMsg{act: a, name: name, text: text, err: err}
		}
	case ActEdit:
		c, me, ok := m.lookup(r)
		if !ok {
			m.fail(notHere("editing a connection of an unknown connector", "connctl edit "+name))
			return nil
		}
		m.form, m.screen = newEditForm(r, c, me), screenForm
		return nil
	case ActAuthorize, ActReauthorize:
		if r.OAuth {
			return m.run(a, name)
		}
		c, me, ok := m.lookup(r)
		if !ok {
			verb := map[Action]string{ActAuthorize: "authorize", ActReauthorize: "reauthorize"}[a]
			m.fail(notHere("authorizing a connection of an unknown connector", "connctl "+verb+" "+name))
			return nil
		}
		m.form = newSecretForm(a, r, c, me)
		if len(m.form.inputs) == 0 {
			return m.run(a, name)
		}
		m.screen = screenForm
		return nil
	case ActViewActivities:
		m.busy = "Reading the activities of " + name
		return func() tea.Msg {
			acts, err := m.b.Activities(m.ctx, name)
			return activitiesMsg{name: name, acts: acts, err: err}
		}
	case ActViewJobs:
		m.busy = "Reading the jobs of " + name
		return func() tea.Msg {
			js, err := m.b.Jobs(m.ctx, name)
			return jobsMsg{name: name, jobs: js, err: err}
		}
	}
	return nil
}

var actionVerbs = map[Action]string{ActDelete: "Deleting", ActRevoke: "Revoking", ActAuthorize: "Authorizing", ActReauthorize: "Re-authorizing"}

// run starts a change in the background with a live progress line; Esc
// cancels it.
func (m *Model) run(a Action, name string) tea.Cmd {
	ctx, cancel := context.WithCancel(m.ctx)
	ch := make(chan string, 16)
	m.busy, m.progress, m.cancel = actionVerbs[a]+" "+name, "", cancel
	m.ok("")
	work := func() tea.Msg {
		defer cancel()
		line, err := m.b.Do(ctx, a, name, func(s string) { send(ch, s) })
		close(ch)
		return doneMsg{line: line, err: err, reload: true}
	}
	return tea.Batch(work, listen(ch))
}

// send passes a progress line on without ever blocking the work: when the
// page is behind, older lines are dropped.
func send(ch chan string, s string) {
	select {
	case ch <- s:
	default:
	}
}

func listen(ch chan string) tea.Cmd {
	return func() tea.Msg {
		line, ok := <-ch
		if !ok {
			return nil
		}
		return progressMsg{ch: ch, line: line}
	}
}

func (m *Model) click(ms tea.Mouse) (tea.Model, tea.Cmd) {
	if ms.Button != tea.MouseLeft {
		return m, nil
	}
	switch m.screen {
	case screenList:
		i := m.offset + ms.Y - listTop
		if ms.Y < listTop || i >= len(m.t.view) || ms.Y >= listTop+m.listHeight() {
			return m, nil
		}
		if i == m.cursor { // a click on the selected row opens its menu
			if r, ok := m.selected(); ok {
				m.menu, m.menuSel, m.screen = menuFor(r), 0, screenMenu
			}
			return m, nil
		}
		m.cursor = i
		m.clamp()
	case screenMenu:
		// The menu's items are listed from menuTop(); a click on one chooses it.
		if i := ms.Y - m.menuTop() - 1; i >= 0 && i < len(m.menu) {
			r, _ := m.selected()
			return m, m.choose(m.menu[i].act, r)
		}
		m.screen = screenList
	}
	return m, nil
}

func (m *Model) activitiesKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Back), msg.String() == "q":
		m.screen = screenList
	case key.Matches(msg, m.keys.FailedOnly):
		m.failedOnly = !m.failedOnly
		m.actSel = 0
	case key.Matches(msg, m.keys.Up):
		m.move(-1)
	case key.Matches(msg, m.keys.Down):
		m.move(1)
	case key.Matches(msg, m.keys.Help):
		m.screen = screenHelp
	}
	return m, nil
}

func (m *Model) jobsKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Back), msg.String() == "q":
		m.screen = screenList
	case key.Matches(msg, m.keys.Up):
		m.move(-1)
	case key.Matches(msg, m.keys.Down):
		m.move(1)
	case key.Matches(msg, m.keys.Run):
		if m.jobSel < len(m.jobs) {
			return m, m.runJob(m.jobs[m.jobSel].Name)
		}
	case msg.String() == "n":
		r, _ := m.find(m.subject)
		c, _, ok := m.lookup(r)
		if !ok || len(c.Sources) == 0 {
			m.fail(fmt.Errorf("connection %s has no sources to fetch", m.subject))
			return m, nil
		}
		m.pick, m.screen = newSourcePicker(c), screenPicker
	}
	return m, nil
}

func (m *Model) runJob(job string) tea.Cmd {
	ctx, cancel := context.WithCancel(m.ctx)
	ch := make(chan string, 16)
	m.busy, m.progress, m.cancel = "Running job "+job, "", cancel
	m.ok("")
	subject := m.subject
	work := func() tea.Msg {
		defer cancel()
		line, err := m.b.RunJob(ctx, job, func(s string) { send(ch, s) })
		close(ch)
		// The last run's status changed, whether it worked or not.
		js, jerr := m.b.Jobs(m.ctx, subject)
		if jerr != nil {
			return doneMsg{line: line, err: err}
		}
		return jobsDoneMsg{line: line, err: err, jobs: js}
	}
	return tea.Batch(work, listen(ch))
}

type loadedSelectMsg struct {
	loadedMsg
	name string
}

type jobsDoneMsg struct {
	line string
	err  error
	jobs []Job
}

// relTime is "3h ago" as `connctl list` shows it on a terminal.
func relTime(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	case d < 365*24*time.Hour:
		return fmt.Sprintf("%dmo ago", int(d.Hours()/24/30))
	}
	return fmt.Sprintf("%dy ago", int(d.Hours()/24/365))
}

// oneLine keeps the first line of s, without terminal controls.
func oneLine(s string) string {
	s, _, _ = strings.Cut(ansi.Strip(s), "\n")
	return s
}
