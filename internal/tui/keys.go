package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key the page answers to; help lists them from here.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom  key.Binding
	Search, Connector, Status, Sort, Refresh key.Binding
	Menu, Create, Help, Back, Quit           key.Binding
	FailedOnly, Run                          key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:       key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:     key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Top:        key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		Bottom:     key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search by name")),
		Connector:  key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "filter by connector (cycles)")),
		Status:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "filter by status (cycles)")),
		Sort:       key.NewBinding(key.WithKeys("o", "1", "2", "3", "4", "5", "6"), key.WithHelp("o/1-6", "sort by next column / column N")),
		Refresh:    key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "reload")),
		Menu:       key.NewBinding(key.WithKeys("enter", "."), key.WithHelp("enter/.", "actions of the selected connection")),
		Create:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "create a connection")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "this help")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back, clear the search, cancel")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q/ctrl+c", "quit")),
		FailedOnly: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "activities: only failed in the last 24h")),
		Run:        key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "jobs: run the selected job now")),
	}
}

// menuItem is one action of the context menu with its shortcut.
type menuItem struct {
	act   Action
	label string
	key   string
}

var allItems = []menuItem{
	{ActEdit, "Edit", "e"},
	{ActDelete, "Delete", "d"},
	{ActAuthorize, "Authorize", "a"},
	{ActRevoke, "Revoke", "v"},
	{ActReauthorize, "Re-Authorize", "R"},
	{ActViewJobs, "View Jobs", "J"},
	{ActViewActivities, "View Activities", "A"},
}

// menuFor lists the actions that make sense for a connection's status:
// Authorize only when it was never authorized, Revoke only while it holds
// credentials, Re-Authorize once it has been authorized.
func menuFor(r Row) []menuItem {
	var out []menuItem
	for _, it := range allItems {
		ok := true
		switch it.act {
		case ActAuthorize:
			ok = r.Status == "not_authorized"
		case ActRevoke:
			ok = r.Status == "authorized" || r.Status == "unverified" || r.Status == "needs_reauthorization"
		case ActReauthorize:
			ok = r.Status != "not_authorized"
		}
		if ok {
			out = append(out, it)
		}
	}
	return out
}
