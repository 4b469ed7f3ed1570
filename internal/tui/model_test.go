package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// newModel returns a loaded page over f at w×h, colour off.
func newModel(t testing.TB, f *fake, w, h int) *Model {
	t.Helper()
	m := New(context.Background(), f, Options{Now: func() time.Time { return now }})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	drain(m, m.Init())
	return m
}

// drain runs cmd and every command its messages lead to, as the program
// would (batches included), until none is left.
func drain(m *Model, cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		if b, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, b...)
			continue
		}
		if msg == nil {
			continue
		}
		if _, ok := msg.(tea.QuitMsg); ok {
			continue
		}
		_, next := m.Update(msg)
		queue = append(queue, next)
	}
}

// press sends keys: single characters, or names such as "enter", "esc".
func press(m *Model, keys ...string) {
	for _, k := range keys {
		drain(m, func() tea.Msg { return keyMsg(k) })
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func screenText(m *Model) string { return ansi.Strip(m.Render()) }

func names(m *Model) []string {
	var out []string
	for _, i := range m.t.view {
		out = append(out, m.t.rows[i].Name)
	}
	return out
}

func TestSearchFiltersAsYouType(t *testing.T) {
	t.Parallel()
	m := newModel(t, sample(), 80, 24)
	press(m, "/", "c", "r", "m")
	if got := strings.Join(names(m), ","); got != "crm-prod,crm-sandbox" {
		t.Fatalf("after /crm: %s", got)
	}
	press(m, "-", "s")
	if got := strings.Join(names(m), ","); got != "crm-sandbox" {
		t.Fatalf("after /crm-s: %s", got)
	}
	press(m, "backspace", "backspace", "enter")
	if m.searching || m.t.search != "crm" {
		t.Fatalf("enter keeps the search: searching %v, %q", m.searching, m.t.search)
	}
	if !strings.Contains(screenText(m), "Search: crm") {
		t.Errorf("screen does not show the search:\n%s", screenText(m))
	}
	press(m, "esc")
	if len(m.t.view) != 5 {
		t.Errorf("esc clears the search: %v", names(m))
	}
	press(m, "/", "Z", "Z")
	if !strings.Contains(screenText(m), "No connections match.") {
		t.Errorf("no match not said:\n%s", screenText(m))
	}
}

func TestFiltersAndSort(t *testing.T) {
	t.Parallel()
	m := newModel(t, sample(), 120, 40)
	press(m, "f") // first connector: freshdesk
	if got := strings.Join(names(m), ","); got != "support" {
		t.Fatalf("connector filter: %s", got)
	}
	press(m, "f", "f", "f", "f") // salesforce, snowflake, zendesk, all
	if len(m.t.view) != 5 || m.t.connector != "" {
		t.Fatalf("cycling back to all: %v %q", names(m), m.t.connector)
	}
	press(m, "s") // first status: authorized
	if got := strings.Join(names(m), ","); got != "crm-prod" {
		t.Fatalf("status filter: %s", got)
	}
	press(m, "s", "s", "s", "s", "s")
	press(m, "5") // created, newest first
	if got := strings.Join(names(m), ","); got != "tickets-eu,support,crm-prod,crm-sandbox,warehouse" {
		t.Errorf("sort by created: %s", got)
	}
	press(m, "6") // failed first
	if names(m)[0] != "crm-prod" {
		t.Errorf("sort by failed: %v", names(m))
	}
	press(m, "o") // wraps to name
	if m.t.sortCol != 0 || names(m)[0] != "crm-prod" || names(m)[4] != "warehouse" {
		t.Errorf("o after the last column: col %d %v", m.t.sortCol, names(m))
	}
}

func TestMenuOffersWhatTheStatusAllows(t *testing.T) {
	t.Parallel()
	labels := func(r Row) string {
		var out []string
		for _, it := range menuFor(r) {
			out = append(out, it.label)
		}
		return strings.Join(out, ",")
	}
	for status, want := range map[string]string{
		"authorized":            "Edit,Delete,Revoke,Re-Authorize,View Jobs,View Activities",
		"unverified":            "Edit,Delete,Revoke,Re-Authorize,View Jobs,View Activities",
		"not_authorized":        "Edit,Delete,Authorize,View Jobs,View Activities",
		"revoked":               "Edit,Delete,Re-Authorize,View Jobs,View Activities",
		"needs_reauthorization": "Edit,Delete,Revoke,Re-Authorize,View Jobs,View Activities",
	} {
		if got := labels(Row{Status: status}); got != want {
			t.Errorf("%s: %s, want %s", status, got, want)
		}
	}
}

func TestDeleteConfirmsNamingWhatGoes(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "down", "down") // support
	press(m, ".")
	if m.screen != screenMenu {
		t.Fatalf("screen %d after .", m.screen)
	}
	press(m, "d")
	if m.screen != screenConfirm || !strings.Contains(screenText(m), "Delete connection support (freshdesk) with its secrets?") {
		t.Fatalf("no confirmation naming the connection:\n%s", screenText(m))
	}
	press(m, "n")
	if len(f.did) != 0 || !strings.Contains(screenText(m), "Nothing changed") {
		t.Fatalf("n did something: %v", f.did)
	}
	press(m, "d", "y") // the shortcut works from the list too
	if strings.Join(f.did, ";") != "1 support" {
		t.Fatalf("did %v", f.did)
	}
	if strings.Contains(strings.Join(names(m), ","), "support") || !strings.Contains(screenText(m), "Deleted connection support") {
		t.Errorf("after delete: %v\n%s", names(m), screenText(m))
	}
	if m.selectedName() == "" {
		t.Errorf("no row selected after delete")
	}
}

func TestRevokeFromTheMenu(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "enter", "down", "down", "enter") // crm-prod: Edit, Delete, Revoke
	if m.screen != screenConfirm || !strings.Contains(screenText(m), "Revoke connection crm-prod") {
		t.Fatalf("no revoke confirmation:\n%s", screenText(m))
	}
	press(m, "y")
	if f.rows[0].Status != "revoked" || m.t.rows[0].Status != "revoked" {
		t.Errorf("not revoked or not reloaded: %+v", m.t.rows[0])
	}
	for _, it := range menuFor(m.t.rows[0]) {
		if it.act == ActRevoke {
			t.Errorf("Revoke still offered on a revoked connection")
		}
	}
}

func TestErrorsShowWithTheirHint(t *testing.T) {
	t.Parallel()
	f := sample()
	f.fail = hinted{"revoke token for \"crm-prod\": HTTP 503", "try again later"}
	m := newModel(t, f, 80, 24)
	press(m, "v", "y")
	s := screenText(m)
	if !strings.Contains(s, `error: revoke token for "crm-prod": HTTP 503`) || !strings.Contains(s, "hint: try again later") {
		t.Errorf("error or hint missing:\n%s", s)
	}
}

func TestOAuthAuthorizeShowsProgress(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "/", "t", "i", "enter", "a")
	if strings.Join(f.did, ";") != "2 tickets-eu" || !strings.Contains(screenText(m), "Authorized connection tickets-eu") {
		t.Errorf("did %v\n%s", f.did, screenText(m))
	}
	// Key-based connections need the key: a masked form asks for it.
	press(m, "esc", "/", "s", "u", "p", "enter", "R")
	s := screenText(m)
	if m.screen != screenForm || !strings.Contains(s, "Re-Authorize support") || !strings.Contains(s, "API key *") {
		t.Fatalf("key-based reauthorize:\n%s", s)
	}
	press(m, "n", "e", "w", "k", "e", "y")
	if s := screenText(m); strings.Contains(s, "newkey") || !strings.Contains(s, "••••••") {
		t.Errorf("the secret is not masked:\n%s", s)
	}
	press(m, "enter")
	if got := f.did[len(f.did)-1]; got != "submit 4 support map[] secrets:1" {
		t.Errorf("submitted %q", got)
	}
}

func TestActivitiesView(t *testing.T) {
	t.Parallel()
	m := newModel(t, sample(), 80, 24)
	press(m, "A")
	if m.screen != screenActivities {
		t.Fatalf("screen %d", m.screen)
	}
	s := screenText(m)
	for _, want := range []string{"Activities of crm-prod", "HTTP 401 from salesforce", "reason: auth", "by ana"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q:\n%s", want, s)
		}
	}
	press(m, "x")
	if len(m.visibleActs()) != 1 {
		t.Errorf("failed in 24h: %d", len(m.visibleActs()))
	}
	press(m, "x", "down", "down")
	if !strings.Contains(screenText(m), `changed: name: "" -> "crm-prod"`) {
		t.Errorf("detail of the update:\n%s", screenText(m))
	}
	press(m, "esc")
	if m.screen != screenList {
		t.Errorf("esc: screen %d", m.screen)
	}
}

func TestJobsViewRunsOne(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "J")
	s := screenText(m)
	if m.screen != screenJobs || !strings.Contains(s, "accounts") || !strings.Contains(s, "hourly") || !strings.Contains(s, "never") {
		t.Fatalf("jobs:\n%s", s)
	}
	press(m, "r")
	if strings.Join(f.did, ";") != "run accounts" || !strings.Contains(screenText(m), "Job accounts: 10 records") {
		t.Errorf("did %v\n%s", f.did, screenText(m))
	}
}

func TestHelpResizeMouseQuit(t *testing.T) {
	t.Parallel()
	m := newModel(t, sample(), 80, 24)
	press(m, "?")
	if !strings.Contains(screenText(m), "keys") || m.screen != screenHelp {
		t.Fatalf("help:\n%s", screenText(m))
	}
	press(m, "x")
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 8})
	lines := strings.Split(m.Render(), "\n")
	if len(lines) != 8 {
		t.Errorf("%d lines at height 8", len(lines))
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w != 40 {
			t.Errorf("line of width %d at width 40: %q", w, l)
		}
	}
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(tea.MouseClickMsg{X: 5, Y: listTop + 2, Button: tea.MouseLeft})
	if m.cursor != 2 {
		t.Errorf("click selects row 2: cursor %d", m.cursor)
	}
	m.Update(tea.MouseClickMsg{X: 5, Y: listTop + 2, Button: tea.MouseLeft})
	if m.screen != screenMenu {
		t.Errorf("a click on the selected row opens the menu")
	}
	press(m, "esc")
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if m.cursor != 4 {
		t.Errorf("wheel: cursor %d", m.cursor)
	}
	_, cmd := m.Update(keyMsg("q"))
	if cmd == nil || cmd() != tea.Quit() {
		t.Errorf("q does not quit")
	}
	_, cmd = m.Update(keyMsg("ctrl+c"))
	if cmd == nil || cmd() != tea.Quit() {
		t.Errorf("ctrl+c does not quit")
	}
}

func TestNoColorHasNoColour(t *testing.T) {
	t.Parallel()
	m := newModel(t, sample(), 80, 24)
	s := m.Render()
	for _, sgr := range []string{"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[2m"} {
		if strings.Contains(s, sgr) {
			t.Errorf("colour %q with colour off", sgr)
		}
	}
	if !strings.Contains(s, "\x1b[7m") {
		t.Errorf("the selected row is not shown in reverse")
	}
	m.st.color = true
	if !strings.Contains(m.Render(), "\x1b[32mauthorized") && !strings.Contains(m.Render(), "\x1b[31m") {
		t.Errorf("no colour with colour on")
	}
}

func TestTenThousandRendersOnlyVisibleRows(t *testing.T) {
	t.Parallel()
	m := newModel(t, &fake{rows: many(10000)}, 80, 24)
	if got := strings.Count(screenText(m), "conn-"); got != m.listHeight() {
		t.Errorf("%d rows on screen, want %d", got, m.listHeight())
	}
	press(m, "G")
	if m.cursor != 9999 || !strings.Contains(screenText(m), "▸") {
		t.Errorf("G: cursor %d", m.cursor)
	}
}

func TestCreateKeyBasedWithValidationAsYouType(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "c")
	if m.screen != screenPicker {
		t.Fatalf("c: screen %d", m.screen)
	}
	press(m, "f", "r", "e", "s", "h")
	if len(m.pick.shown) != 1 || !strings.Contains(screenText(m), "Freshdesk") {
		t.Fatalf("picker search:\n%s", screenText(m))
	}
	press(m, "enter")
	s := screenText(m)
	if m.screen != screenForm || !strings.Contains(s, "Create Connection · Freshdesk · API key") || !strings.Contains(s, "freshdesk") {
		t.Fatalf("form:\n%s", s)
	}
	press(m, "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	for _, k := range strings.Split("desk eu", "") {
		press(m, k)
	}
	if !strings.Contains(screenText(m), "use letters, digits") {
		t.Errorf("bad name not flagged as typed:\n%s", screenText(m))
	}
	press(m, "backspace", "backspace", "backspace", "-", "e", "u", "tab", "a", " ", "b")
	if !strings.Contains(screenText(m), "give the account name") {
		t.Errorf("the connector's validation is not shown:\n%s", screenText(m))
	}
	press(m, "backspace", "backspace", "enter")
	press(m, "enter") // Save with the key empty
	if !strings.Contains(screenText(m), "error: API key: API key is required") || len(f.did) != 0 {
		t.Fatalf("saved without the key: %v\n%s", f.did, screenText(m))
	}
	press(m, "s", "3", "c", "r", "3", "t", "enter")
	if strings.Contains(screenText(m), "s3cr3t") && m.screen == screenForm {
		t.Errorf("secret shown")
	}
	if got := strings.Join(f.did, ";"); got != "submit 7  map[domain:a] secrets:1" {
		t.Errorf("submitted %q", got)
	}
	if m.screen != screenList || m.selectedName() != "desk-eu" || !strings.Contains(screenText(m), "Created connection desk-eu") {
		t.Errorf("after create: screen %d, selected %q\n%s", m.screen, m.selectedName(), screenText(m))
	}
}

func TestCreateOAuthShowsTheURLAndEscCancels(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "c", "s", "a", "l", "e", "s", "enter")
	if !strings.Contains(screenText(m), "Authorize") || !strings.Contains(screenText(m), "one of: login, test") {
		t.Fatalf("oauth form:\n%s", screenText(m))
	}
	// The progress line (the URL) shows whole while the flow waits.
	m.busy, m.progress = "Creating salesforce", "Open https://login.example/authorize?client_id=abc&state=xyz to sign in"
	if !strings.Contains(screenText(m), "https://login.example/authorize?client_id=abc&state=xyz") {
		t.Errorf("URL not shown:\n%s", screenText(m))
	}
	cancelled := false
	m.cancel = func() { cancelled = true }
	press(m, "esc")
	if !cancelled {
		t.Errorf("esc does not cancel the running flow")
	}
	m.busy, m.progress, m.cancel = "", "", nil
	press(m, "ctrl+s")
	if got := strings.Join(f.did, ";"); got != "submit 7  map[] secrets:0" || !strings.Contains(screenText(m), "Created connection salesforce") {
		t.Errorf("did %q\n%s", got, screenText(m))
	}
}

func TestEditFormFilledIn(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "/", "s", "u", "p", "enter", "e")
	s := screenText(m)
	if m.screen != screenForm || !strings.Contains(s, "Edit support") || !strings.Contains(s, "acme") || !strings.Contains(s, "leave empty to keep") {
		t.Fatalf("edit form:\n%s", s)
	}
	press(m, "ctrl+s")
	if len(f.did) != 0 || !strings.Contains(screenText(m), "Nothing changed") {
		t.Fatalf("unchanged form saved: %v", f.did)
	}
	press(m, "e", "-", "2", "ctrl+s")
	if got := strings.Join(f.did, ";"); got != "submit 0 support map[] secrets:0" || m.selectedName() != "support-2" {
		t.Errorf("rename: %q, selected %q", got, m.selectedName())
	}
}

func TestCreateJobFromTheConnectorsSources(t *testing.T) {
	t.Parallel()
	f := sample()
	m := newModel(t, f, 80, 24)
	press(m, "J", "n")
	if m.screen != screenPicker || !strings.Contains(screenText(m), "Create Job · crm-prod") || !strings.Contains(screenText(m), "soql") {
		t.Fatalf("source picker:\n%s", screenText(m))
	}
	press(m, "s", "o", "q", "enter")
	s := screenText(m)
	if m.screen != screenForm || !strings.Contains(s, "crm-prod-soql") || !strings.Contains(s, "crm-prod-soql.ndjson") || !strings.Contains(s, "query *") {
		t.Fatalf("job form:\n%s", s)
	}
	press(m, "ctrl+s")
	if !strings.Contains(screenText(m), "error: query: query is required") {
		t.Fatalf("missing param not refused:\n%s", screenText(m))
	}
	press(m, "S", "E", "L", "enter")
	if got := strings.Join(f.did, ";"); got != "submit 8 crm-prod map[dest:crm-prod-soql.ndjson query:SEL] secrets:0" {
		t.Errorf("submitted %q", got)
	}
	if m.screen != screenJobs || len(m.jobs) != 3 || !strings.Contains(screenText(m), "Created job crm-prod-soql") {
		t.Errorf("after create: screen %d, %d jobs\n%s", m.screen, len(m.jobs), screenText(m))
	}
}

func TestEscLeavesPickersAndForms(t *testing.T) {
	t.Parallel()
	m := newModel(t, sample(), 80, 24)
	for _, tc := range []struct {
		keys []string
		want screen
	}{
		{[]string{"c", "esc"}, screenList},
		{[]string{"c", "enter", "esc"}, screenList},
		{[]string{"J", "n", "esc"}, screenJobs},
		{[]string{"J", "n", "enter", "esc"}, screenJobs},
		{[]string{"esc", ".", "esc"}, screenList},
		{[]string{"?", "z"}, screenList},
	} {
		m.screen = screenList
		press(m, tc.keys...)
		if m.screen != tc.want {
			t.Errorf("%v: screen %d, want %d", tc.keys, m.screen, tc.want)
		}
	}
	if !strings.Contains(screenText(m), "enter actions") {
		t.Errorf("not back on the list:\n%s", screenText(m))
	}
}
