// Package tableprint prints rows of text for people and for scripts: on a
// terminal an aligned, borderless table with an uppercase header, cut to the
// terminal width (never the first column or others kept whole: identifiers
// must stay typeable), optionally coloured; when piped, one tab-separated line per row with no header,
// no truncation and no colour, so column order is the contract.
//
// It is the only package that imports tablewriter (v1). tableprint knows
// nothing about connections or jobs: callers hand it strings.
package tableprint

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
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
	keep    map[int]bool
	color   bool
	colors  map[int]func(string) Color

	// out buffers piped rows; a streaming table (Stream) writes each row
	// into it as it is added.
	out    *bufio.Writer
	stream bool
}

// pipeBuffer is the size of the buffer piped rows are written through:
// one write system call per 64 KiB of rows, not one per row.
const pipeBuffer = 64 << 10

// Color is an ANSI SGR colour for a terminal cell.
type Color string

// Colours for cells; NoColor leaves a cell as it is.
const (
	NoColor Color = ""
	Green   Color = "32"
	Red     Color = "31"
	Yellow  Color = "33"
	Dim     Color = "2"
)

// Keep marks columns that are never truncated to fit the terminal, in
// addition to the first: a cut identifier ("jira2-issu…") cannot be typed
// back. The other columns shrink instead, or the line overflows.
func (t *Table) Keep(cols ...int) {
	if t.keep == nil {
		t.keep = map[int]bool{}
	}
	for _, c := range cols {
		t.keep[c] = true
	}
}

// StatusColor colours the status words connctl prints (of connections,
// job runs and activities): green for a good state, red for one that needs
// action, yellow for one that is pending or stopped. Other text is left as is.
func StatusColor(s string) Color {
	switch strings.ReplaceAll(s, " ", "_") {
	case "authorized", "succeeded":
		return Green
	case "needs_reauthorization", "failed":
		return Red
	case "not_authorized", "revoked", "running", "cancelled", "pending":
		return Yellow
	}
	return NoColor
}

// SetColor turns colour on or off (NewIO turns it on for a colour
// terminal: not when piped, not with NO_COLOR).
func (t *Table) SetColor(on bool) { t.color = on }

// ColorColumn colours the cells of column col in the terminal layout: fn
// maps a cell's text to its colour. The colour is added after the cell was
// cleaned and cut, so a cell's own text can never carry escape sequences.
func (t *Table) ColorColumn(col int, fn func(string) Color) {
	if t.colors == nil {
		t.colors = map[int]func(string) Color{}
	}
	t.colors[col] = fn
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
	t := New(s.Out, s.IsStdoutTTY(), s.TerminalWidth(), headers...)
	t.color = s.IsStdoutTTY() && s.ColorEnabled()
	return t
}

// IsTTY reports whether the table uses the terminal layout.
func (t *Table) IsTTY() bool { return t.tty }

// Stream makes a piped table write each row as it is added (through a
// 64 KiB buffer that Render flushes) instead of keeping every row until
// Render: a long listing then takes memory for one row, not for all. The
// output is the same as without Stream when the table has headers; without
// headers each row has its own number of cells (none is padded to the
// widest). On a terminal it changes nothing: aligning columns needs every
// row. Render must still be called, once, after the last row; it returns
// the first write error.
func (t *Table) Stream() {
	if !t.tty {
		t.stream = true
	}
}

// Row adds a row. Missing cells are empty; cells beyond the number of
// headers are dropped (when there are headers), so every line has the same
// number of fields.
func (t *Table) Row(cells ...string) {
	if t.stream {
		cols := len(t.headers)
		if cols == 0 {
			cols = len(cells)
		}
		t.writePipeRow(cells, cols)
		return
	}
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
	if t.stream {
		if t.out == nil {
			return nil
		}
		return t.out.Flush()
	}
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
	for _, r := range t.rows {
		t.writePipeRow(r, cols)
	}
	if t.out == nil {
		return nil
	}
	return t.out.Flush()
}

// writePipeRow writes r as one tab-separated line of cols cells into the
// table's buffer. A write error stays in the buffer (later writes do
// nothing) and is returned by the Flush in Render.
func (t *Table) writePipeRow(r []string, cols int) {
	if t.out == nil {
		t.out = bufio.NewWriterSize(t.w, pipeBuffer)
	}
	for i := range cols {
		if i > 0 {
			_ = t.out.WriteByte('\t')
		}
		if i < len(r) {
			_, _ = t.out.WriteString(pipeCell(r[i]))
		}
	}
	_ = t.out.WriteByte('\n')
}

// pipeCell strips colour and turns tabs and line breaks into spaces, so a
// cell can never split a field or a row; any other terminal control left is
// shown escaped (package textsafe), since piped output often ends up on a
// terminal after all. Every sequence the ansi expression matches starts
// with ESC, so it runs only on the rare cell that holds one.
func pipeCell(s string) string {
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = ansi.ReplaceAllLiteralString(s, "")
	}
	return textsafe.Sanitize(flatten(s))
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
		limits := t.fitKeeping(natural, t.width-len(gap)*(cols-1))
		truncate(header, limits)
		for _, r := range rows {
			truncate(r, limits)
		}
	}
	if t.color {
		for _, r := range rows {
			for i, c := range r {
				if fn := t.colors[i]; fn != nil && c != "" {
					if col := fn(c); col != NoColor {
						r[i] = "\x1b[" + string(col) + "m" + c + reset
					}
				}
			}
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
		out.WriteString(trimLine(strings.TrimSuffix(l, "\n")))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(t.w, out.String())
	return err
}

// reset ends a coloured cell.
const reset = "\x1b[0m"

// padReset is the reset tablewriter repeats after a coloured cell's padding.
var padReset = regexp.MustCompile(`(\x1b\[0m +)\x1b\[0m`)

// trimLine drops a line's trailing blanks, including those tablewriter
// pads after a coloured cell (it repeats the reset after the padding).
func trimLine(l string) string {
	if strings.Contains(l, reset) {
		l = padReset.ReplaceAllString(l, "$1")
	}
	t := strings.TrimRight(l, " ")
	if u, ok := strings.CutSuffix(t, reset); ok && strings.HasSuffix(u, " ") {
		t = strings.TrimRight(u, " ")
	}
	return t
}

// fitKeeping is fit for the columns that may shrink: the first column and
// those marked with Keep keep their natural width, and the rest share what
// remains (at least one cell each, so a narrow terminal overflows).
func (t *Table) fitKeeping(natural []int, avail int) []int {
	limits := append([]int(nil), natural...)
	var idx, rest []int
	for i, n := range natural {
		if i == 0 || t.keep[i] {
			avail -= n
			continue
		}
		idx = append(idx, i)
		rest = append(rest, n)
	}
	if len(rest) == 0 {
		return limits
	}
	for k, l := range fit(rest, max(avail, len(rest))) {
		limits[idx[k]] = l
	}
	return limits
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
