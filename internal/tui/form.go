package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// pickItem is one line of the connector picker: a connector with one of
// its auth methods, so that one search finds "jira oauth".
type pickItem struct {
	ctr   Connector
	m     Method
	src   *Source // Create Job: the source picked
	label string
}

// picker is the searchable connector list of Create Connection.
type picker struct {
	items  []pickItem
	search string
	shown  []int
	sel    int
}

func newPicker(cs []Connector) *picker {
	p := &picker{}
	for _, c := range cs {
		for _, m := range c.Methods {
			label := fmt.Sprintf("%-14s %-22s %s", c.ID, c.Name, m.Label)
			if m.OAuth {
				label += " (browser sign-in)"
			}
			p.items = append(p.items, pickItem{ctr: c, m: m, label: label})
		}
	}
	p.filter()
	return p
}

// newSourcePicker lists the sources of c, for Create Job.
func newSourcePicker(c Connector) *picker {
	p := &picker{}
	for i := range c.Sources {
		src := &c.Sources[i]
		p.items = append(p.items, pickItem{ctr: c, src: src, label: fmt.Sprintf("%-20s %s", src.Name, oneLine(src.Help))})
	}
	p.filter()
	return p
}

func (p *picker) filter() {
	p.shown = p.shown[:0]
	words := strings.Fields(strings.ToLower(p.search))
	for i, it := range p.items {
		l := strings.ToLower(it.label)
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			p.shown = append(p.shown, i)
		}
	}
	p.sel = clampInt(p.sel, 0, len(p.shown)-1)
}

// input is one field of the form with what was typed.
type input struct {
	f       Field
	value   string
	orig    string // Edit: the value before
	name    bool   // the connection's name, not a field
	touched bool
}

// form is Create Connection, Edit, or a key-based (Re-)Authorize.
type form struct {
	src    *Source // Create Job
	act    Action
	target string // Edit, Authorize: the connection
	ctr    Connector
	m      Method
	inputs []input
	focus  int
	tried  bool // Save was pressed: show every error
}

func (f *form) title() string {
	switch f.act {
	case ActCreateJob:
		return "Create Job · " + f.target + " · source " + f.src.Name
	case ActEdit:
		return "Edit " + f.target
	case ActAuthorize:
		return "Authorize " + f.target
	case ActReauthorize:
		return "Re-Authorize " + f.target
	}
	return "Create Connection · " + f.ctr.Name + " · " + f.m.Label
}

// button is what Enter on the last field does.
func (f *form) button() string {
	if f.act == ActCreate && f.m.OAuth {
		return "Authorize"
	}
	return "Save"
}

// newCreateForm: the name, then the connector's fields, then the method's.
func newCreateForm(it pickItem, taken func(string) bool) *form {
	f := &form{act: ActCreate, ctr: it.ctr, m: it.m}
	name := it.ctr.ID
	for n := 2; taken(name); n++ {
		name = fmt.Sprintf("%s-%d", it.ctr.ID, n)
	}
	f.inputs = append(f.inputs, input{name: true, value: name, f: Field{Name: "name", Label: "Name", Required: true, Help: "what you will call this connection in connctl"}})
	for _, fl := range append(slices.Clone(it.ctr.Fields), it.m.Fields...) {
		f.inputs = append(f.inputs, input{f: fl})
	}
	return f
}

// newJobForm: the job's name, where it writes, its schedule and the
// source's parameters.
func newJobForm(conn string, c Connector, src *Source, taken func(string) bool) *form {
	f := &form{act: ActCreateJob, target: conn, ctr: c, src: src}
	name := conn + "-" + src.Name
	for n := 2; taken(name); n++ {
		name = fmt.Sprintf("%s-%s-%d", conn, src.Name, n)
	}
	f.inputs = append(f.inputs,
		input{name: true, value: name, f: Field{Name: "name", Label: "Job name", Required: true, Help: "what you will call this job"}},
		input{value: name + ".ndjson", f: Field{Name: "dest", Label: "Write to", Required: true, Help: "the file the records go to (.ndjson or .csv)"}},
		input{f: Field{Name: "schedule", Label: "Schedule", Help: "hourly, daily, weekly or \"every DURATION\"; empty: run it by hand"}},
	)
	for _, p := range src.Params {
		f.inputs = append(f.inputs, input{f: p})
	}
	return f
}

// newEditForm: the name and the non-secret fields, filled in; secrets left
// empty keep their value.
func newEditForm(r Row, c Connector, m Method) *form {
	f := &form{act: ActEdit, target: r.Name, ctr: c, m: m}
	f.inputs = append(f.inputs, input{name: true, value: r.Name, orig: r.Name, f: Field{Name: "name", Label: "Name", Required: true, Help: "renaming keeps the secrets and the jobs"}})
	for _, fl := range append(slices.Clone(c.Fields), m.Fields...) {
		if fl.Secret {
			fl.Required = false
			fl.Help = "leave empty to keep the current one; " + fl.Help
		}
		v := r.Fields[fl.Name]
		f.inputs = append(f.inputs, input{f: fl, value: v, orig: v})
	}
	return f
}

// newSecretForm: a key-based connection's secrets, for (Re-)Authorize.
func newSecretForm(a Action, r Row, c Connector, m Method) *form {
	f := &form{act: a, target: r.Name, ctr: c, m: m}
	for _, fl := range m.Fields {
		if fl.Secret {
			f.inputs = append(f.inputs, input{f: fl})
		}
	}
	return f
}

// problem is what is wrong with in's value, or "".
func (f *form) problem(in *input, validName func(string) error) string {
	v := in.value
	switch {
	case in.name && f.act == ActCreateJob:
		if v == "" {
			return in.f.Label + " is required"
		}
	case in.name:
		if err := validName(v); err != nil && (f.act == ActCreate || v != in.orig) {
			return err.Error()
		}
	case v == "":
		if in.f.Required && in.f.Default == "" && !(f.act == ActEdit && in.f.Secret) {
			return in.f.Label + " is required"
		}
	case len(in.f.Enum) > 0 && !slices.Contains(in.f.Enum, v):
		return "choose one of: " + strings.Join(in.f.Enum, ", ")
	case in.f.Validate != nil:
		if err := in.f.Validate(v); err != nil {
			return err.Error()
		}
	}
	return ""
}

// submission is the form as the Backend takes it.
func (f *form) submission() Submission {
	s := Submission{Connector: f.ctr.ID, Auth: f.m.ID, Fields: map[string]string{}, Secrets: map[string]string{}}
	if f.src != nil {
		s.Source = f.src.Name
	}
	for _, in := range f.inputs {
		switch {
		case in.name:
			s.Name = in.value
		case in.f.Secret:
			if in.value != "" {
				s.Secrets[in.f.Name] = in.value
			}
		case in.value != in.orig || f.act == ActCreate && in.value != "":
			s.Fields[in.f.Name] = in.value
		}
	}
	return s
}

func (m *Model) openPicker() {
	m.pick = newPicker(m.b.Connectors())
	m.screen = screenPicker
}

func (m *Model) lookup(r Row) (Connector, Method, bool) {
	for _, c := range m.b.Connectors() {
		if c.ID != r.Connector {
			continue
		}
		for _, me := range c.Methods {
			if me.ID == r.Auth {
				return c, me, true
			}
		}
	}
	return Connector{}, Method{}, false
}

func (m *Model) pickerKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	p := m.pick
	switch k := msg.String(); k {
	case "esc":
		m.screen = screenList
		if len(p.items) > 0 && p.items[0].src != nil {
			m.screen = screenJobs
		}
	case "up":
		p.sel = clampInt(p.sel-1, 0, len(p.shown)-1)
	case "down":
		p.sel = clampInt(p.sel+1, 0, len(p.shown)-1)
	case "enter":
		if len(p.shown) > 0 {
			it := p.items[p.shown[p.sel]]
			if it.src != nil {
				m.form = newJobForm(m.subject, it.ctr, it.src, m.jobTaken)
			} else {
				m.form = newCreateForm(it, m.taken)
			}
			m.screen = screenForm
		}
	case "backspace":
		if r := []rune(p.search); len(r) > 0 {
			p.search = string(r[:len(r)-1])
			p.filter()
		}
	default:
		if t := msg.Key().Text; t != "" {
			p.search += t
			p.filter()
		}
	}
	return m, nil
}

func (m *Model) jobTaken(name string) bool {
	for _, j := range m.jobs {
		if j.Name == name {
			return true
		}
	}
	return false
}

func (m *Model) taken(name string) bool {
	for _, r := range m.t.rows {
		if r.Name == name {
			return true
		}
	}
	return false
}

func (m *Model) formKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	f := m.form
	in := &f.inputs[f.focus]
	switch k := msg.String(); k {
	case "esc":
		m.screen = screenList
		if f.act == ActCreateJob {
			m.screen = screenJobs
		}
		m.ok("Nothing saved")
	case "tab", "down":
		f.focus = (f.focus + 1) % len(f.inputs)
	case "shift+tab", "up":
		f.focus = (f.focus + len(f.inputs) - 1) % len(f.inputs)
	case "enter":
		if f.focus < len(f.inputs)-1 {
			f.focus++
			return m, nil
		}
		return m, m.submit()
	case "ctrl+s":
		return m, m.submit()
	case "backspace":
		if r := []rune(in.value); len(r) > 0 {
			in.value, in.touched = string(r[:len(r)-1]), true
		}
	case "ctrl+u":
		in.value, in.touched = "", true
	default:
		if t := msg.Key().Text; t != "" {
			in.value, in.touched = in.value+t, true
		}
	}
	return m, nil
}

// submit checks every field, then saves the form in the background.
func (m *Model) submit() tea.Cmd {
	f := m.form
	f.tried = true
	for i := range f.inputs {
		if p := f.problem(&f.inputs[i], m.b.ValidName); p != "" {
			f.focus = i
			m.fail(fmt.Errorf("%s: %s", f.inputs[i].f.Label, p))
			return nil
		}
	}
	s := f.submission()
	name := f.target
	if f.act == ActCreate {
		name = s.Name
	}
	if f.act == ActEdit && len(s.Fields) == 0 && len(s.Secrets) == 0 && s.Name == f.target {
		m.screen = screenList
		m.ok("Nothing changed")
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	ch := make(chan string, 16)
	verb := map[Action]string{ActCreateJob: "Creating a job of", ActCreate: "Creating", ActEdit: "Saving", ActAuthorize: "Authorizing", ActReauthorize: "Re-authorizing"}[f.act]
	m.busy, m.progress, m.cancel = verb+" "+name, "", cancel
	m.ok("")
	act := f.act
	work := func() tea.Msg {
		defer cancel()
		line, err := m.b.Submit(ctx, act, f.target, s, func(l string) { send(ch, l) })
		close(ch)
		if act == ActCreateJob && err == nil {
			js, jerr := m.b.Jobs(m.ctx, name)
			if jerr == nil {
				return jobsDoneMsg{line: line, jobs: js}
			}
		}
		return formDoneMsg{line: line, err: err, name: s.Name}
	}
	return tea.Batch(work, listen(ch))
}

type formDoneMsg struct {
	line, name string
	err        error
}

// formLines renders the form: each field on a line, its help or its
// problem under it; the window follows the focus.
func (m *Model) formLines() []string {
	f := m.form
	lines := []string{m.st.bold(f.title()), ""}
	if f.act == ActCreate && f.m.HowTo != "" {
		lines = append(lines, m.st.faint(oneLine(f.m.HowTo)), "")
	}
	labelW := 8
	for _, in := range f.inputs {
		labelW = max(labelW, len(in.f.Label)+4) // room for " *" and a space
	}
	labelW = min(labelW, 28)
	room := max((m.height-4-len(lines))/2, 1)
	first := clampInt(f.focus-room+1, 0, max(len(f.inputs)-room, 0))
	for i := first; i < min(first+room, len(f.inputs)); i++ {
		in := &f.inputs[i]
		label := in.f.Label
		if in.f.Required && !(f.act == ActEdit && in.f.Secret) {
			label += " *"
		}
		v := in.value
		if in.f.Secret {
			v = strings.Repeat("•", len([]rune(v)))
		}
		if v == "" && in.f.Default != "" {
			v = m.st.faint(in.f.Default)
		}
		marker := "  "
		if i == f.focus {
			marker = "▸ "
			v += "█"
		}
		lines = append(lines, marker+fit(label, labelW)+v)
		under := in.f.Help
		if len(in.f.Enum) > 0 {
			under = "one of: " + strings.Join(in.f.Enum, ", ") + "; " + under
		}
		if p := f.problem(in, m.b.ValidName); p != "" && (in.touched || f.tried) {
			lines = append(lines, "  "+strings.Repeat(" ", labelW)+m.st.red("✗ "+p))
		} else {
			lines = append(lines, "  "+strings.Repeat(" ", labelW)+m.st.faint(oneLine(under)))
		}
	}
	return lines
}

func (m *Model) pickerLines() []string {
	p := m.pick
	title, prompt := "Create Connection", "Connector: "
	if len(p.items) > 0 && p.items[0].src != nil {
		title, prompt = "Create Job · "+m.subject, "Source: "
	}
	lines := []string{m.st.bold(title) + fmt.Sprintf("  %d of %d", len(p.shown), len(p.items)), prompt + p.search + "█", ""}
	h := max(m.height-5, 1)
	first := clampInt(p.sel-h+1, 0, max(len(p.shown)-h, 0))
	for i := first; i < min(first+h, len(p.shown)); i++ {
		it := p.items[p.shown[i]]
		if i == p.sel {
			lines = append(lines, m.st.selected(fit("▸ "+it.label, m.width)))
			continue
		}
		lines = append(lines, "  "+it.label)
	}
	if len(p.shown) == 0 {
		lines = append(lines, "  Nothing matches.")
	}
	return lines
}
