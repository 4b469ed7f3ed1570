package configstore

import (
	"bytes"
	"crypto/sha256"

	"go.yaml.in/yaml/v3"
)

// chunkedThreshold is the config size above which decodeChunked is tried.
// yaml.v3 builds a node tree of the whole document before it decodes, about
// 20 times the file's size (1.3 GB for a 50 MB config); decoding the
// connections one list item at a time keeps only one item's tree alive.
const chunkedThreshold = 1 << 20

// chunkSumLen is the length of a chunk's digest (SHA-256, truncated).
const chunkSumLen = 16

// chunkSum is the digest of one connection's lines as they are in the file:
// from its "  - " line up to the next item or the end of the block.
// decodeChunked decodes a connection from those lines alone, so equal lines
// decode to an equal Connection.
type chunkSum [chunkSumLen]byte

func sumChunk(b []byte) chunkSum {
	full := sha256.Sum256(b)
	return chunkSum(full[:chunkSumLen])
}

// decodeChunked decodes a config in the layout connctl itself writes (a
// top-level "connections:" block whose items start with "  - " and continue
// indented by four spaces) one connection at a time, and the rest of the
// file as a document whose connections list is empty. It reports false
// when the file is laid out otherwise or any piece does not decode (an
// alias to an anchor in another item, say): the caller then decodes the
// whole file, which also gives the error its line number. Both ways give
// the same Document for a file this accepts.
//
// It also returns each connection's chunk digest. A connection whose digest
// is in reuse (the parse of an earlier version of the file, from the parse
// cache) is taken from there instead of decoded: after a hand edit, only
// the connections whose lines changed are parsed again. Entries of reuse
// are consumed.
func decodeChunked(raw []byte, reuse map[chunkSum]*Connection) (Document, []chunkSum, bool) {
	doc, spans, ok := splitChunked(raw)
	if !ok {
		return Document{}, nil, false
	}
	conns := make([]Connection, 0, len(spans))
	sums := make([]chunkSum, len(spans))
	var item bytes.Buffer
	for i, span := range spans {
		sums[i] = sumChunk(span)
		if c, ok := reuse[sums[i]]; ok {
			delete(reuse, sums[i])
			conns = append(conns, *c)
			continue
		}
		item.Reset()
		itemText(&item, span)
		var c Connection
		if !decodeStrict(item.Bytes(), &c) {
			return Document{}, nil, false
		}
		conns = append(conns, c)
	}
	doc.Connections = conns
	return doc, sums, true
}

// splitChunked decodes raw, in the layout decodeChunked reads, without its
// connections (doc's list is empty, not nil), and returns the spans of the
// connections' items; false for another layout or a rest that does not
// decode.
func splitChunked(raw []byte) (doc Document, spans [][]byte, ok bool) {
	start, end, ok := connectionsBlock(raw)
	if !ok {
		return Document{}, nil, false
	}
	rest := make([]byte, 0, len(raw)-(end-start)+20)
	rest = append(rest, raw[:start]...)
	rest = append(rest, "connections: []\n"...)
	rest = append(rest, raw[end:]...)
	if !decodeStrict(rest, &doc) || len(doc.Connections) != 0 {
		return Document{}, nil, false
	}
	body := raw[start:end]
	body = body[bytes.IndexByte(body, '\n')+1:] // past "connections:"
	spans, ok = itemSpans(body)
	if !ok {
		return Document{}, nil, false
	}
	return doc, spans, true
}

// itemSpans splits the body of the connections block into its items, each
// from its "  - " line to the next one (blank and comment lines included).
// It reports false for a line that is neither (another layout).
func itemSpans(body []byte) ([][]byte, bool) {
	var spans [][]byte
	itemStart := -1
	for off := 0; off < len(body); {
		line := body[off:]
		next := len(body)
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i+1], off+i+1
		}
		switch {
		case bytes.HasPrefix(line, []byte("  - ")):
			if itemStart >= 0 {
				spans = append(spans, body[itemStart:off])
			}
			itemStart = off
		case bytes.HasPrefix(line, []byte("    ")):
			if itemStart < 0 {
				return nil, false
			}
		case isBlankOrComment(line):
		default:
			return nil, false
		}
		off = next
	}
	if itemStart >= 0 {
		spans = append(spans, body[itemStart:])
	}
	return spans, true
}

// itemText writes the YAML text of one item, its lines without their
// indent; blank and comment lines become empty lines (so that line numbers
// within the item stay as they were).
func itemText(item *bytes.Buffer, span []byte) {
	for len(span) > 0 {
		line := span
		if i := bytes.IndexByte(span, '\n'); i >= 0 {
			line, span = span[:i+1], span[i+1:]
		} else {
			span = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("  - ")), bytes.HasPrefix(line, []byte("    ")):
			item.Write(line[4:])
		default: // blank or comment, as itemSpans checked
			item.WriteByte('\n')
		}
	}
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

// chunkSums returns the chunk digests decodeChunked would compute for raw
// (nil when it would not read raw one connection at a time).
func chunkSums(raw []byte) []chunkSum {
	if len(raw) < chunkedThreshold {
		return nil
	}
	start, end, ok := connectionsBlock(raw)
	if !ok {
		return nil
	}
	body := raw[start:end]
	body = body[bytes.IndexByte(body, '\n')+1:]
	spans, ok := itemSpans(body)
	if !ok {
		return nil
	}
	sums := make([]chunkSum, len(spans))
	for i, span := range spans {
		sums[i] = sumChunk(span)
	}
	return sums
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
