package tui

import (
	"bytes"
	"context"
	"fmt"
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
				m := New(context.Background(), sample(), Options{Now: func() time.Time { return now }})
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]))
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("crm-prod")) },
					teatest.WithDuration(10*time.Second))
				for _, k := range tc.keys {
					tm.Send(k)
				}
				if tc.until != "" {
					teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(tc.until)) },
						teatest.WithDuration(10*time.Second))
				}
				tm.Send(keyMsg("ctrl+c"))
				final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
				golden.RequireEqual(t, []byte(ansi.Strip(final.Render())+"\n"))
			})
		}
	}
}

func msgs(keys ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range keys {
		out = append(out, keyMsg(k))
	}
	return out
}
