package tui

import (
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// BenchmarkFirstFrame: 10,000 connections arrive and the first screen is
// rendered (sorted index by name, filter pass, visible rows only).
func BenchmarkFirstFrame(b *testing.B) {
	rows := many(10000)
	for b.Loop() {
		m := New(context.Background(), &fake{}, Options{Now: func() time.Time { return now }})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		m.Update(loadedMsg{rows: rows})
		_ = m.Render()
	}
}

// BenchmarkFilterKeystroke: one character typed into the search at 10,000
// connections, and the screen rendered again.
func BenchmarkFilterKeystroke(b *testing.B) {
	m := New(context.Background(), &fake{}, Options{Now: func() time.Time { return now }})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(loadedMsg{rows: many(10000)})
	press(m, "/")
	keys := []tea.KeyPressMsg{keyMsg("1"), keyMsg("backspace")}
	i := 0
	for b.Loop() {
		m.Update(keys[i%2])
		_ = m.Render()
		i++
	}
}
