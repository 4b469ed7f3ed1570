// Package tableprint prints rows of text for people and for scripts: on a
// terminal an aligned, borderless table with an uppercase header, cut to the
// terminal width; when piped, one tab-separated line per row with no header,
// no truncation and no colour, so column order is the contract.
//
// It is the only package that imports tablewriter (v1). tableprint knows
// nothing about connections or jobs: callers hand it strings.
package tableprint

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/textsafe"
)

// gap is the space between two columns of a terminal table.
const gap = "  "

// ellipsis marks a cell cut to fit the terminal.
const ellipsis = "…"

// ansi matches colour and other terminal escape sequences.
var ansi = twwidth.Filter()

// Table collects rows and prints them in terminal or pipe layout.
type Table struct {
	w       io.Writer
	tty     bool
	width   int
	headers []string
	rows    [][]string
}

// New returns a table writing to w. tty selects the terminal layout; width is
// the terminal width the table must fit (0 means no limit) and is ignored
// when tty is false. headers are the column titles, shown (uppercased) only
// on a terminal; they also fix the number of columns.
func New(w io.Writer, tty bool, width int, headers ...string) *Table {
	return &Table{w: w, tty: tty, width: width, headers: headers}
}

// NewIO returns a table on s.Out, in terminal layout when stdout is a
// terminal (or CONNCTL_FORCE_TTY is set) and fitted to its width.
func NewIO(s *iostreams.IOStreams, headers ...string) *Table {
	return New(s.Out, s.IsStdoutTTY(), s.TerminalWidth(), headers...)
}

// IsTTY reports whether the table uses the terminal layout.
func (t *Table) IsTTY() bool { return t.tty }

// Row adds a row. Missing cells are empty; cells beyond the number of
// headers are dropped (when there are headers), so every line has the same
// number of fields.
func (t *Table) Row(cells ...string) {
	t.rows = append(t.rows, append([]string(nil), cells...))
}

// Since formats a time for this table: relative ("3h ago") on a terminal,
// RFC 3339 in UTC when piped. The zero time is an empty cell in both layouts.
func (t *Table) Since(now, when time.Time) string {
	if when.IsZero() {
		return ""
	}
	if t.tty {
		return RelativeTime(now, when)
	}
	return when.UTC().Format(time.RFC3339)
}

// Render writes the table. It may be called once.
func (t *Table) Render() error {
	cols := t.columns()
	if cols == 0 {
		return nil
	}
	if !t.tty {
		return t.renderPipe(cols)
	}
	return t.renderTTY(cols)
}

// columns is the number of headers, or the widest row when there are none.
func (t *Table) columns() int {
	if len(t.headers) > 0 {
		return len(t.headers)
	}
	n := 0
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	return n
}

// normalize pads or cuts r to n cells, each made single-line by clean.
func normalize(r []string, n int, clean func(string) string) []string {
	out := make([]string, n)
	for i := range out {
		if i < len(r) {
			out[i] = clean(r[i])
		}
	}
	return out
}

func (t *Table) renderPipe(cols int) error {
	var b bytes.Buffer
	for _, r := range t.rows {
		b.WriteString(strings.Join(normalize(r, cols, pipeCell), "\t"))
		b.WriteByte('\n')
	}
	_, err := t.w.Write(b.Bytes())
	return err
}

// pipeCell strips colour and turns tabs and line breaks into spaces, so a
// cell can never split a field or a row; any other terminal control left is
// shown escaped (package textsafe), since piped output often ends up on a
// terminal after all.
func pipeCell(s string) string {
	return textsafe.Sanitize(flatten(ansi.ReplaceAllLiteralString(s, "")))
}

// flatten replaces every control whitespace (tab, newline, carriage return,
// vertical tab, form feed) with a space.
func flatten(s string) string {
	if !strings.ContainsAny(s, "\t\n\r\v\f") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r', '\v', '\f':
			return ' '
		}
		return r
	}, s)
}

// ttyCell is a cell on one line without edge blanks (which tablewriter
// would trim after the widths were measured), in which every terminal
// control but colour is shown escaped: cells hold text from providers and
// files, which must never move the cursor, retitle the window or clear it.
func ttyCell(s string) string { return textsafe.SanitizeKeepColor(strings.TrimSpace(flatten(s))) }

func (t *Table) renderTTY(cols int) error {
	header := make([]string, cols)
	for i := range header {
		if i < len(t.headers) {
			header[i] = strings.ToUpper(ttyCell(t.headers[i]))
		}
	}
	rows := make([][]string, len(t.rows))
	for i, r := range t.rows {
		rows[i] = normalize(r, cols, ttyCell)
	}

	natural := make([]int, cols)
	for i, h := range header {
		natural[i] = twwidth.Width(h)
	}
	for _, r := range rows {
		for i, c := range r {
			natural[i] = max(natural[i], twwidth.Width(c))
		}
	}
	if t.width > 0 {
		limits := fit(natural, t.width-len(gap)*(cols-1))
		truncate(header, limits)
		for _, r := range rows {
			truncate(r, limits)
		}
	}

	var b bytes.Buffer
	tbl := tablewriter.NewTable(&b,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		// Cells arrive already cut to size and single-line; tablewriter only aligns.
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Right: gap, Overwrite: true}),
	)
	if len(t.headers) > 0 {
		tbl.Header(header)
	}
	for _, r := range rows {
		if err := tbl.Append(r); err != nil {
			return fmt.Errorf("table row: %w", err)
		}
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}

	// tablewriter pads the last column too; a terminal table has no
	// trailing blanks (they would wrap lines on a terminal of exactly that width).
	lines := strings.SplitAfter(b.String(), "\n")
	var out strings.Builder
	for _, l := range lines {
		if l == "" {
			continue
		}
		out.WriteString(strings.TrimRight(strings.TrimSuffix(l, "\n"), " "))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(t.w, out.String())
	return err
}

// fit returns the widest each column may be so that the columns add up to at
// most avail. Only the widest columns shrink: it finds the largest cap c with
// sum(min(natural, c)) <= avail, then shares what is left one cell at a time
// among the capped columns, left to right. No column goes below one cell, so
// a very narrow terminal still overflows rather than losing columns.
func fit(natural []int, avail int) []int {
	limits := append([]int(nil), natural...)
	total := 0
	widest := 0
	for _, n := range natural {
		total += n
		widest = max(widest, n)
	}
	if total <= avail {
		return limits
	}
	sumAt := func(c int) int {
		s := 0
		for _, n := range natural {
			s += min(n, c)
		}
		return s
	}
	// sumAt is monotonic in c, so search for the largest c that fits.
	lo, hi := 1, widest
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if sumAt(mid) <= avail {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	c := lo
	spare := avail - sumAt(c)
	for i, n := range natural {
		limits[i] = min(n, c)
		if n > c && spare > 0 {
			limits[i]++
			spare--
		}
	}
	return limits
}

// truncate cuts each cell of r to its column limit, ending it with "…".
func truncate(r []string, limits []int) {
	for i, c := range r {
		if twwidth.Width(c) > limits[i] {
			r[i] = twwidth.Truncate(c, limits[i], ellipsis)
		}
	}
}

// RelativeTime describes t as seen at now, for people: "just now", "5m ago",
// "3h ago", "2d ago" up to 30 days, then the date ("2026-01-02") in now's
// location. Future times read "in 5m", "in 3h", "in 2d" (token expiry).
// Piped output uses RFC 3339 UTC instead; see Table.Since.
func RelativeTime(now, t time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		s = fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 30*24*time.Hour:
		s = fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	default:
		return t.In(now.Location()).Format(time.DateOnly)
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}
