package jobrunner

import (
	"net/http"
	"strings"
)

// NextLink returns the target of the first rel="next" link in h's Link
// headers (RFC 8288), as written (unresolved), or "" when there is none.
// Sources resolve it against the current URL and check its host before
// sending credentials there.
func NextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range splitLinks(v) {
			target, params, ok := strings.Cut(part, ";")
			target = strings.TrimSpace(target)
			if ok && strings.HasPrefix(target, "<") && strings.HasSuffix(target, ">") && isNext(params) {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links (not
// those inside <...>).
func splitLinks(v string) []string {
	var out []string
	depth, from := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, v[from:i])
				from = i + 1
			}
		}
	}
	return append(out, v[from:])
}

// isNext reports whether a link's parameters hold rel="next" (rel may list
// several relation types).
func isNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "rel") {
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				if strings.EqualFold(rel, "next") {
					return true
				}
			}
		}
	}
	return false
}
