package jsonexport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/connctl/connctl/internal/textsafe"
)

// ArrayStream writes a JSON array one element at a time, so that a command
// listing many items holds one item's view, not the whole output (issue
// #17). Its bytes are exactly Write's for the slice of the same elements
// with -o json: the two-space indent, the field order, the escaping
// (textsafe.JSON included), "[]" for no element and the trailing newline.
//
// An element that cannot be encoded fails the stream after the elements
// before it were written: callers give it values that always encode (the
// views of stored records; times of the stored years 0-9999).
type ArrayStream struct {
	w   *bufio.Writer
	n   int
	buf bytes.Buffer
	enc *json.Encoder
	err error
}

// StreamArray returns the ArrayStream writing to w when e writes plain JSON
// (-o json without --jq), or nil, false for every other format and for
// --jq, which needs the whole value: then the caller builds the slice and
// calls e.Write.
func StreamArray(e Exporter, w io.Writer) (*ArrayStream, bool) {
	x, ok := e.(*Export)
	if !ok || x.format != JSON || x.code != nil {
		return nil, false
	}
	return NewArrayStream(w), true
}

// NewArrayStream returns an ArrayStream writing to w; Close ends the array.
func NewArrayStream(w io.Writer) *ArrayStream {
	s := &ArrayStream{w: bufio.NewWriterSize(w, 64<<10)}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	// An element of an indented array: its lines after the first are
	// indented one level more, as encoding/json indents them in place.
	s.enc.SetIndent("  ", "  ")
	return s
}

// Add writes v as the next element of the array.
func (s *ArrayStream) Add(v any) error {
	if s.err != nil {
		return s.err
	}
	s.buf.Reset()
	if err := s.enc.Encode(v); err != nil {
		s.err = fmt.Errorf("encode json: %w", err)
		return s.err
	}
	if s.n == 0 {
		s.w.WriteString("[\n  ")
	} else {
		s.w.WriteString(",\n  ")
	}
	s.n++
	_, s.err = s.w.Write(textsafe.JSON(bytes.TrimSuffix(s.buf.Bytes(), []byte("\n"))))
	return s.err
}

// Close ends the array ("[]" when no element was added) and flushes it.
func (s *ArrayStream) Close() error {
	if s.err != nil {
		return s.err
	}
	if s.n == 0 {
		s.w.WriteString("[]\n")
	} else {
		s.w.WriteString("\n]\n")
	}
	s.err = s.w.Flush()
	return s.err
}

// WriteList writes items as e.Write does, but element by element when e
// writes plain JSON (StreamArray), so that the output is not held whole
// next to the items: for commands listing many items from a slice (jobs
// list, activities).
func WriteList[T any](e Exporter, w io.Writer, items []T) error {
	st, ok := StreamArray(e, w)
	if !ok {
		return e.Write(w, items)
	}
	for i := range items {
		if err := st.Add(items[i]); err != nil {
			return err
		}
	}
	return st.Close()
}
