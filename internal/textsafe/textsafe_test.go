package textsafe

import (
	"encoding/json"
	"strings"
	"testing"
)

// hostile are the inputs every cleaning function must neutralise. Each is a
// way remote text has of acting on a terminal instead of being shown.
var hostile = []struct {
	name, in, want string
}{
	{"title change (OSC 0, BEL)", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
	{"screen clear (CSI 2J)", "\x1b[2J", `\x1b[2J`},
	{"terminal reset (RIS)", "a\x1bcb", `a\x1bcb`},
	{"hyperlink (OSC 8)", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", `\x1b]8;;https://evil.example\x1b\click\x1b]8;;\x1b\`},
	{"clipboard write (OSC 52)", "\x1b]52;c;cm0gLXJmIH4=\x07", `\x1b]52;c;cm0gLXJmIH4=\x07`},
	{"carriage return overwrite", "alice@example.org\radmin", `alice@example.org\radmin`},
	{"backspace overwrite", "root\b\b\b\bguest", `root\x08\x08\x08\x08guest`},
	{"bell", "ding\a", `ding\x07`},
	{"NUL", "a\x00b", `a\x00b`},
	{"DEL", "a\x7fb", `a\x7fb`},
	{"newline", "line1\nline2", `line1\nline2`},
	{"tab", "a\tb", `a\tb`},
	{"C1 CSI (U+009B)", "a\u009b2Jb", `a\u009b2Jb`},
	{"C1 NEL (U+0085)", "a\u0085b", `a\u0085b`},
	{"C1 OSC (U+009D)", "\u009d0;pwned\u009c", `\u009d0;pwned\u009c`},
	{"bare 8-bit CSI byte", "a\x9b2Jb", `a\x9b2Jb`},
	{"right-to-left override", "invoice\u202efdp.exe", `invoice\u202efdp.exe`},
	{"left-to-right override", "a\u202db", `a\u202db`},
	{"right-to-left isolate", "a\u2067b\u2069", `a\u2067b\u2069`},
	{"right-to-left mark", "a\u200fb", `a\u200fb`},
	{"arabic letter mark", "a\u061cb", `a\u061cb`},
	{"line separator", "a\u2028b", `a\u2028b`},
	{"invalid UTF-8", "a\xffb", `a\xffb`},
}

// kept is text of many scripts that must survive unchanged.
var kept = []string{
	"",
	"alice@example.org",
	"José Müller-Lüdenscheidt",
	"Zoë Ångström, Łódź",
	"山田太郎 (東京)",
	"김철수",
	"Ελληνικά и русский",
	"עברית ومرحبا", // right-to-left scripts themselves are text, not controls
	"emoji 🎉👩‍💻🇯🇵",
	"a\\x1b is a backslash escape, not an escape",
	"U+FFFD: \uFFFD",
	"zero width joiner in 👩‍👩‍👧",
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Sanitize(tc.in)
			if got != tc.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !Safe(got) {
				t.Errorf("Sanitize(%q) = %q is not Safe", tc.in, got)
			}
			if Safe(tc.in) {
				t.Errorf("Safe(%q) = true", tc.in)
			}
			if again := Sanitize(got); again != got {
				t.Errorf("Sanitize is not idempotent: %q then %q", got, again)
			}
		})
	}
	for _, s := range kept {
		if got := Sanitize(s); got != s {
			t.Errorf("Sanitize(%q) = %q, want it unchanged", s, got)
		}
		if !Safe(s) {
			t.Errorf("Safe(%q) = false", s)
		}
	}
}

func TestSanitizeLayout(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"a\tb\nc", "a\tb\nc"},
		{"a\r\nb", `a\r` + "\nb"},
		{"\x1b]0;pwned\x07\n", `\x1b]0;pwned\x07` + "\n"},
		{"山田\t🎉\n", "山田\t🎉\n"},
		{"x\u202ey", `x\u202ey`},
	}
	for _, tc := range cases {
		if got := SanitizeLayout(tc.in); got != tc.want {
			t.Errorf("SanitizeLayout(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range hostile {
		if got := SanitizeLayout(tc.in); strings.ContainsAny(got, "\x1b\a\r\b\x00\x7f\u009b\u202e") {
			t.Errorf("SanitizeLayout(%q) = %q keeps a control", tc.in, got)
		}
	}
}

func TestSanitizeKeepColor(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"\x1b[32mauthorized\x1b[0m", "\x1b[32mauthorized\x1b[0m"},
		{"\x1b[1;31mfailed\x1b[m", "\x1b[1;31mfailed\x1b[m"},
		{"\x1b[32m\x1b]0;pwned\x07ok\x1b[0m", "\x1b[32m" + `\x1b]0;pwned\x07` + "ok\x1b[0m"},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"a\rb", `a\rb`},
		{"Müller 🎉", "Müller 🎉"},
		{"two\tcolumns\nand lines", "two\tcolumns\nand lines"},
	}
	for _, tc := range cases {
		if got := SanitizeKeepColor(tc.in); got != tc.want {
			t.Errorf("SanitizeKeepColor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range hostile {
		raw, err := json.Marshal(map[string]string{"v": tc.in})
		if err != nil {
			t.Fatal(err)
		}
		got := JSON(raw)
		if !Safe(string(got)) {
			t.Errorf("JSON(%s) = %q keeps a control", raw, got)
		}
		var back map[string]string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("JSON(%s) = %s is not JSON: %v", raw, got, err)
		}
		var want map[string]string
		_ = json.Unmarshal(raw, &want)
		if back["v"] != want["v"] {
			t.Errorf("JSON changed the value: %q, want %q", back["v"], want["v"])
		}
	}
	for _, s := range kept {
		raw, _ := json.Marshal(s)
		if got := JSON(raw); string(got) != string(raw) {
			t.Errorf("JSON(%s) = %s, want it unchanged", raw, got)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	items := []string{`"a"`, `"b"`, `"c"`, `"d"`, `"e"`, `"f"`, `"g"`}
	for _, tc := range []struct {
		n    int
		sep  string
		want string
	}{
		{0, ", ", ``},
		{1, ", ", `"a"`},
		{5, ", ", `"a", "b", "c", "d", "e"`},
		{6, "; ", `"a"; "b"; "c"; "d"; "e" and 1 more`},
		{7, ", ", `"a", "b", "c", "d", "e" and 2 more`},
	} {
		if got := List(items[:tc.n], tc.sep); got != tc.want {
			t.Errorf("List(%d items) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
