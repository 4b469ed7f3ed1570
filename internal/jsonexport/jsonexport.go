// Package jsonexport writes command data in the machine formats scripts ask
// for with -o/--output (json, yaml, csv, tsv) and filters JSON with --jq. The
// output is the same whether or not stdout is a terminal: no colour, lists are
// always arrays ("[]" when empty) and field names are the stable JSON names
// each command lists in its help.
//
// jsonexport never decides what a command shows; the table layout (the
// default, -o table) belongs to the command and internal/tableprint.
package jsonexport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/textsafe"
)

// Format is an output format name as given to -o/--output.
type Format string

// The output formats. Table is the default and is printed by the command itself.
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
	CSV   Format = "csv"
	TSV   Format = "tsv"
)

// formats lists every format in the order help and completion show them.
var formats = []Format{Table, JSON, YAML, CSV, TSV}

// Formats returns every format name, in the order help and completion show them.
func Formats() []Format { return slices.Clone(formats) }

// formatDesc are the completion descriptions.
var formatDesc = map[Format]string{
	Table: "aligned columns on a terminal, tab-separated when piped",
	JSON:  "indented JSON; lists are arrays",
	YAML:  "YAML with the JSON field names",
	CSV:   "comma-separated values with a header row",
	TSV:   `tab-separated values with a header row; \t \n \\ escaped`,
}

// Exporter writes data in a machine format. data is what a command would
// otherwise print as a table: usually a slice of structs with json tags.
type Exporter interface {
	Write(w io.Writer, data any) error
}

// Export is the Exporter that New and AddFlags build. Its accessors let flag
// tests check what was parsed.
type Export struct {
	format Format
	query  string
	code   *gojq.Code
	fields []string
	// ctx is the command's context (set by AddFlags): a --jq query stops
	// when it is done, so Ctrl-C ends even a query that never would.
	ctx func() context.Context
}

// context returns the context a query runs under.
func (e *Export) context() context.Context {
	if e.ctx != nil {
		if ctx := e.ctx(); ctx != nil {
			return ctx
		}
	}
	return context.Background()
}

// Format reports the output format (JSON when only --jq was given).
func (e *Export) Format() Format { return e.format }

// Query reports the --jq expression, or "".
func (e *Export) Query() string { return e.query }

// New returns the exporter for format and the jq expression query ("" for
// none), or nil for Table without a query: the command prints its table.
// An empty format means "not given": Table, or JSON when there is a query.
// fields are the JSON field names, in the order CSV and TSV columns follow.
// An unknown format, a jq expression that does not parse or compile, and
// --jq with a format other than json are usage errors (exit 2).
func New(format Format, query string, fields []string) (Exporter, error) {
	return newWith(format, query, fields, nil)
}

// newWith is New that also accepts the command's own formats (extra).
func newWith(format Format, query string, fields []string, extra []Format) (Exporter, error) {
	if format != "" && !slices.Contains(formats, format) && !slices.Contains(extra, format) {
		return nil, exitcode.UsageError("unknown output format %q (want %s)", format, formatList(", ", extra...))
	}
	if query == "" {
		if format == "" || format == Table {
			return nil, nil
		}
		return &Export{format: format, fields: fields}, nil
	}
	if format != "" && format != JSON {
		return nil, exitcode.UsageError("--jq works on JSON output and cannot be combined with -o %s", format)
	}
	q, err := gojq.Parse(query)
	if err != nil {
		return nil, exitcode.UsageError("invalid jq expression: %v", err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, exitcode.UsageError("invalid jq expression: %v", err)
	}
	return &Export{format: JSON, query: query, code: code, fields: fields}, nil
}

func formatList(sep string, extra ...Format) string {
	names := make([]string, 0, len(formats)+len(extra))
	for _, f := range append(slices.Clone(formats), extra...) {
		names = append(names, string(f))
	}
	return strings.Join(names, sep)
}

// FormatOf is the format e writes: "" for the table (e is nil), else its
// -o format, so that a command finds its own (AddFlagsWith).
func FormatOf(e Exporter) Format {
	if x, ok := e.(*Export); ok {
		return x.format
	}
	return ""
}

// Write writes data to w in the exporter's format. Nothing is written when
// data cannot be converted, so stdout never holds half a document.
func (e *Export) Write(w io.Writer, data any) error {
	data = emptyIfNil(data)
	var (
		b   []byte
		err error
	)
	switch {
	case e.code != nil:
		b, err = e.runJQ(data)
	case e.format == JSON:
		b, err = marshalIndent(data)
	case e.format == YAML:
		b, err = marshalYAML(data)
	case e.format == CSV:
		b, err = marshalCSV(data, e.fields)
	case e.format == TSV:
		b, err = marshalTSV(data, e.fields)
	default:
		err = fmt.Errorf("jsonexport: format %q has no exporter", e.format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// emptyIfNil turns a nil slice into an empty one so that JSON shows [] and not null.
func emptyIfNil(data any) any {
	v := reflect.ValueOf(data)
	if v.Kind() == reflect.Slice && v.IsNil() {
		return reflect.MakeSlice(v.Type(), 0, 0).Interface()
	}
	return data
}

// marshalIndent is encoding/json with two-space indent, a trailing newline
// and no HTML escaping ("<" stays "<": this is a terminal, not a web page),
// but with the controls encoding/json leaves raw (C1, bidi overrides)
// escaped as \uXXXX (textsafe.JSON).
func marshalIndent(data any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(data); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return textsafe.JSON(b.Bytes()), nil
}

// marshalCompact is one line of JSON without the trailing newline.
func marshalCompact(data any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return textsafe.JSON(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}

// runJQ runs the query over data as JSON, printing each result as jq -r
// (and gh --jq) does: strings raw, anything else as compact JSON, one per line.
func (e *Export) runJQ(data any) ([]byte, error) {
	raw, err := marshalCompact(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep large IDs exact
	var input any
	if err := dec.Decode(&input); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	var out bytes.Buffer
	ctx := e.context()
	iter := e.code.RunWithContext(ctx, input)
	for {
		v, ok := iter.Next()
		if !ok {
			break
		}
		if err, isErr := v.(error); isErr {
			// halt stops without an error; halt_error is an error.
			if h := (*gojq.HaltError)(nil); errors.As(err, &h) && h.Value() == nil {
				break
			}
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil, fmt.Errorf("jq stopped: %w", err)
			}
			return nil, fmt.Errorf("jq: %w", err)
		}
		if s, isString := v.(string); isString {
			// Raw strings are text on the terminal, not JSON: controls
			// are shown escaped, tabs and newlines (@tsv, "\n") kept.
			out.WriteString(textsafe.SanitizeLayout(s))
		} else {
			b, err := gojq.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("jq: %w", err)
			}
			out.Write(textsafe.JSON(b))
		}
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// WriteError writes a failure as one line of JSON, for -o json runs that fail:
// {"error":{"code":4,"message":"…"}}. It goes to stderr, so a failed write is ignored.
func WriteError(w io.Writer, code int, msg string) {
	type detail struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	b, err := marshalCompact(struct {
		Error detail `json:"error"`
	}{detail{code, msg}})
	if err != nil {
		return
	}
	_, _ = w.Write(append(b, '\n'))
}
