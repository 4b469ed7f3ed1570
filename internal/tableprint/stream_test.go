package tableprint

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// streamRows are rows of every kind a cell can be: plain, short and long
// rows, colour, hostile controls, tabs and line breaks, non-ASCII text.
var streamRows = [][]string{
	{"a", "s3", "authorized"},
	{"b"},
	{"c", "jira", "revoked", "dropped: beyond the headers"},
	{"\x1b[31mred\x1b[0m", "x\ty", "line\nbreak\r"},
	{"mallory\x1b]0;pwned\x07\x1b[2J\u202eevil\u009b31m", "\x1bc", "é 漢字 🙂"},
	{"", "", ""},
}

// A streaming table prints exactly what the same table prints without
// Stream, in both layouts, keeps no row when piped, and writes a piped
// row through the buffer more than 64 KiB of rows later at the latest.
func TestStreamSameOutput(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		var want, got bytes.Buffer
		plain := New(&want, tty, 80, "NAME", "CONNECTOR", "STATUS")
		streamed := New(&got, tty, 80, "NAME", "CONNECTOR", "STATUS")
		streamed.Stream()
		for _, r := range streamRows {
			plain.Row(r...)
			streamed.Row(r...)
		}
		if err := plain.Render(); err != nil {
			t.Fatal(err)
		}
		if !tty && len(streamed.rows) != 0 {
			t.Errorf("a piped streaming table kept %d rows", len(streamed.rows))
		}
		if err := streamed.Render(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("tty=%v: streamed\n%q\nwant\n%q", tty, got.String(), want.String())
		}
	}

	// Many rows: written as they come, in pieces, and the same bytes.
	var want, got bytes.Buffer
	plain := New(&want, false, 0, "NAME", "N")
	streamed := New(&got, false, 0, "NAME", "N")
	streamed.Stream()
	for i := range 20000 {
		plain.Row(fmt.Sprintf("conn-%06d", i), fmt.Sprint(i))
		streamed.Row(fmt.Sprintf("conn-%06d", i), fmt.Sprint(i))
	}
	if got.Len() == 0 {
		t.Error("nothing written before Render: the rows were kept")
	}
	if err := plain.Render(); err != nil {
		t.Fatal(err)
	}
	if err := streamed.Render(); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Error("20,000 streamed rows differ from the same rows rendered at once")
	}
}

// Without headers a streamed row keeps its own number of cells; an empty
// streaming table prints nothing.
func TestStreamNoHeaders(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	tbl := New(&b, false, 0)
	tbl.Stream()
	if err := tbl.Render(); err != nil || b.Len() != 0 {
		t.Fatalf("empty: %q, %v", b.String(), err)
	}
	tbl = New(&b, false, 0)
	tbl.Stream()
	tbl.Row("a", "b")
	tbl.Row("c")
	if err := tbl.Render(); err != nil {
		t.Fatal(err)
	}
	if b.String() != "a\tb\nc\n" {
		t.Errorf("got %q", b.String())
	}
}

// A write error while streaming is returned by Render.
func TestStreamWriteError(t *testing.T) {
	t.Parallel()
	tbl := New(failWriter{}, false, 0, "a")
	tbl.Stream()
	for i := range 10000 { // more than the buffer holds
		tbl.Row(strings.Repeat("x", 20), fmt.Sprint(i))
	}
	if err := tbl.Render(); err == nil {
		t.Error("Render succeeded on a failing writer")
	}
}

// BenchmarkPipe10k: 10,000 piped rows of six cells, as `connctl list`
// prints them, kept and rendered, and streamed.
func BenchmarkPipe10k(b *testing.B) {
	row := []string{"Conn-000001", "s3", "authorized", "arn:aws:iam::123456789012:user/etl", "2026-11-26T12:00:00Z", "0"}
	for _, stream := range []bool{false, true} {
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out bytes.Buffer
				t := New(&out, false, 0, "NAME", "CONNECTOR", "STATUS", "ACCOUNT", "CREATED", "FAILED 24H")
				if stream {
					t.Stream()
				}
				for range 10000 {
					t.Row(row...)
				}
				if err := t.Render(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
