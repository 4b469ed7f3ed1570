package configstore

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/connctl/connctl/internal/textsafe"
)

// checkFieldValues refuses a connection field (a URL, a domain, a client id)
// that holds a character a terminal would obey: a C0 or C1 control, DEL, a
// bidirectional override, a byte that is not UTF-8. connctl would send such
// a value to a provider or open it in a browser, so it refuses the file, as
// it refuses such a character in a name. raw is the file's text, for the
// line number (nil when checking a document about to be written).
func checkFieldValues(path string, raw []byte, doc *Document) error {
	for i := range doc.Connections {
		c := &doc.Connections[i]
		if fieldsSafe(c.Fields) {
			continue // the common case: no allocation, even for a huge file
		}
		keys := make([]string, 0, len(c.Fields))
		for k := range c.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			bad := firstUnsafe(k)
			if bad == "" {
				bad = firstUnsafe(c.Fields[k])
			}
			if bad == "" {
				continue
			}
			where, fix := path, "remove it"
			if n := fieldLine(raw, i, k); n > 0 {
				where, fix = fmt.Sprintf("%s:%d", path, n), "remove it from that line"
			}
			return fmt.Errorf("config file %s: connection %q field %s contains the control character %s: %s (connctl never sends or prints such a value)",
				where, c.Name, textsafe.Sanitize(k), bad, fix)
		}
	}
	return nil
}

func fieldsSafe(fields map[string]string) bool {
	for k, v := range fields {
		if !textsafe.Safe(k) || !textsafe.Safe(v) {
			return false
		}
	}
	return true
}

// firstUnsafe returns the first character of s a terminal would obey,
// shown as its escape (\x1b, \u0085), or "" when there is none.
func firstUnsafe(s string) string {
	if textsafe.Safe(s) {
		return ""
	}
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		if c := s[i : i+n]; !textsafe.Safe(c) {
			return textsafe.Sanitize(c)
		}
		i += n
	}
	return ""
}

// fieldLine is the line of connection conn's field key in raw, or 0.
func fieldLine(raw []byte, conn int, key string) int {
	if raw == nil {
		return 0
	}
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil || len(root.Content) == 0 {
		return 0
	}
	conns := mapValue(root.Content[0], "connections")
	if conns == nil || conns.Kind != yaml.SequenceNode || conn >= len(conns.Content) {
		return 0
	}
	if v := mapValue(mapValue(conns.Content[conn], "fields"), key); v != nil {
		return v.Line
	}
	return 0
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
