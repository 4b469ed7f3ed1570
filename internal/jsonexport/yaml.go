package jsonexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/connctl/connctl/internal/textsafe"
)

// marshalYAML writes data as YAML with the JSON field names and the JSON field
// order: data goes through encoding/json first, and the YAML tree is built
// from the JSON tokens (a map would lose the order).
func marshalYAML(data any) ([]byte, error) {
	raw, err := marshalCompact(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	node, err := yamlNode(dec)
	if err != nil {
		return nil, fmt.Errorf("convert json to yaml: %w", err)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return b.Bytes(), nil
}

// yamlNode reads one JSON value from dec and returns it as a YAML node.
func yamlNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		node := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if t == '{' {
			node.Kind, node.Tag = yaml.MappingNode, "!!map"
		}
		for dec.More() {
			if node.Kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				node.Content = append(node.Content, yamlString(key.(string)))
			}
			child, err := yamlNode(dec)
			if err != nil {
				return nil, err
			}
			node.Content = append(node.Content, child)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return node, nil
	case string:
		return yamlString(t), nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected json token %v", tok)
}

// yamlString is a string scalar that reads back as a string: the encoder
// quotes values such as "123", "true", "null" and, for YAML 1.1 readers, "yes".
// Terminal controls are shown escaped first (package textsafe): the YAML
// encoder escapes C0 and C1 controls itself but writes bidirectional
// overrides as they are.
func yamlString(s string) *yaml.Node {
	s = textsafe.SanitizeLayout(s)
	var n yaml.Node
	if err := n.Encode(s); err != nil {
		// Encoding a Go string cannot fail; keep a plain tagged scalar regardless.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	}
	return &n
}
