package jsonexport

import (
	"bytes"
	"encoding"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/textsafe"
)

// marshalCSV writes a header row of field names, then one record per element.
func marshalCSV(data any, fields []string) ([]byte, error) {
	header, rows, err := records(data, fields)
	if err != nil {
		return nil, err
	}
	// CSV quotes line breaks, but every other terminal control would reach
	// the terminal raw: show them escaped (package textsafe).
	for _, r := range rows {
		for i, v := range r {
			r[i] = textsafe.SanitizeLayout(v)
		}
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	if err := cw.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("encode csv: %w", err)
	}
	return b.Bytes(), nil
}

// tsvEscaper keeps each value on one line and in one field; the backslash is
// escaped too so that the escapes can be undone.
var tsvEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// marshalTSV writes a header row of field names, then one line per element,
// values separated by tabs with \t, \n, \r and \\ escaped.
func marshalTSV(data any, fields []string) ([]byte, error) {
	header, rows, err := records(data, fields)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, r := range append([][]string{header}, rows...) {
		for i, v := range r {
			if i > 0 {
				b.WriteByte('\t')
			}
			// Escaped first, so that only the controls the escapes do
			// not cover are left for textsafe to show.
			b.WriteString(textsafe.Sanitize(tsvEscaper.Replace(v)))
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// records turns data (a slice or array of structs, struct pointers or maps
// with string keys; a single struct or map is one record) into a header and
// string records. Columns are fields, in order; with no fields they are the
// struct's JSON fields in declaration order, or the union of map keys sorted.
func records(data any, fields []string) ([]string, [][]string, error) {
	v := indirect(reflect.ValueOf(data))
	var elems []reflect.Value
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			elems = append(elems, v.Index(i))
		}
	case reflect.Struct, reflect.Map:
		elems = []reflect.Value{v}
	case reflect.Invalid:
	default:
		return nil, nil, fmt.Errorf("jsonexport: csv and tsv need a list of objects, got %s", v.Type())
	}
	if len(fields) == 0 {
		fields = discoverFields(v, elems)
	}
	rows := make([][]string, 0, len(elems))
	for _, e := range elems {
		row, err := record(e, fields)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row)
	}
	return fields, rows, nil
}

// discoverFields finds columns when the command gave none.
func discoverFields(container reflect.Value, elems []reflect.Value) []string {
	if container.Kind() == reflect.Slice || container.Kind() == reflect.Array {
		et := container.Type().Elem()
		for et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		if et.Kind() == reflect.Struct {
			return structFields(et).names
		}
	}
	var keys []string
	for _, e := range elems {
		e = indirect(e)
		switch e.Kind() {
		case reflect.Struct:
			return structFields(e.Type()).names
		case reflect.Map:
			for _, k := range e.MapKeys() {
				if k.Kind() == reflect.String && !slices.Contains(keys, k.String()) {
					keys = append(keys, k.String())
				}
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// record stringifies one element's fields.
func record(e reflect.Value, fields []string) ([]string, error) {
	e = indirect(e)
	row := make([]string, len(fields))
	switch e.Kind() {
	case reflect.Invalid: // a nil element is a row of empty cells
	case reflect.Struct:
		sf := structFields(e.Type())
		for i, name := range fields {
			idx, ok := sf.index[name]
			if !ok {
				return nil, fmt.Errorf("jsonexport: %s has no json field %q", e.Type(), name)
			}
			f, ok := fieldByIndex(e, idx)
			if !ok {
				continue // inside a nil embedded pointer
			}
			s, err := stringify(f)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			row[i] = s
		}
	case reflect.Map:
		if e.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("jsonexport: csv and tsv need string map keys, got %s", e.Type())
		}
		for i, name := range fields {
			f := e.MapIndex(reflect.ValueOf(name).Convert(e.Type().Key()))
			s, err := stringify(f)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			row[i] = s
		}
	default:
		return nil, fmt.Errorf("jsonexport: csv and tsv need a list of objects, got an element of type %s", e.Type())
	}
	return row, nil
}

// indirect follows pointers and interfaces; a nil one gives the invalid Value.
func indirect(v reflect.Value) reflect.Value {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 {
			v = indirect(v)
			if !v.IsValid() {
				return v, false
			}
		}
		v = v.Field(x)
	}
	return v, true
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// stringify renders one value for a CSV or TSV cell: nil is empty, times are
// RFC 3339 in UTC (the zero time is empty), strings, numbers and booleans are
// plain, a value that marshals to a JSON string is that string, and anything
// nested is compact JSON.
func stringify(v reflect.Value) (string, error) {
	if !v.IsValid() {
		return "", nil
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return "", nil
	}
	if v.Kind() == reflect.Interface {
		return stringify(v.Elem())
	}
	if v.Kind() == reflect.Pointer && v.Type().Elem() == timeType {
		v = v.Elem()
	}
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return "", nil
		}
		return t.UTC().Format(time.RFC3339), nil
	}
	if implementsMarshaler(v.Type()) {
		// Like encoding/json, use pointer-receiver methods only when addressable.
		if v.CanAddr() {
			return jsonCell(v.Addr().Interface())
		}
		return jsonCell(v.Interface())
	}
	switch v.Kind() {
	case reflect.Pointer:
		return stringify(v.Elem())
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, v.Type().Bits()), nil
	case reflect.Map, reflect.Slice:
		if v.IsNil() {
			return "", nil
		}
	}
	return jsonCell(v.Interface())
}

func implementsMarshaler(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)
}

// jsonCell is the value's JSON, unquoted when it is a JSON string, empty when null.
func jsonCell(x any) (string, error) {
	b, err := marshalCompact(x)
	if err != nil {
		return "", err
	}
	switch {
	case string(b) == "null":
		return "", nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	return string(b), nil
}
