package fieldkit

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/connctl/connctl/internal/connector"
)

// reservedAuthParams are the authorization request parameters connctl sets
// itself: a connection's auth_params may not replace them, since they carry
// the flow's security (PKCE, state, nonce, the loopback redirect) or have a
// field of their own (scope).
var reservedAuthParams = map[string]string{
	"client_id":             "set client_id",
	"redirect_uri":          "set redirect_uri",
	"response_type":         "connctl always asks for a code",
	"state":                 "connctl makes one per authorization",
	"code_challenge":        "connctl makes one per authorization (PKCE)",
	"code_challenge_method": "connctl always uses S256",
	"nonce":                 "connctl makes one per authorization",
	"scope":                 "set scopes",
	"client_secret":         "a secret never goes in the browser's URL",
	"code_verifier":         "the verifier never goes in the browser's URL",
	"response_mode":         "connctl receives the code in the query",
	"request":               "connctl does not send request objects",
	"request_uri":           "connctl does not send request objects",
}

// ParseAuthParams reads an auth_params value, a URL query such as
// "access_type=offline&prompt=consent", into the extra parameters to send
// with the authorization request. An empty value (prompt=) means "send no
// such parameter". It refuses the parameters connctl sets itself and
// repeated names.
func ParseAuthParams(v string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(v) == "" {
		return out, nil
	}
	q, err := url.ParseQuery(strings.TrimPrefix(strings.TrimSpace(v), "?"))
	if err != nil {
		return nil, fmt.Errorf("auth_params %q is not a query string: write name=value pairs joined by &, such as access_type=offline&prompt=consent", v)
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch why, reserved := reservedAuthParams[strings.ToLower(k)]; {
		case k == "":
			return nil, fmt.Errorf("auth_params %q has a parameter without a name: write name=value pairs joined by &", v)
		case reserved:
			return nil, fmt.Errorf("auth_params may not set %s (%s): remove it from auth_params", k, why)
		case len(q[k]) > 1:
			return nil, fmt.Errorf("auth_params sets %s %d times: give it once", k, len(q[k]))
		}
		out[k] = q[k][0]
	}
	return out, nil
}

// AuthParams is the auth_params field: extra parameters for the
// authorization request, as a query string.
func AuthParams() connector.Field {
	return connector.Field{
		Name:  "auth_params",
		Label: "Authorization parameters",
		Help: "extra authorization request parameters as a query string (access_type=offline, prompt=consent, " +
			"audience=...); an empty value (prompt=) stops connctl sending that parameter",
		Example:  "access_type=offline&prompt=consent",
		Validate: func(v string) error { _, err := ParseAuthParams(v); return err },
	}
}
