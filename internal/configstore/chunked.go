package configstore

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// chunkedThreshold is the config size above which decodeChunked is tried.
// yaml.v3 builds a node tree of the whole document before it decodes, about
// 20 times the file's size (1.3 GB for a 50 MB config); decoding the
// connections one list item at a time keeps only one item's tree alive.
const chunkedThreshold = 1 << 20

// decodeChunked decodes a config in the layout connctl itself writes (a
// top-level "connections:" block whose items start with "  - " and continue
// indented by four spaces) one connection at a time, and the rest of the
// file as a document whose connections list is empty. It reports false
// when the file is laid out otherwise or any piece does not decode (an
// alias to an anchor in another item, say): the caller then decodes the
// whole file, which also gives the error its line number. Both ways give
// the same Document for a file this accepts.
func decodeChunked(raw []byte) (Document, bool) {
	start, end, ok := connectionsBlock(raw)
	if !ok {
		return Document{}, false
	}
	rest := make([]byte, 0, len(raw)-(end-start)+20)
	rest = append(rest, raw[:start]...)
	rest = append(rest, "connections: []\n"...)
	rest = append(rest, raw[end:]...)
	var doc Document
	if !decodeStrict(rest, &doc) || len(doc.Connections) != 0 {
		return Document{}, false
	}
	var conns []Connection
	var item bytes.Buffer
	flush := func() bool {
		if item.Len() == 0 {
			return true
		}
		var c Connection
		if !decodeStrict(item.Bytes(), &c) {
			return false
		}
		conns = append(conns, c)
		item.Reset()
		return true
	}
	body := raw[start:end]
	body = body[bytes.IndexByte(body, '\n')+1:] // past "connections:"
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i+1], body[i+1:]
		} else {
			body = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("  - ")):
			if !flush() {
				return Document{}, false
			}
			item.Write(line[4:])
		case bytes.HasPrefix(line, []byte("    ")):
			if item.Len() == 0 {
				return Document{}, false
			}
			item.Write(line[4:])
		case isBlankOrComment(line):
			if item.Len() > 0 {
				item.WriteByte('\n')
			}
		default:
			return Document{}, false
		}
	}
	if !flush() {
		return Document{}, false
	}
	doc.Connections = conns
	return doc, true
}

// connectionsBlock finds the top-level "connections:" line and the end of
// its block (the next line that starts a top-level key).
func connectionsBlock(raw []byte) (start, end int, ok bool) {
	start = -1
	for off := 0; off < len(raw); {
		line := raw[off:]
		next := len(raw)
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		line = bytes.TrimRight(line, " \r")
		switch {
		case bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || bytes.HasPrefix(line, []byte("%")):
			return 0, 0, false // several documents or directives: leave it to yaml.v3
		case start < 0 && string(line) == "connections:":
			start = off
		case start >= 0 && len(line) > 0 && line[0] != ' ' && line[0] != '#':
			return start, off, true
		}
		off = next
	}
	return start, len(raw), start >= 0
}

func isBlankOrComment(line []byte) bool {
	t := bytes.TrimLeft(line, " ")
	return len(bytes.TrimSpace(t)) == 0 || t[0] == '#'
}

func decodeStrict(b []byte, v any) bool {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v) == nil
}
