package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// Golden screens: the page run by bubbletea (teatest) at fixed sizes, the
// keys typed, then the final screen compared with testdata/<test>.golden,
// without SGR so that the files read as the screen does. Regenerate with
// go test ./internal/tui -run TestGolden -update.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, tc := range []struct {
			name  string
			keys  []tea.Msg
			until string
		}{
			{"list", nil, ""},
			{"search", msgs("/", "c", "r", "m"), "crm█"},
			{"menu", msgs("enter"), "View Activities"},
			{"confirm", msgs("down", "down", "d"), "Delete connection support"},
			{"help", msgs("?"), "keys"},
			{"activities", msgs("A"), "reason: auth"},
			{"jobs", msgs("J"), "hourly"},
			{"picker", msgs("c"), "Connector:"},
			{"create", msgs("c", "f", "r", "e", "s", "h", "enter", "enter", "a", " "), "✗"},
		} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				t.Parallel()
				m := &probed{New(context.Background(), sample(), Options{Now: func() time.Time { return now }})}
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]))
				waitScreen(t, tm, "crm-prod")
				for _, k := range tc.keys {
					tm.Send(k)
				}
				if tc.until != "" {
					waitScreen(t, tm, tc.until)
				}
				tm.Send(keyMsg("ctrl+c"))
				final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*probed).Model
				golden.RequireEqual(t, []byte(ansi.Strip(final.Render())+"\n"))
			})
		}
	}
}

// probed runs the page with one more message: a probe, answered with the
// screen as the page renders it at that moment. Waiting on the model's own
// screen, not on the bytes the renderer wrote, keeps the test independent of
// how the renderer splits a change into frames: under load it may write "cr"
// in one frame and only the "m" of "crm" in the next, so the bytes never
// hold "crm" (a failure CI saw).
type probed struct{ *Model }

type probe chan string

func (p *probed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ch, ok := msg.(probe); ok {
		ch <- ansi.Strip(p.Render())
		return p, nil
	}
	m, cmd := p.Model.Update(msg)
	p.Model = m.(*Model)
	return p, cmd
}

// waitScreen waits, for up to 30 s, until the screen holds want. A probe is
// handled after every message sent before it, so keys sent earlier are seen.
func waitScreen(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		ch := make(probe, 1)
		tm.Send(ch)
		select {
		case screen = <-ch:
			if strings.Contains(screen, want) {
				return
			}
		case <-time.After(time.Until(deadline)):
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("screen never showed %q within 30s; last screen:\n%s", want, screen)
}

func msgs(keys ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range keys {
		out = append(out, keyMsg(k))
	}
	return out
}
