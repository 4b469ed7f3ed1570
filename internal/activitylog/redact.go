package activitylog

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// redacted replaces whatever Redact and the scrubber remove.
const redacted = "[redacted]"

// Redact returns msg without the given secret values, in any of the forms
// they travel in: as is, JSON-escaped, URL-encoded (query and path), and
// base64 (standard and URL alphabets, padded or not), including inside a longer
// base64 text such as an HTTP Basic "user:secret" credential. Empty secrets
// are ignored. Callers pass the connection's secrets before handing an error
// message to Finish or Record; the store also scrubs what looks like a
// credential, but it cannot know the values.
func Redact(msg string, secrets ...string) string {
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s))
		if j, err := json.Marshal(s); err == nil {
			forms = append(forms, string(j[1:len(j)-1]))
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			forms = append(forms, enc.EncodeToString([]byte(s)))
			forms = append(forms, base64Cores(enc, []byte(s))...)
		}
	}
	// Longest first, so that a form containing another goes whole.
	slices.SortFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	forms = slices.Compact(forms)
	for _, f := range forms {
		if f != "" {
			msg = strings.ReplaceAll(msg, f, redacted)
		}
	}
	return msg
}

// base64Cores returns, for each of the three alignments secret can have inside
// a longer base64 text, the characters that depend on secret's bits only:
// they appear in the encoding of any text that contains secret at that
// alignment. Cores shorter than 8 characters are left out, as they would
// match too much.
func base64Cores(enc *base64.Encoding, secret []byte) []string {
	var cores []string
	for k := range 3 {
		buf := make([]byte, k+len(secret))
		copy(buf[k:], secret)
		e := enc.WithPadding(base64.NoPadding).EncodeToString(buf)
		// Character i holds bits [6i, 6i+6); the secret holds [8k, 8k+8n).
		first := (8*k + 5) / 6
		last := (8*(k+len(secret)))/6 - 1
		if last >= len(e) {
			last = len(e) - 1
		}
		if last-first+1 >= 8 {
			cores = append(cores, e[first:last+1])
		}
	}
	return cores
}

// secretPattern is a credential's shape and what replaces it.
type secretPattern struct {
	re   *regexp.Regexp
	repl string
}

// secretPatterns find what looks like a credential in a message, whoever
// wrote it: the store applies them to every message and change value. They
// are compiled on first use, not at every start of connctl.
var secretPatterns = sync.OnceValue(func() []secretPattern {
	return []secretPattern{
		// A PEM private key, up to its END line or the end of the message.
		{regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`), redacted},
		// A JSON Web Token.
		{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), redacted},
		// A password in a URL: scheme://user:password@host.
		{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@:]*:[^/\s@]*@`), "${1}" + redacted + "@"},
		// An Authorization header, whatever the scheme.
		{regexp.MustCompile(`(?i)\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:[a-z0-9-]+\s+)?[^\s"',;]+`), "${1}" + redacted},
		// A bearer token anywhere.
		{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`), "${1}" + redacted},
		// key=value, key: value and "key":"value" where the key names a secret
		// (refresh_token, client_secret, X-Amz-Signature, aws_secret_access_key…).
		{regexp.MustCompile(`(?i)(^|[^a-z0-9_.-])([a-z0-9_.-]*(?:token|secret|password|passwd|passphrase|pwd|api[_-]?key|apikey|private[_-]?key|signature|credentials?|assertion)(?:[_-](?:access[_-])?key)?|sig|code_verifier)(["']?\s*[:=]\s*["']?)([^\s"'&,;)}\]]+)`), "${1}${2}${3}" + redacted},
	}
})

func scrub(s string) string {
	for _, p := range secretPatterns() {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// oneLine turns s into valid UTF-8 on one line: control and line-separator
// characters become spaces, runs of spaces one space, and bidirectional
// overrides (which can make a line read differently from what it holds) go.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			return -1
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// cut shortens s to MaxMessage characters, the last being "…" when cut.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= MaxMessage {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxMessage-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// cleanMessage is what the store keeps of a message.
func cleanMessage(s string) string { return cut(scrub(oneLine(s))) }

// secretField reports whether a field name says it holds a secret.
func secretField(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"secret", "password", "passwd", "passphrase", "token", "apikey", "api_key", "api-key", "private_key", "privatekey", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// cleanChanges keeps no value of a secret change (one marked Secret, or whose
// field is named like a secret) and cleans the other values like messages.
func cleanChanges(in []Change) ([]Change, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]Change, 0, len(in))
	for _, c := range in {
		c.Field = oneLine(c.Field)
		if c.Field == "" {
			return nil, fmt.Errorf("a change needs a field name")
		}
		if c.Secret || secretField(c.Field) {
			out = append(out, Change{Field: c.Field, Secret: true})
			continue
		}
		c.Old, c.New = cleanMessage(c.Old), cleanMessage(c.New)
		out = append(out, c)
	}
	return out, nil
}

// CleanMessage is what the log does to every message before storing it:
// one line, at most MaxMessage characters, with what looks like a
// credential scrubbed. Notifications clean their reasons with it too.
func CleanMessage(s string) string { return cleanMessage(s) }
