package jobrunner

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/connctl/connctl/internal/atomicfile"
	"github.com/connctl/connctl/internal/staletemp"
)

// Destination receives a run's records. Nothing it writes counts until
// Commit; Abort discards what Commit has not made visible. Abort after
// Commit, or twice, does nothing.
type Destination interface {
	Write(Record) error
	Commit() error
	Abort()
}

// The output formats.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// bufferSize is the write buffer of a destination: a 1,000,000-record run
// writes about 200 MB, in a few thousand writes.
const bufferSize = 256 << 10

// writebackChunk is how much a file destination writes before it asks the
// kernel to start writing it to disk (startWriteback): without it, Commit's
// fsync waited for all of a large output at once (about a second for
// 200 MB on the reference machine).
const writebackChunk = 8 << 20

// writeBehind passes writes to f and starts the writeback of each
// writebackChunk written.
type writeBehind struct {
	f               *os.File
	written, kicked int64
}

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.kicked >= writebackChunk {
		startWriteback(w.f, w.kicked, w.written-w.kicked)
		w.kicked = w.written
	}
	return n, err
}

// NewFileDestination writes to path atomically: records go, through a
// buffer, to a temp file in the same folder; Commit flushes, fsyncs and
// renames it over path (then fsyncs the folder), Abort removes it. The old
// file at path is untouched until Commit. The file is 0600; a missing parent
// folder is created 0700. format is "ndjson" or "csv"; columns is the CSV
// header (nil: the first record's keys, sorted).
func NewFileDestination(path, format string, columns []string) (Destination, error) {
	if err := checkFormat(format); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// A temp file untouched for a day was left by a run that died (kill -9,
	// power loss): a live run writes far more often than that.
	staletemp.Remove(dir, "."+filepath.Base(path)+".tmp-*", 24*time.Hour, time.Now())
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	d := &fileDest{path: path, f: f}
	d.buf = bufio.NewWriterSize(&writeBehind{f: f}, bufferSize)
	d.enc = newEncoder(d.buf, format, columns)
	return d, nil
}

type fileDest struct {
	path string
	f    *os.File
	buf  *bufio.Writer
	enc  encoder
	done bool
}

func (d *fileDest) Write(r Record) error {
	if d.done {
		return errors.New("destination already closed")
	}
	return d.enc.write(r)
}

func (d *fileDest) writesLines() bool { return d.enc.lines() }

func (d *fileDest) writeLine(line []byte) error {
	if d.done {
		return errors.New("destination already closed")
	}
	_, err := d.buf.Write(line)
	return err
}

func (d *fileDest) Commit() error {
	if d.done {
		return errors.New("destination already closed")
	}
	err := d.enc.finish()
	if err == nil {
		err = d.buf.Flush()
	}
	if err == nil {
		err = d.f.Sync()
	}
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(d.f.Name(), d.path)
	}
	if err != nil {
		os.Remove(d.f.Name())
		d.done = true
		return err
	}
	d.done = true
	_ = atomicfile.SyncDir(filepath.Dir(d.path)) // best effort: the output is renamed into place either way
	return nil
}

func (d *fileDest) Abort() {
	if d.done {
		return
	}
	d.done = true
	d.f.Close()
	os.Remove(d.f.Name())
}

// NewStreamDestination writes to w (stdout, for pipelines) through a buffer:
// Commit flushes it; Abort drops what is still buffered and writes nothing
// more. What was already flushed stays written: a stream cannot be taken
// back. An unknown format makes every Write fail.
func NewStreamDestination(w io.Writer, format string, columns []string) Destination {
	d := &streamDest{buf: bufio.NewWriterSize(w, bufferSize)}
	if err := checkFormat(format); err != nil {
		d.err = err
		return d
	}
	d.enc = newEncoder(d.buf, format, columns)
	return d
}

type streamDest struct {
	buf  *bufio.Writer
	enc  encoder
	err  error
	done bool
}

func (d *streamDest) Write(r Record) error {
	if d.err != nil {
		return d.err
	}
	if d.done {
		return errors.New("destination already closed")
	}
	return d.enc.write(r)
}

func (d *streamDest) writesLines() bool { return d.err == nil && d.enc.lines() }

func (d *streamDest) writeLine(line []byte) error {
	if d.err != nil {
		return d.err
	}
	if d.done {
		return errors.New("destination already closed")
	}
	_, err := d.buf.Write(line)
	return err
}

func (d *streamDest) Commit() error {
	if d.err != nil {
		return d.err
	}
	if d.done {
		return errors.New("destination already closed")
	}
	d.done = true
	if err := d.enc.finish(); err != nil {
		return err
	}
	return d.buf.Flush()
}

func (d *streamDest) Abort() {
	if !d.done {
		d.done = true
		d.buf.Reset(io.Discard)
	}
}

func checkFormat(format string) error {
	switch format {
	case FormatNDJSON, FormatCSV:
		return nil
	}
	return fmt.Errorf("unknown format %q (want ndjson or csv)", format)
}

type encoder interface {
	write(Record) error
	finish() error
	lines() bool // writes each record as the line DecodePage makes of it
}

// lineWriter is a Destination that can take a record as the NDJSON line
// DecodePage made of it (RawRecord.Line), written as it is: Run hands such
// lines over without decoding them (Request.Emit).
type lineWriter interface {
	writesLines() bool
	writeLine(line []byte) error
}

func newEncoder(w *bufio.Writer, format string, columns []string) encoder {
	if format == FormatCSV {
		return &csvEncoder{w: csv.NewWriter(w), columns: columns}
	}
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return &ndjsonEncoder{enc: e}
}

// ndjsonEncoder writes one compact JSON object per line.
type ndjsonEncoder struct{ enc *json.Encoder }

func (e *ndjsonEncoder) write(r Record) error { return e.enc.Encode(r) }
func (e *ndjsonEncoder) finish() error        { return nil }
func (e *ndjsonEncoder) lines() bool          { return true }

// csvEncoder writes a header, then one row per record in column order.
// Strings are written as they are, null as an empty cell, numbers and
// booleans as in JSON, nested objects and arrays as compact JSON. A key that
// is not a column is left out.
type csvEncoder struct {
	w       *csv.Writer
	columns []string
	header  bool
	row     []string
	scratch bytes.Buffer
}

func (e *csvEncoder) writeHeader(r Record) error {
	if e.columns == nil {
		e.columns = make([]string, 0, len(r))
		for k := range r {
			e.columns = append(e.columns, k)
		}
		slices.Sort(e.columns)
	}
	e.header = true
	e.row = make([]string, len(e.columns))
	return e.w.Write(e.columns)
}

func (e *csvEncoder) write(r Record) error {
	if !e.header {
		if err := e.writeHeader(r); err != nil {
			return err
		}
	}
	for i, c := range e.columns {
		s, err := e.cell(r[c])
		if err != nil {
			return fmt.Errorf("column %s: %w", c, err)
		}
		e.row[i] = s
	}
	if err := e.w.Write(e.row); err != nil {
		return err
	}
	// csv.Writer buffers into our bufio.Writer; surface its error early.
	return e.w.Error()
}

func (e *csvEncoder) lines() bool { return false }

func (e *csvEncoder) finish() error {
	if !e.header && e.columns != nil {
		if err := e.writeHeader(nil); err != nil {
			return err
		}
	}
	e.w.Flush()
	return e.w.Error()
}

func (e *csvEncoder) cell(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	}
	e.scratch.Reset()
	enc := json.NewEncoder(&e.scratch)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimRight(e.scratch.Bytes(), "\n")), nil
}
