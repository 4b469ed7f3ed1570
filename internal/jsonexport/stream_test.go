package jsonexport

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

// hostileConns are elements whose JSON is escaped every way Write escapes:
// quotes and backslashes, controls, HTML kept raw, C1 controls, bidi
// overrides, DEL, invalid UTF-8, U+2028, nested empty and nil values.
func hostileConns() []conn {
	c := sampleConns()
	far := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -(23*3600+59*60)))
	return append(c,
		conn{Name: "\"quoted\" \\ back\x00nul\x1b[31mred", Connector: "<script>&amp;</script>", Scopes: []string{}},
		conn{Name: "c1\u0085\u009b[2J bidi\u202e\u2066 del\x7f ls\u2028ps\u2029", Labels: map[string]string{"": "", "\xff\xfe": "bad utf-8 \xc3"}},
		conn{Name: "emoji 🙂 and ünïcode", ExpiresAt: &far, Pages: math.MinInt64, Ratio: 1e-9, Note: strings.Repeat("x", 70000)},
		conn{},
	)
}

// TestArrayStreamMatchesWrite: the stream writes, byte for byte, what
// Write writes for the whole slice with -o json, for no element, one, the
// samples and hostile strings, and for every prefix of them (--limit).
func TestArrayStreamMatchesWrite(t *testing.T) {
	t.Parallel()
	exp := mustNew(t, JSON, "")
	all := hostileConns()
	cases := [][]conn{nil, {}}
	for n := 1; n <= len(all); n++ {
		cases = append(cases, all[:n], all[len(all)-n:])
	}
	for _, elems := range cases {
		want := write(t, exp, elems)
		var got bytes.Buffer
		s, ok := StreamArray(exp, &got)
		if !ok {
			t.Fatal("StreamArray: plain -o json does not stream")
		}
		for i := range elems {
			if err := s.Add(elems[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Errorf("%d elements:\ngot  %q\nwant %q", len(elems), got.String(), want)
		}
	}
	// Values of other shapes, element by element.
	for _, elems := range [][]any{{nil}, {1, "two", []int{}, map[string]any{}, []any{nil, map[string]int{"a": 1}}}, {struct{}{}}} {
		want := write(t, exp, elems)
		var got bytes.Buffer
		s := NewArrayStream(&got)
		for _, v := range elems {
			_ = s.Add(v)
		}
		if err := s.Close(); err != nil || got.String() != want {
			t.Errorf("%v: got %q (%v), want %q", elems, got.String(), err, want)
		}
	}
}

// TestWriteListMatchesWrite: WriteList writes what Write writes, in every
// format (streamed for plain JSON).
func TestWriteListMatchesWrite(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{JSON, YAML, CSV, TSV} {
		for _, q := range []string{"", ".[] | .name"} {
			if q != "" && f != JSON {
				continue
			}
			exp := mustNew(t, f, q)
			for _, elems := range [][]conn{nil, {}, hostileConns()[:3]} {
				want := write(t, exp, elems)
				var got bytes.Buffer
				if err := WriteList(exp, &got, elems); err != nil || got.String() != want {
					t.Errorf("%s %q: got %q (%v), want %q", f, q, got.String(), err, want)
				}
			}
		}
	}
}

// TestStreamArrayOnlyPlainJSON: --jq and the other formats need the whole
// value, so they never stream.
func TestStreamArrayOnlyPlainJSON(t *testing.T) {
	t.Parallel()
	for _, e := range []Exporter{mustNew(t, JSON, ".[]"), mustNew(t, YAML, ""), mustNew(t, CSV, ""), mustNew(t, TSV, ""), nil} {
		if _, ok := StreamArray(e, &bytes.Buffer{}); ok {
			t.Errorf("%v streams", FormatOf(e))
		}
	}
}

// TestArrayStreamErrors: an element that cannot be encoded and a failing
// writer are errors, from that call on.
func TestArrayStreamErrors(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	s := NewArrayStream(&b)
	if err := s.Add(math.NaN()); err == nil || !strings.Contains(err.Error(), "encode json") {
		t.Errorf("Add(NaN) = %v", err)
	}
	if err := s.Close(); err == nil {
		t.Error("Close after a failed Add succeeded")
	}
	s = NewArrayStream(failWriter{})
	_ = s.Add(strings.Repeat("x", 1<<17)) // more than the buffer
	if err := s.Close(); err == nil {
		t.Error("a failing writer: Close succeeded")
	}
	s = NewArrayStream(failWriter{})
	if err := s.Close(); err == nil {
		t.Error("a failing writer: Close of an empty array succeeded")
	}
}
