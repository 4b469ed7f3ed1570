package tableprint

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/connctl/connctl/internal/iostreams"
)

type row []string

func render(t *testing.T, tty bool, width int, headers []string, rows ...row) string {
	t.Helper()
	var b bytes.Buffer
	tbl := New(&b, tty, width, headers...)
	for _, r := range rows {
		tbl.Row(r...)
	}
	if err := tbl.Render(); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b.String()
}

var connHeaders = []string{"Name", "Connector", "Auth", "Updated"}

var connRows = []row{
	{"crm-prod", "salesforce", "authorized", "3h ago"},
	{"support", "freshdesk", "expired", "2d ago"},
	{"x", "", "none", ""},
}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tty     bool
		width   int
		headers []string
		rows    []row
		want    string
	}{
		{
			name:    "tty",
			tty:     true,
			width:   80,
			headers: connHeaders,
			rows:    connRows,
			want: `NAME      CONNECTOR   AUTH        UPDATED
crm-prod  salesforce  authorized  3h ago
support   freshdesk   expired     2d ago
x                     none
`,
		},
		{
			name:    "tty no width limit",
			tty:     true,
			width:   0,
			headers: connHeaders,
			rows:    connRows,
			want: `NAME      CONNECTOR   AUTH        UPDATED
crm-prod  salesforce  authorized  3h ago
support   freshdesk   expired     2d ago
x                     none
`,
		},
		{
			name:    "pipe",
			tty:     false,
			width:   80,
			headers: connHeaders,
			rows:    connRows,
			want: "crm-prod\tsalesforce\tauthorized\t3h ago\n" +
				"support\tfreshdesk\texpired\t2d ago\n" +
				"x\t\tnone\t\n",
		},
		{
			name:    "tty header only",
			tty:     true,
			width:   80,
			headers: []string{"name", "state"},
			want: `NAME  STATE
`,
		},
		{
			name:    "pipe no rows",
			tty:     false,
			headers: []string{"name", "state"},
			want:    "",
		},
		{
			name:    "tty tabs and newlines flattened",
			tty:     true,
			width:   80,
			headers: []string{"name", "note"},
			rows:    []row{{"a\tb", "line1\nline2\r\nline3"}, {"  padded  ", "x\n"}},
			want: `NAME    NOTE
a b     line1 line2  line3
padded  x
`,
		},
		{
			name:    "pipe tabs and newlines flattened",
			tty:     false,
			headers: []string{"name", "note"},
			rows:    []row{{"a\tb", "line1\nline2"}},
			want:    "a b\tline1 line2\n",
		},
		{
			name:    "pipe strips colour",
			tty:     false,
			headers: []string{"name", "auth"},
			rows:    []row{{"crm", "\x1b[32mauthorized\x1b[0m"}},
			want:    "crm\tauthorized\n",
		},
		{
			name:    "tty keeps colour and aligns on visible width",
			tty:     true,
			width:   80,
			headers: []string{"auth", "name"},
			rows:    []row{{"\x1b[32mok\x1b[0m", "crm"}, {"expired", "b"}},
			// The reset tablewriter repeats after a coloured cell's padding is dropped.
			want: "AUTH     NAME\n" +
				"\x1b[32mok\x1b[0m       crm\n" +
				"expired  b\n",
		},
		{
			name:    "short and long rows",
			tty:     false,
			headers: []string{"a", "b", "c"},
			rows:    []row{{"1"}, {"1", "2", "3", "4"}},
			want:    "1\t\t\n1\t2\t3\n",
		},
		{
			name:  "pipe without headers",
			tty:   false,
			rows:  []row{{"1", "2"}, {"3"}},
			want:  "1\t2\n3\t\n",
			width: 5,
		},
		{
			name:    "pipe never truncates",
			tty:     false,
			width:   10,
			headers: []string{"name", "description"},
			rows:    []row{{"crm-prod", "a very long description that goes on"}},
			want:    "crm-prod\ta very long description that goes on\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := render(t, tt.tty, tt.width, tt.headers, tt.rows...)
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s\n(got %q)", got, tt.want, got)
			}
		})
	}
}

func TestRenderTruncation(t *testing.T) {
	t.Parallel()
	headers := []string{"name", "connector", "description"}
	rows := []row{
		{"crm-prod", "salesforce", "Production CRM used by the sales team for pipeline reports"},
		{"support", "freshdesk", "Tickets"},
	}
	tests := []struct {
		name  string
		width int
		want  string
	}{
		{
			// Only the long description shrinks; NAME and CONNECTOR keep their width.
			name:  "long column shrinks first",
			width: 40,
			want: `NAME      CONNECTOR   DESCRIPTION
crm-prod  salesforce  Production CRM us…
support   freshdesk   Tickets
`,
		},
		{
			// NAME is never cut (an identifier must stay typeable); the
			// other two share the 20-8-4 = 8 cells left.
			name:  "several columns shrink",
			width: 20,
			want: `NAME      CON…  DES…
crm-prod  sal…  Pro…
support   fre…  Tic…
`,
		},
		{
			name:  "exact fit",
			width: 8 + 2 + 10 + 2 + 58,
			want: `NAME      CONNECTOR   DESCRIPTION
crm-prod  salesforce  Production CRM used by the sales team for pipeline reports
support   freshdesk   Tickets
`,
		},
		{
			name:  "one cell short",
			width: 8 + 2 + 10 + 2 + 57,
			want: `NAME      CONNECTOR   DESCRIPTION
crm-prod  salesforce  Production CRM used by the sales team for pipeline repor…
support   freshdesk   Tickets
`,
		},
		{
			// Narrower than one cell per column: NAME stays whole and the
			// others keep one cell each (the line overflows).
			name:  "absurdly narrow",
			width: 3,
			want: `NAME      …  …
crm-prod  …  …
support   …  …
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := render(t, true, tt.width, headers, rows...)
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if tt.width >= 3*len(headers) {
				for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
					if w := twwidth.Width(l); w > tt.width {
						t.Errorf("line %q is %d cells wide, limit %d", l, w, tt.width)
					}
				}
			}
		})
	}
}

func TestRenderUnicodeWidths(t *testing.T) {
	t.Parallel()
	headers := []string{"name", "owner"}
	rows := []row{
		{"日本語の接続", "東京"},
		{"crm", "Zoë"},
		{"emoji🙂", "x"},
	}
	t.Run("aligned", func(t *testing.T) {
		t.Parallel()
		got := render(t, true, 80, headers, rows...)
		want := `NAME          OWNER
日本語の接続  東京
crm           Zoë
emoji🙂       x
`
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("truncated by display width", func(t *testing.T) {
		t.Parallel()
		// 12 cells: NAME (12 wide) is never cut, so OWNER is left one
		// cell and the line overflows.
		got := render(t, true, 12, headers, rows...)
		want := `NAME          …
日本語の接続  …
crm           …
emoji🙂       x
`
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
}

func TestNewIO(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{true, false} {
		ios, _, out, _ := iostreams.Test()
		ios.SetTTY(false, tty, false)
		tbl := NewIO(ios, "name", "state")
		if tbl.IsTTY() != tty {
			t.Errorf("IsTTY() = %v, want %v", tbl.IsTTY(), tty)
		}
		tbl.Row("crm", "ok")
		if err := tbl.Render(); err != nil {
			t.Fatal(err)
		}
		want := "crm\tok\n"
		if tty {
			want = "NAME  STATE\ncrm   ok\n"
		}
		if out.String() != want {
			t.Errorf("tty=%v: got %q, want %q", tty, out.String(), want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{true, false} {
		tbl := New(failWriter{}, tty, 80, "a")
		tbl.Row("1")
		if err := tbl.Render(); err == nil {
			t.Errorf("tty=%v: Render succeeded on a failing writer", tty)
		}
	}
}

func TestSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	when := time.Date(2026, 3, 10, 10, 30, 0, 0, time.FixedZone("CET", 3600))
	tty := New(nil, true, 0)
	pipe := New(nil, false, 0)
	if got := tty.Since(now, when); got != "2h ago" {
		t.Errorf("tty Since = %q", got)
	}
	if got := pipe.Since(now, when); got != "2026-03-10T09:30:00Z" {
		t.Errorf("pipe Since = %q", got)
	}
	if got := tty.Since(now, time.Time{}); got != "" {
		t.Errorf("tty Since(zero) = %q", got)
	}
	if got := pipe.Since(now, time.Time{}); got != "" {
		t.Errorf("pipe Since(zero) = %q", got)
	}
}

func TestRelativeTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "just now"},
		{59 * time.Second, "just now"},
		{-30 * time.Second, "just now"},
		{time.Minute, "1m ago"},
		{5*time.Minute + 59*time.Second, "5m ago"},
		{59 * time.Minute, "59m ago"},
		{time.Hour, "1h ago"},
		{3*time.Hour + 10*time.Minute, "3h ago"},
		{23 * time.Hour, "23h ago"},
		{24 * time.Hour, "1d ago"},
		{2*24*time.Hour + 5*time.Hour, "2d ago"},
		{29 * 24 * time.Hour, "29d ago"},
		{30 * 24 * time.Hour, "2026-02-08"},
		{400 * 24 * time.Hour, "2025-02-03"},
		{-5 * time.Minute, "in 5m"},
		{-3 * time.Hour, "in 3h"},
		{-2 * 24 * time.Hour, "in 2d"},
		{-60 * 24 * time.Hour, "2026-05-09"},
	}
	for _, tt := range tests {
		if got := RelativeTime(now, now.Add(-tt.ago)); got != tt.want {
			t.Errorf("RelativeTime(now, now-%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	// The date is in now's location, the one the user sees.
	tokyo := time.FixedZone("JST", 9*3600)
	if got := RelativeTime(now.In(tokyo), time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC)); got != "2026-01-02" {
		t.Errorf("date in now's location = %q, want 2026-01-02", got)
	}
}

func TestFit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		natural []int
		avail   int
		want    []int
	}{
		{[]int{4, 5, 6}, 20, []int{4, 5, 6}},
		{[]int{4, 5, 60}, 20, []int{4, 5, 11}},
		{[]int{4, 30, 60}, 20, []int{4, 8, 8}},
		{[]int{4, 30, 60}, 21, []int{4, 9, 8}},
		{[]int{10, 10, 10}, 3, []int{1, 1, 1}},
		{[]int{10, 0, 10}, 1, []int{1, 0, 1}},
	}
	for _, tt := range tests {
		got := fit(tt.natural, tt.avail)
		if !equalInts(got, tt.want) {
			t.Errorf("fit(%v, %d) = %v, want %v", tt.natural, tt.avail, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
