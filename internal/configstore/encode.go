package configstore

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// encodeDocument writes doc as YAML. The connections list, which can hold
// thousands of entries, is written directly (yaml.v3's emitter takes over a
// second for 10,000 connections); settings go through yaml.v3. Every scalar
// is either plain, when that cannot be misread, or a double-quoted JSON
// string, which YAML reads back unchanged. TestEncodeRoundTrip and
// FuzzEncodeString hold this to yaml.v3's decoder.
func encodeDocument(doc *Document) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(256 + 320*len(doc.Connections))
	b.WriteString("# connctl configuration. Secrets are not kept here: they live in the OS keyring.\n")
	fmt.Fprintf(&b, "schema_version: %d\n", doc.SchemaVersion)
	if len(doc.Settings) > 0 {
		s, err := yaml.Marshal(map[string]any{"settings": doc.Settings})
		if err != nil {
			return nil, fmt.Errorf("encode settings: %w", err)
		}
		b.Write(s)
	}
	if len(doc.Connections) == 0 {
		b.WriteString("connections: []\n")
	} else {
		b.WriteString("connections:\n")
	}
	for i := range doc.Connections {
		c := &doc.Connections[i]
		b.WriteString("  - id: ")
		writeString(&b, c.ID)
		line(&b, "name", c.Name)
		line(&b, "connector", c.Connector)
		if c.Auth != "" {
			line(&b, "auth", c.Auth)
		}
		writeMap(&b, "    ", "fields", c.Fields)
		if len(c.Secrets) > 0 {
			b.WriteString("\n    secrets:")
			for _, s := range c.Secrets {
				b.WriteString("\n      - ")
				writeString(&b, s)
			}
		}
		if c.SecretBackend != "" {
			line(&b, "secret_backend", c.SecretBackend)
		}
		line(&b, "status", string(c.Status))
		if c.StatusReason != "" {
			line(&b, "status_reason", c.StatusReason)
		}
		if c.Account != "" {
			line(&b, "account", c.Account)
		}
		timeLine(&b, "created_at", c.CreatedAt)
		timeLine(&b, "updated_at", c.UpdatedAt)
		if c.AuthorizedAt != nil {
			timeLine(&b, "authorized_at", *c.AuthorizedAt)
		}
		if c.Unverified {
			b.WriteString("\n    unverified: true")
		}
		if o := c.OAuth; o != nil {
			b.WriteString("\n    oauth:")
			if len(o.Scopes) > 0 {
				b.WriteString("\n      scopes:")
				for _, s := range o.Scopes {
					b.WriteString("\n        - ")
					writeString(&b, s)
				}
			}
			if o.IssuedAt != nil {
				b.WriteString("\n      issued_at: ")
				b.WriteString(o.IssuedAt.Format(time.RFC3339Nano))
			}
			if o.ExpiresAt != nil {
				b.WriteString("\n      expires_at: ")
				b.WriteString(o.ExpiresAt.Format(time.RFC3339Nano))
			}
			for _, kv := range [][2]string{{"api_base", o.APIBase}, {"subject", o.Subject}, {"org", o.Org}} {
				if kv[1] != "" {
					b.WriteString("\n      " + kv[0] + ": ")
					writeString(&b, kv[1])
				}
			}
			writeMap(&b, "      ", "extra", o.Extra)
			if len(o.Scopes) == 0 && o.IssuedAt == nil && o.ExpiresAt == nil && o.APIBase == "" && o.Subject == "" && o.Org == "" && len(o.Extra) == 0 {
				b.WriteString(" {}")
			}
		}
		b.WriteByte('\n')
	}
	if len(doc.Jobs) > 0 {
		b.WriteString("jobs:\n")
	}
	for i := range doc.Jobs {
		j := &doc.Jobs[i]
		b.WriteString("  - id: ")
		writeString(&b, j.ID)
		line(&b, "name", j.Name)
		line(&b, "connection_id", j.ConnectionID)
		line(&b, "source", j.Source)
		writeMap(&b, "    ", "params", j.Params)
		line(&b, "dest", j.Dest)
		line(&b, "format", j.Format)
		line(&b, "mode", j.Mode)
		if j.Schedule != "" {
			line(&b, "schedule", j.Schedule)
		}
		if j.NotifyOn != "" {
			line(&b, "notify_on", j.NotifyOn)
		}
		timeLine(&b, "created_at", j.CreatedAt)
		timeLine(&b, "updated_at", j.UpdatedAt)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// writeMap writes a string map under key at indent, keys sorted so that the
// file is stable; nothing for an empty map.
func writeMap(b *bytes.Buffer, indent, key string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	b.WriteByte('\n')
	b.WriteString(indent)
	b.WriteString(key)
	b.WriteByte(':')
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteByte('\n')
		b.WriteString(indent)
		b.WriteString("  ")
		writeString(b, k)
		b.WriteString(": ")
		writeString(b, m[k])
	}
}

func line(b *bytes.Buffer, key, value string) {
	b.WriteString("\n    ")
	b.WriteString(key)
	b.WriteString(": ")
	writeString(b, value)
}

func timeLine(b *bytes.Buffer, key string, t time.Time) {
	b.WriteString("\n    ")
	b.WriteString(key)
	b.WriteString(": ")
	b.WriteString(t.Format(time.RFC3339Nano))
}

// plainSafe reports whether s can be written as a plain YAML scalar that
// reads back as the same string: a letter, then letters, digits and
// "_.@/+-" only (so it cannot end in a colon or hold " #"), and not a word
// YAML 1.1 or 1.2 readers turn into a boolean or null (yes, Off, NULL, ...).
// It is a byte loop, not a regular expression or a yaml.v3 round trip:
// encoding runs it on every value of every connection. FuzzPlainSafe holds
// it to yaml.v3's decoder.
func plainSafe(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '@' && c != '/' && c != '+' && c != '-' {
			return false
		}
	}
	if len(s) > 5 {
		return true // longer than every word below
	}
	for _, w := range yamlWords {
		if strings.EqualFold(s, w) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// yamlWords are plain scalars YAML 1.1 or 1.2 readers turn into booleans or
// null, in any case.
var yamlWords = [...]string{"y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf"}

func writeString(b *bytes.Buffer, s string) {
	if plainSafe(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case yamlPrintable(r):
			b.WriteRune(r)
		case r > 0xFFFF:
			fmt.Fprintf(b, `\U%08X`, r)
		default:
			fmt.Fprintf(b, `\u%04X`, r)
		}
	}
	b.WriteByte('"')
}

// yamlPrintable reports whether YAML allows r unescaped (YAML 1.2 §5.1,
// minus the byte order mark and NEL, which some readers mishandle).
func yamlPrintable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
