package jobrunner

import (
	"net/http"
	"testing"
)

// RFC 8288 section 3: links separated by commas, parameters by semicolons,
// rel may list several types; a comma inside <...> is part of the target.
func TestNextLink(t *testing.T) {
	for _, tc := range []struct {
		links []string
		want  string
	}{
		{nil, ""},
		{[]string{`<https://a.example/x?page=2>; rel="next"`}, "https://a.example/x?page=2"},
		{[]string{`<https://a.example/x?page=1>; rel="prev", <https://a.example/x?page=3>; rel="next"`}, "https://a.example/x?page=3"},
		{[]string{`</x?ids=1,2,3&page=2>; rel="next"`}, "/x?ids=1,2,3&page=2"},
		{[]string{`<https://a.example/last>; rel="last"`, `<https://a.example/n>; REL="last next"`}, "https://a.example/n"},
		{[]string{`<https://a.example/n>; rel=next`}, "https://a.example/n"},
		{[]string{`https://a.example/n; rel="next"`}, ""},
		{[]string{`<https://a.example/n>`}, ""},
	} {
		if got := NextLink(http.Header{"Link": tc.links}); got != tc.want {
			t.Errorf("NextLink(%q) = %q, want %q", tc.links, got, tc.want)
		}
	}
}
