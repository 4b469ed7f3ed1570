package fieldkit

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAuthParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want map[string]string
		err  string
	}{
		{"", map[string]string{}, ""},
		{"access_type=offline&prompt=consent", map[string]string{"access_type": "offline", "prompt": "consent"}, ""},
		{"?audience=https%3A%2F%2Fapi.example.com", map[string]string{"audience": "https://api.example.com"}, ""},
		{"prompt=", map[string]string{"prompt": ""}, ""},
		{"prompt=login%20consent", map[string]string{"prompt": "login consent"}, ""},
		{"client_id=evil", nil, "auth_params may not set client_id (set client_id)"},
		{"Redirect_URI=http://evil", nil, "may not set Redirect_URI"},
		{"state=x", nil, "may not set state"},
		{"code_challenge=x", nil, "may not set code_challenge"},
		{"response_type=token", nil, "may not set response_type"},
		{"scope=all", nil, "may not set scope (set scopes)"},
		{"a=1&a=2", nil, "sets a 2 times"},
		{"a=%zz", nil, "is not a query string"},
		{"=x", nil, "without a name"},
	} {
		got, err := ParseAuthParams(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAuthParams(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseAuthParams(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
