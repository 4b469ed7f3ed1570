// Package textsafe makes text that came from outside connctl (a provider's
// answer, a file someone else wrote) safe to store for display and to print:
// a character that a terminal would obey instead of show (ESC starting a
// title change or a screen clear, BEL, a carriage return or backspace that
// overwrites what was printed, a C1 control, a bidirectional override that
// reorders text) is replaced by a visible escape such as \x1b or \u202e.
//
// Remote strings are cleaned once where they enter connctl (who-am-I
// answers, OAuth error redirects, quoted error bodies) and again at the
// output choke points (tables, the final error line), so that text from a
// source nobody remembered to clean still cannot reach the terminal raw.
// JSON output needs neither: encoding/json escapes control characters.
//
// Printable text of every script survives unchanged (accents, CJK, emoji),
// and cleaning is idempotent: the escapes are themselves printable.
package textsafe

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Sanitize returns s with every terminal control shown as a visible escape:
// C0 controls including tab, newline and carriage return (\t, \n, \r, else
// \xNN), DEL (\x7f), C1 controls U+0080–U+009F (\u0085), the bidirectional
// and line-separator formatting characters (\u202e), and bytes that are not
// UTF-8 (\xNN, since a terminal in an 8-bit mode reads 0x9b as CSI). The
// result is one line.
func Sanitize(s string) string { return clean(s, false) }

// SanitizeLayout is Sanitize keeping tabs and newlines, for output whose
// layout the user asked for (jq string results, templates): every other
// control is escaped, including the carriage return, which can overwrite a
// line already printed.
func SanitizeLayout(s string) string { return clean(s, true) }

// sgr matches a colour (Select Graphic Rendition) sequence: it changes how
// text looks, never where it goes or what the terminal does.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// SanitizeKeepColor is SanitizeLayout leaving colour sequences (ESC [ … m)
// as they are, for text connctl coloured itself (terminal table cells,
// confirmations with a check mark). Every other escape sequence (titles,
// cursor moves, screen clears, hyperlinks, clipboard writes) is shown
// escaped.
func SanitizeKeepColor(s string) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range sgr.FindAllStringIndex(s, -1) {
		b.WriteString(SanitizeLayout(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(SanitizeLayout(s[last:]))
	return b.String()
}

// Safe reports whether s has nothing Sanitize would change.
func Safe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || unsafeRune(r) {
			return false
		}
		i += n
	}
	return true
}

// unsafeRune reports a non-ASCII rune a terminal may act on: C1 controls,
// and the formatting characters that reorder or break text (bidirectional
// marks, embeddings, overrides and isolates; the line and paragraph
// separators).
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x2028 && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func clean(s string, keepLayout bool) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 0x20 && c != 0x7f:
				b.WriteByte(c)
			case keepLayout && (c == '\t' || c == '\n'):
				b.WriteByte(c)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			default:
				fmt.Fprintf(&b, `\x%02x`, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, c)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// JSON returns the JSON text b with the characters encoding/json leaves raw
// but a terminal may act on (DEL, C1 controls, bidirectional and line
// separator formatting) written as \uXXXX escapes: the same JSON value,
// safe to print. (encoding/json escapes C0 controls itself and has already
// replaced bytes that are not UTF-8.) Outside strings JSON text is ASCII, so
// only string contents change.
func JSON(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				out = append(append(out, b[last:i]...), `\u007f`...)
				last = i + 1
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if unsafeRune(r) {
			out = append(append(out, b[last:i]...), fmt.Sprintf(`\u%04x`, r)...)
			last = i + n
		}
		i += n
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// ListMax is how many items List names before it counts the rest.
const ListMax = 5

// List joins items with sep for a one-line message, naming at most
// ListMax of them and counting the rest ("a, b, c, d, e and 9995 more"),
// so that a message about many connections stays one readable line.
func List(items []string, sep string) string {
	if len(items) <= ListMax {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:ListMax], sep) + fmt.Sprintf(" and %d more", len(items)-ListMax)
}
