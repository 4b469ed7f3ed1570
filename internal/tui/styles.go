package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// styles paints text with SGR sequences (x/ansi, the layer Lip Gloss is
// built on). Lip Gloss itself is not used: its package detects the colour
// profile when the program starts (a terminfo read, and `tmux info` inside
// tmux), which every connctl command would pay for; see docs/ui.md.
// With colour off only bold and reverse remain, so the selected row and
// the headers still stand out under NO_COLOR.
type styles struct{ color bool }

func (s styles) paint(st ansi.Style, text string) string {
	if text == "" {
		return ""
	}
	return st.Styled(text)
}

func (s styles) fg(c ansi.BasicColor, text string) string {
	if !s.color {
		return text
	}
	return s.paint(ansi.Style{}.ForegroundColor(c), text)
}

func (s styles) bold(text string) string { return s.paint(ansi.Style{}.Bold(), text) }

func (s styles) faint(text string) string {
	if !s.color {
		return text
	}
	return s.paint(ansi.Style{}.Faint(), text)
}

// selected marks the row under the cursor: reverse video, which needs no colour.
func (s styles) selected(text string) string {
	return s.paint(ansi.Style{}.Reverse(true), ansi.Strip(text))
}

func (s styles) red(text string) string { return s.fg(ansi.Red, text) }

func (s styles) green(text string) string { return s.fg(ansi.Green, text) }

// badge colours a status as `connctl list` does: green when usable, yellow
// when it needs a step, red when revoked.
func (s styles) badge(status string) string {
	switch status {
	case "authorized":
		return s.fg(ansi.Green, status)
	case "unverified", "not_authorized", "needs_reauthorization":
		return s.fg(ansi.Yellow, status)
	case "revoked":
		return s.fg(ansi.Red, status)
	}
	return status
}

// activityStatus colours an activity's or a job run's status.
func (s styles) activityStatus(status string) string {
	switch status {
	case "succeeded":
		return s.fg(ansi.Green, status)
	case "failed", "stale", "cancelled":
		return s.fg(ansi.Red, status)
	case "partially_succeeded", "running":
		return s.fg(ansi.Yellow, status)
	}
	return status
}

// fit pads or cuts text (which may hold SGR sequences) to exactly w cells.
func fit(text string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(text)
	if n > w {
		return ansi.Truncate(text, w, "…")
	}
	return text + strings.Repeat(" ", w-n)
}
