package jobrunner

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// RawRecord is one record of a page read by DecodePage: the line it is
// written as (NDJSON), and its top-level fields on demand, without
// decoding the whole record into a map.
type RawRecord struct {
	line    []byte   // compact JSON, object keys sorted, then '\n'
	members []member // top-level members of line, in key order (fast path)
	m       Record   // the decoded record (fallback path), when ok
	decoded bool
}

// member is one object member in a normalized line: the key's bytes
// (between the quotes, needing no unescaping) and the value's span.
type member struct {
	keyFrom, keyTo, valTo int32 // the value starts at keyTo+2 (after `":`)
}

// Line returns the record as one line of NDJSON, '\n' included: exactly
// what encoding/json (HTML escaping off) writes for the Record the
// provider's JSON decodes to. The caller must not change it.
func (r *RawRecord) Line() []byte { return r.line }

// Get returns the value of the record's top-level field name as it is in
// the decoded Record (string, json.Number, bool, nil, map[string]any or
// []any), and whether the record has it.
func (r *RawRecord) Get(name string) (any, bool) {
	if r.decoded {
		v, ok := r.m[name]
		return v, ok
	}
	for _, m := range r.members {
		if string(r.line[m.keyFrom:m.keyTo]) == name {
			return rawValue(r.line[m.keyTo+2 : m.valTo]), true
		}
	}
	return nil, false
}

// Raw returns the JSON of the record's top-level field name as the line
// writes it (no white space, object keys sorted, strings escaped as
// encoding/json escapes them), and whether the record has it: a field's
// identity without decoding it (a record id as a map key). It points into
// the record and is valid as long as the record is.
func (r *RawRecord) Raw(name string) ([]byte, bool) {
	if !r.decoded {
		for _, m := range r.members {
			if string(r.line[m.keyFrom:m.keyTo]) == name {
				return r.line[m.keyTo+2 : m.valTo], true
			}
		}
		return nil, false
	}
	v, ok := r.m[name]
	if !ok {
		return nil, false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return nil, false // unreachable: the line was encoded from it
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

// Lookup returns the value at path, a top-level field then fields of the
// objects within it (Lookup("properties", "hs_lastmodifieddate")), as the
// decoded Record holds it, and whether there is one: false when a field on
// the way is missing or not an object.
func (r *RawRecord) Lookup(path ...string) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	if r.decoded {
		v, ok := r.m[path[0]]
		for _, name := range path[1:] {
			m, isMap := v.(map[string]any)
			if !ok || !isMap {
				return nil, false
			}
			v, ok = m[name]
		}
		return v, ok
	}
	var v []byte
	for _, m := range r.members {
		if string(r.line[m.keyFrom:m.keyTo]) == path[0] {
			v = r.line[m.keyTo+2 : m.valTo]
			break
		}
	}
	for _, name := range path[1:] {
		if v = memberValue(v, name); v == nil {
			return nil, false
		}
	}
	if v == nil {
		return nil, false
	}
	return rawValue(v), true
}

// memberValue returns the value of key name in obj, a normalized object (keys
// need no unescaping), or nil when obj is not an object or lacks it.
func memberValue(obj []byte, name string) []byte {
	if len(obj) < 2 || obj[0] != '{' {
		return nil
	}
	i := 1
	for i < len(obj) && obj[i] == '"' {
		k := bytes.IndexByte(obj[i+1:], '"')
		key := obj[i+1 : i+1+k]
		from := i + 1 + k + 2 // after `":`
		to := skipValue(obj, from)
		if string(key) == name {
			return obj[from:to]
		}
		i = to + 1 // after the comma (or past the closing brace)
	}
	return nil
}

// skipValue returns the index after the normalized value at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// String returns the field name when it is a string, else "" and false.
func (r *RawRecord) String(name string) (string, bool) {
	if !r.decoded {
		for _, m := range r.members {
			if string(r.line[m.keyFrom:m.keyTo]) == name {
				v := r.line[m.keyTo+2 : m.valTo]
				if v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
					return string(v[1 : len(v)-1]), true
				}
				break
			}
		}
	}
	v, _ := r.Get(name)
	s, ok := v.(string)
	return s, ok
}

// Record returns the record decoded as a map (numbers as json.Number), as
// DecodeJSON would have returned it.
func (r *RawRecord) Record() (Record, error) {
	if r.decoded {
		return r.m, nil
	}
	return DecodeJSON[Record](r.line, "record")
}

// rawValue converts one normalized JSON value to what encoding/json
// decodes it to (UseNumber).
func rawValue(v []byte) any {
	switch v[0] {
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1])
		}
	case 'n':
		return nil
	case 't':
		return true
	case 'f':
		return false
	case '{', '[':
	default:
		return json.Number(v)
	}
	x, err := DecodeJSON[any](v, "value")
	if err != nil {
		return nil // unreachable: v was validated
	}
	return x
}

// A PageDecoder decodes the pages of a run one after another and reuses
// its memory from one page to the next: the records DecodePage returns
// through it are valid until its next use. The zero value is ready.
type PageDecoder struct {
	// Omit, when set, is a key left out of every object in every record,
	// at any depth, as if deleted from each decoded map (Salesforce's
	// "attributes"); records decoded the old way have it deleted too.
	Omit string

	n    normalizer
	recs []RawRecord
}

// DecodePage reads one page of records, body, as DecodeJSON[T] would, but
// without decoding each record into a map: records, when non-nil, points
// at T's field that holds the records (its JSON name is key), or is the
// identity when T is []Record and the page is the array itself (key "").
// It returns T without its records (decoded from the rest of the page)
// and the records, each as the line encoding/json would write for it.
// With d non-nil, the records are valid until d decodes another page;
// with d nil, DecodePage allocates afresh. The records are nil exactly when
// the old decode leaves the field nil (no such key, or null).
//
// The fast path walks the page once and normalizes each record's
// bytes: white space dropped, strings re-escaped as encoding/json escapes
// them, object keys sorted. Anything it does not handle exactly as
// encoding/json would (a duplicate key, invalid UTF-8, a record that is not
// an object, a key that needs escaping, a lone surrogate, deep nesting, a
// key that matches key only case-insensitively, any syntax error) makes it
// decode the whole page the old way instead, so output and errors are
// always today's: FuzzDecodePage holds the two to the same result.
func DecodePage[T any](d *PageDecoder, body []byte, what, key string, records func(*T) *[]Record) (T, []RawRecord, error) {
	if d == nil {
		d = new(PageDecoder)
	}
	if t, recs, ok := fastPage[T](d, body, what, key, records); ok {
		return t, recs, nil
	}
	t, err := DecodeJSON[T](body, what)
	if err != nil {
		return t, nil, err
	}
	rs := *records(&t)
	*records(&t) = nil
	if d.Omit != "" {
		for _, r := range rs {
			omit(r, d.Omit)
		}
	}
	out, err := RawRecords(rs)
	return t, out, err
}

// omit deletes key from every object in v, at any depth.
func omit(v any, key string) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, key)
		for _, f := range x {
			omit(f, key)
		}
	case []any:
		for _, e := range x {
			omit(e, key)
		}
	}
}

// RawRecords makes records decoded the old way into RawRecords (nil for
// nil), each with the line the NDJSON destination writes for it: for a
// source that decodes a page itself when SplitPage cannot.
func RawRecords(rs []Record) ([]RawRecord, error) {
	if rs == nil {
		return nil, nil
	}
	out := make([]RawRecord, len(rs))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, r := range rs {
		if err := enc.Encode(r); err != nil {
			return nil, errors.New("malformed JSON: " + err.Error())
		}
		out[i] = RawRecord{m: r, decoded: true}
	}
	b := buf.Bytes()
	for i := range out {
		n := bytes.IndexByte(b, '\n') + 1
		out[i].line = b[:n:n]
		b = b[n:]
	}
	return out, nil
}

// fastPage is DecodePage's fast path; ok false means "decode the old way".
func fastPage[T any](d *PageDecoder, body []byte, what, key string, records func(*T) *[]Record) (T, []RawRecord, bool) {
	var zero T
	rest, recs, ok := SplitPage(d, body, key)
	if !ok {
		return zero, nil, false
	}
	var t T
	if key != "" {
		var err error
		if t, err = DecodeJSON[T](rest, what); err != nil || *records(&t) != nil {
			return zero, nil, false
		}
	}
	return t, recs, true
}

// SplitPage is the fast path of DecodePage, for a source that decodes the
// rest of its page itself: it returns the page without its records member
// key (rest, an object; nil when key is "" and the page is the array), and
// the records (nil when the page has no key). ok is false for a page it
// does not handle exactly as encoding/json would (see DecodePage): the
// source then decodes the page the old way, and RawRecords makes its
// records. With d nil it allocates afresh.
func SplitPage(d *PageDecoder, body []byte, key string) (rest []byte, recs []RawRecord, ok bool) {
	if d == nil {
		d = new(PageDecoder)
	}
	// One pass over the page: the normalizer validates what it writes as
	// strictly as a JSON parser would (see value), so that a page it
	// accepts is valid JSON, and anything else goes the old way.
	n := &d.n
	n.omit = d.Omit
	n.out = slices.Grow(n.out[:0], len(body)+len(body)/16)
	n.top = n.top[:0]
	recs = d.recs[:0]
	defer func() { d.recs = recs[:0] }()
	seen := key == "" // the records array
	// readArray reads the records array at body[i] ('['); it returns the
	// index after it.
	readArray := func(i int) (int, bool) {
		i = skipSpace(body, i+1)
		if i < len(body) && body[i] == ']' {
			return i + 1, true
		}
		for {
			if i >= len(body) || body[i] != '{' {
				return i, false // not an object: decode the old way
			}
			from := len(n.out)
			mfrom := len(n.top)
			var ok bool
			if i, ok = n.object(body, i, 0); !ok {
				return i, false
			}
			n.out = append(n.out, '\n')
			for j := mfrom; j < len(n.top); j++ { // relative to the line
				n.top[j].keyFrom -= int32(from)
				n.top[j].keyTo -= int32(from)
				n.top[j].valTo -= int32(from)
			}
			recs = append(recs, RawRecord{line: n.out[from:len(n.out):len(n.out)], members: n.top[mfrom:len(n.top):len(n.top)]})
			if len(recs) == 1 {
				// Room for as many records as the page seems to hold.
				est := len(body)/max(i, 1) + 1
				recs = slices.Grow(recs, est)
				n.top = slices.Grow(n.top, est*len(n.top))
			}
			i = skipSpace(body, i)
			if i >= len(body) {
				return i, false
			}
			switch body[i] {
			case ']':
				return i + 1, true
			case ',':
				i = skipSpace(body, i+1)
			default:
				return i, false
			}
		}
	}
	i := skipSpace(body, 0)
	if i >= len(body) {
		return nil, nil, false
	}
	if key == "" {
		if body[i] != '[' {
			return nil, nil, false
		}
		if i, ok = readArray(i); !ok {
			return nil, nil, false
		}
	} else {
		if body[i] != '{' {
			return nil, nil, false
		}
		rest = append(rest, '{')
		i = skipSpace(body, i+1)
		for first := true; ; first = false {
			if i < len(body) && body[i] == '}' && first {
				break
			}
			// A member: its name, read into n.out and taken back.
			if i >= len(body) || body[i] != '"' {
				return nil, nil, false
			}
			mark := len(n.out)
			if i, ok = n.str(body, i); !ok {
				return nil, nil, false
			}
			name := n.out[mark+1 : len(n.out)-1]
			if bytes.IndexByte(name, '\\') >= 0 {
				return nil, nil, false // an escaped name: compare it the old way
			}
			i = skipSpace(body, i)
			if i >= len(body) || body[i] != ':' {
				return nil, nil, false
			}
			i = skipSpace(body, i+1)
			switch {
			case string(name) == key:
				n.out = n.out[:mark]
				if seen || i >= len(body) || body[i] != '[' {
					return nil, nil, false
				}
				if i, ok = readArray(i); !ok {
					return nil, nil, false
				}
				seen = true
			case strings.EqualFold(string(name), key):
				return nil, nil, false
			default:
				// Any other member is kept as sent, for DecodeJSON to
				// decode; the normalizer checks it (its output is dropped).
				if len(rest) > 1 {
					rest = append(rest, ',')
				}
				rest = append(rest, n.out[mark:]...)
				rest = append(rest, ':')
				from := i
				if i, ok = n.value(body, i, 1); !ok {
					return nil, nil, false
				}
				n.out = n.out[:mark]
				rest = append(rest, body[from:i]...)
			}
			i = skipSpace(body, i)
			if i >= len(body) {
				return nil, nil, false
			}
			if body[i] == '}' {
				break
			}
			if body[i] != ',' {
				return nil, nil, false
			}
			i = skipSpace(body, i+1)
		}
		i++ // the closing brace
		rest = append(rest, '}')
	}
	if skipSpace(body, i) != len(body) {
		return nil, nil, false
	}
	if !seen {
		recs = nil // as the old decode leaves the field: no records key
	} else if recs == nil {
		recs = []RawRecord{}
	}
	// The member slices were cut from n.top while it grew: point them at
	// its final array so that they do not keep the old ones alive.
	top := n.top
	off := 0
	for i := range recs {
		k := len(recs[i].members)
		recs[i].members = top[off : off+k : off+k]
		off += k
	}
	return rest, recs, true
}

// maxDepth is the nesting the fast path handles; deeper pages take the
// old path (encoding/json's limit is 10,000).
const maxDepth = 200

// normalizer writes JSON as encoding/json writes what it decodes to, and
// checks it on the way as strictly as a JSON parser: the grammar, numbers,
// literals, valid UTF-8, escapes, no control characters in strings. It
// returns false for anything invalid, and for valid JSON it does not write
// exactly (see DecodePage), so that the caller decodes the old way.
type normalizer struct {
	omit string // a key left out of every object (PageDecoder.Omit)
	out  []byte
	top  []member // the top-level members of each record, in key order
	mems []member // scratch: members of the objects being written
	tmp  []byte   // scratch for reordering members

	// order is the last record's keys as sent and the order that sorts
	// them: records of a page mostly have the same keys in the same order.
	order  keyOrder
	sorted []member // scratch: members in order
	perm   []int32  // scratch: sortMembers' order of a nested object
}

// keyOrder is a record's keys as sent, each followed by '"' (a key of the
// fast path holds no raw '"'), and perm, the index as sent of each key in
// sorted order; perm is empty when nothing is remembered.
type keyOrder struct {
	keys []byte
	perm []int32
}

// same reports whether mems has the remembered keys, in the same order.
func (k *keyOrder) same(out []byte, mems []member) bool {
	if len(mems) != len(k.perm) {
		return false
	}
	p := k.keys
	for _, m := range mems {
		key := out[m.keyFrom:m.keyTo]
		if len(p) <= len(key) || p[len(key)] != '"' || string(p[:len(key)]) != string(key) {
			return false
		}
		p = p[len(key)+1:]
	}
	return len(p) == 0
}

func skipSpace(in []byte, i int) int {
	for i < len(in) && (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' || in[i] == '\t') {
		i++
	}
	return i
}

// value writes the value at in[i:] (after white space) and returns the
// index after it; false: leave it to encoding/json.
func (n *normalizer) value(in []byte, i, depth int) (int, bool) {
	i = skipSpace(in, i)
	if i >= len(in) {
		return i, false
	}
	switch c := in[i]; {
	case c == '{':
		return n.object(in, i, depth)
	case c == '[':
		if depth >= maxDepth {
			return i, false
		}
		n.out = append(n.out, '[')
		i = skipSpace(in, i+1)
		if i < len(in) && in[i] == ']' {
			n.out = append(n.out, ']')
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = n.value(in, i, depth+1); !ok {
				return i, false
			}
			i = skipSpace(in, i)
			if i >= len(in) {
				return i, false
			}
			if in[i] == ']' {
				n.out = append(n.out, ']')
				return i + 1, true
			}
			if in[i] != ',' {
				return i, false
			}
			n.out = append(n.out, ',')
			i++
		}
	case c == '"':
		return n.str(in, i)
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if lit[0] == c && len(in)-i >= len(lit) && string(in[i:i+len(lit)]) == lit {
				n.out = append(n.out, lit...)
				return i + len(lit), true
			}
		}
		return i, false
	default: // a number: kept as written, as json.Number keeps it
		j, ok := number(in, i)
		if !ok {
			return i, false
		}
		n.out = append(n.out, in[i:j]...)
		return j, true
	}
}

// number returns the index after the JSON number at in[i], checked against
// the grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. What follows
// it is for the caller to check (a delimiter or white space).
func number(in []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(in) && in[i] == '-' {
		i++
	}
	switch {
	case i >= len(in):
		return i, false
	case in[i] == '0':
		i++
	case in[i] >= '1' && in[i] <= '9':
		i = digits(i + 1)
	default:
		return i, false
	}
	if i < len(in) && in[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

// object writes the object at in[i] with its members sorted by key, as
// encoding/json writes a map[string]any.
func (n *normalizer) object(in []byte, i, depth int) (int, bool) {
	if depth >= maxDepth {
		return i, false
	}
	start := len(n.out)
	n.out = append(n.out, '{')
	base := len(n.mems)
	defer func() { n.mems = n.mems[:base] }()
	i = skipSpace(in, i+1)
	sorted := true
	if i < len(in) && in[i] == '}' {
		i++
	} else {
		for {
			if i >= len(in) || in[i] != '"' {
				return i, false
			}
			memberStart := len(n.out)
			if len(n.mems) > base {
				n.out = append(n.out, ',')
			}
			kf := len(n.out) + 1
			var ok bool
			if i, ok = n.str(in, i); !ok {
				return i, false
			}
			kt := len(n.out) - 1
			if bytes.IndexByte(n.out[kf:kt], '\\') >= 0 {
				return i, false // escaped bytes would sort differently from the key
			}
			i = skipSpace(in, i)
			if i >= len(in) || in[i] != ':' {
				return i, false
			}
			n.out = append(n.out, ':')
			if i, ok = n.value(in, i+1, depth+1); !ok {
				return i, false
			}
			m := member{keyFrom: int32(kf), keyTo: int32(kt), valTo: int32(len(n.out))}
			if n.omit != "" && string(n.out[kf:kt]) == n.omit {
				n.out = n.out[:memberStart] // left out, as delete(m, omit) would
			} else {
				if len(n.mems) > base {
					p := n.mems[len(n.mems)-1]
					if c := bytes.Compare(n.out[p.keyFrom:p.keyTo], n.out[kf:kt]); c == 0 {
						return i, false
					} else if c > 0 {
						sorted = false
					}
				}
				n.mems = append(n.mems, m)
			}
			i = skipSpace(in, i)
			if i >= len(in) {
				return i, false
			}
			if in[i] == '}' {
				i++
				break
			}
			if in[i] != ',' {
				return i, false
			}
			i = skipSpace(in, i+1)
		}
	}
	n.out = append(n.out, '}')
	mems := n.mems[base:]
	if !sorted {
		out := n.out
		if depth == 0 && n.order.same(out, mems) {
			// The keys of the record before, in the same order: sort
			// them the same way (it had no duplicate key either).
			n.sorted = n.sorted[:0]
			for _, j := range n.order.perm {
				n.sorted = append(n.sorted, mems[j])
			}
			copy(mems, n.sorted)
		} else {
			perm := &n.perm // a nested object's order is not remembered
			if depth == 0 {
				n.order.keys = n.order.keys[:0]
				for _, m := range mems {
					n.order.keys = append(append(n.order.keys, out[m.keyFrom:m.keyTo]...), '"')
				}
				perm = &n.order.perm
			}
			var ok bool
			if *perm, ok = sortMembers(out, mems, (*perm)[:0]); !ok {
				return i, false // a duplicate key; perm is left empty
			}
		}
		// Rewrite the members in key order; the object keeps its length.
		n.tmp = append(n.tmp[:0], out[start+1:len(out)-1]...)
		w := start + 1
		for j, m := range mems {
			if j > 0 {
				out[w] = ','
				w++
			}
			from := int(m.keyFrom) - 1 - (start + 1) // the opening quote, in tmp
			to := int(m.valTo) - (start + 1)
			copy(out[w:], n.tmp[from:to])
			mems[j] = member{keyFrom: int32(w + 1), keyTo: int32(w + 1 + int(m.keyTo-m.keyFrom)), valTo: int32(w + to - from)}
			w += to - from
		}
	}
	if depth == 0 {
		n.top = append(n.top, mems...)
	}
	return i, true
}

// sortMembers sorts mems by key (bytes, as Go compares strings), appends
// to perm the index each had before, and reports false when two keys are
// equal. An object has few members, so an
// insertion sort on the keys' first eight bytes (then the whole key) is
// the fastest.
func sortMembers(out []byte, mems []member, perm []int32) ([]int32, bool) {
	type keyed struct {
		prefix uint64
		m      member
		idx    int32
	}
	var small [64]keyed
	ks := small[:0]
	if len(mems) > len(small) {
		ks = make([]keyed, 0, len(mems))
	}
	for _, m := range mems {
		var p uint64
		k := out[m.keyFrom:m.keyTo]
		for b := range 8 {
			p <<= 8
			if b < len(k) {
				p |= uint64(k[b])
			}
		}
		ks = append(ks, keyed{p, m, int32(len(ks))})
	}
	less := func(a, b *keyed) int {
		if a.prefix != b.prefix {
			if a.prefix < b.prefix {
				return -1
			}
			return 1
		}
		return bytes.Compare(out[a.m.keyFrom:a.m.keyTo], out[b.m.keyFrom:b.m.keyTo])
	}
	for i := 1; i < len(ks); i++ {
		x := ks[i]
		j := i
		for ; j > 0; j-- {
			c := less(&ks[j-1], &x)
			if c == 0 {
				return perm, false
			}
			if c < 0 {
				break
			}
			ks[j] = ks[j-1]
		}
		ks[j] = x
	}
	for i := range ks {
		mems[i] = ks[i].m
		perm = append(perm, ks[i].idx)
	}
	return perm, true
}

const hexDigits = "0123456789abcdef"

// plainASCII reports whether a JSON string holds c as it is and
// encoding/json writes it as it is: printable ASCII but '"' and '\\'.
// (A function, not a table: a table would be filled at start-up.)
func plainASCII(c byte) bool {
	return c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\'
}

// str writes the string at in[i] ('"') as encoding/json writes the Go
// string it decodes to (HTML escaping off).
func (n *normalizer) str(in []byte, i int) (int, bool) {
	n.out = append(n.out, '"')
	i++
	// Most strings need no change: printable ASCII up to the closing quote
	// is copied as it is.
	j := i
	for j < len(in) && plainASCII(in[j]) {
		j++
	}
	if j < len(in) && in[j] == '"' {
		n.out = append(n.out, in[i:j]...)
		n.out = append(n.out, '"')
		return j + 1, true
	}
	from := i
	i = j
	for i < len(in) {
		c := in[i]
		switch {
		case c == '"':
			n.out = append(n.out, in[from:i]...)
			n.out = append(n.out, '"')
			return i + 1, true
		case c < 0x20:
			return i, false // not valid JSON
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(in[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false // invalid UTF-8: encoding/json writes U+FFFD
			}
			if r == 0x2028 || r == 0x2029 {
				n.out = append(n.out, in[from:i]...)
				n.out = append(n.out, `\u202`...)
				n.out = append(n.out, hexDigits[r&0xF])
				from = i + size
			}
			i += size
		case c == '\\':
			n.out = append(n.out, in[from:i]...)
			if i+1 >= len(in) {
				return i, false
			}
			var r rune
			switch in[i+1] {
			case '"', '\\', '/':
				r = rune(in[i+1])
				i += 2
			case 'b':
				r, i = '\b', i+2
			case 'f':
				r, i = '\f', i+2
			case 'n':
				r, i = '\n', i+2
			case 'r':
				r, i = '\r', i+2
			case 't':
				r, i = '\t', i+2
			case 'u':
				var ok bool
				if r, ok = hex4(in, i+2); !ok {
					return i, false
				}
				i += 6
				if r >= 0xD800 && r < 0xE000 {
					lo, ok := hex4(in, i+2)
					if r >= 0xDC00 || !ok || in[i] != '\\' || in[i+1] != 'u' || lo < 0xDC00 || lo >= 0xE000 {
						return i, false // a lone surrogate: encoding/json writes U+FFFD
					}
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				}
			default:
				return i, false
			}
			n.out = appendRune(n.out, r)
			from = i
		default:
			i++
		}
	}
	return i, false
}

// appendRune writes r as encoding/json writes it inside a string.
func appendRune(b []byte, r rune) []byte {
	switch {
	case r == '"' || r == '\\':
		return append(b, '\\', byte(r))
	case r == '\b':
		return append(b, '\\', 'b')
	case r == '\f':
		return append(b, '\\', 'f')
	case r == '\n':
		return append(b, '\\', 'n')
	case r == '\r':
		return append(b, '\\', 'r')
	case r == '\t':
		return append(b, '\\', 't')
	case r < 0x20:
		return append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
	case r == 0x2028 || r == 0x2029:
		return append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
	}
	return utf8.AppendRune(b, r)
}

func hex4(in []byte, i int) (rune, bool) {
	if i+4 > len(in) {
		return 0, false
	}
	var r rune
	for _, c := range in[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
